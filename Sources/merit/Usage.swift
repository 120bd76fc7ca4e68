/// The help texts, one per command.
enum Usage {
    static let overview = """
        merit — a performance-review engine that speaks JSON-RPC 2.0 over stdio.

        Usage: merit <command> [options]

        Commands:
          serve      Serve JSON-RPC on stdin/stdout, one message per line.
          demo       Run a real session end to end against a temporary data directory.
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

    static let demo = """
        Usage: merit demo

        Spawn `merit serve` on a temporary data directory, drive a real session over its stdio as a client
        would, and print every line sent (→) and received (←).
        """

    static func text(for command: String) -> String? {
        switch command {
        case "serve": return serve
        case "demo": return demo
        case "help": return overview
        default: return nil
        }
    }
}
