/// The help texts, one per command.
enum Usage {
    static let overview = """
        merit — a performance-review engine that speaks JSON-RPC 2.0 over stdio.

        Usage: merit <command> [options]

        Commands:
          serve      Serve JSON-RPC on stdin/stdout, one message per line.
          demo       Run a real session end to end against a temporary data directory.
          init       Create the organization and its admin API key in a data directory.
          verify     Check a data directory's log and snapshots; change nothing.
          repair     Keep the valid part of a damaged log and move the rest aside.
          compact    Write a snapshot so that start-up replays less.
          call       Send one request from the shell: merit call people.list '{"role":"manager"}'.
          help       Show this help, or a command's: merit help serve.

        Options:
          --version  Print the version and exit.
          --help     Show this help.

        Environment: MERIT_DATA (data directory), MERIT_API_KEY (authenticates the session),
        MERIT_CLOCK (frozen clock), MERIT_SEED (reproducible ids), MERIT_LOG_LEVEL.
        Protocol reference: Protocol/README.md, or the rpc.discover method.
        """

    static let serve = """
        Usage: merit serve [--data DIR] [--clock TIMESTAMP] [--seed N] [--max-line-bytes N] [--log-level LEVEL]

        Serve JSON-RPC 2.0 on stdin/stdout, one message per line; logs go to stderr.

        Options:
          --data DIR            The data directory (default: $MERIT_DATA, else ./.merit).
          --clock TIMESTAMP     Freeze "now", e.g. 2026-04-15T00:00:00Z (default: $MERIT_CLOCK, else real time).
          --seed N              Make ids and shuffles reproducible (default: $MERIT_SEED, else random).
          --max-line-bytes N    The longest request line accepted (default: 16777216).
          --log-level LEVEL     error, warning, info or debug (default: warning).
        """

    static let call = """
        Usage: merit call METHOD [PARAMS-JSON] [--data DIR] [--pretty] [--clock TIMESTAMP] [--seed N]

        Send one JSON-RPC request to the data directory and print the result as JSON on stdout (indented on a
        terminal or with --pretty), or the error on stderr. The key comes from MERIT_API_KEY. The directory must
        not be served by another process at the same time.

        Exit status: 0 success, 64 usage, 65 invalid params or request (validation_error), 66 not found
        (not_found, method_not_found), 77 authentication (authentication_required), 1 anything else.

        Example:
          MERIT_API_KEY=mk_… merit call people.create '{"name":"Ada","email":"ada@example.org","role":"manager"}'
        """

    static let demo = """
        Usage: merit demo [--wire]

        Play a quarter of performance reviews through a real merit serve, as a client in any language would: make a
        temporary data directory, spawn `merit serve` on it with pipes and drive it with JSON-RPC lines. The story:
        a company of 33 people and a review template, a cycle, reviews with their KPI snapshot, live events, peer
        feedback and its anonymized summary, self-assessment, ratings with pass/fail, the next quarter's goal
        outcomes and history, a manager's summary shared with its employee, action items, and the event feed read
        with a watermark. It prints the story as sentences and tables, and removes the directory at the end.

        Options:
          --wire    Also print every JSON-RPC line sent (→) and received (←), event notifications included.

        Exit status: 0 when every step went as told; 1, with the failing request on stderr, otherwise.
        """

    static let initialize = """
        Usage: merit init --org NAME [--data DIR] [--json] [--clock TIMESTAMP] [--seed N]

        Create the organization NAME in the data directory (created if missing) with an admin API key that has
        every scope, and print the key once. Fails if the directory already holds an organization.

        Options:
          --org NAME         The organization's name (required).
          --data DIR         The data directory (default: $MERIT_DATA, else ./.merit).
          --json             Print {"organization_id", "api_key"} instead of prose.
          --clock, --seed    As for serve: reproducible ids, timestamps and key (for test harnesses only).
        """

    static let verify = """
        Usage: merit verify [--data DIR]

        Check every segment and snapshot of the data directory and report what is found; change nothing.
        Exits 0 when the directory is healthy or only has a torn tail (which the next start cuts off), 1 for any
        other damage.
        """

    static let repair = """
        Usage: merit repair [--data DIR]

        Keep the longest valid prefix of a damaged log and move everything after it into DIR/aside/, saying how
        much was dropped. Run merit verify first; stop every merit serve on the directory.
        """

    static let compact = """
        Usage: merit compact [--data DIR]

        Write a snapshot of the state, so that start-up loads it and replays only what follows, and delete the
        log segments no snapshot needs any more.
        """

    static func text(for command: String) -> String? {
        switch command {
        case "init": return initialize
        case "verify": return verify
        case "repair": return repair
        case "compact": return compact
        case "call": return call
        case "serve": return serve
        case "demo": return demo
        case "help": return overview
        default: return nil
        }
    }
}
