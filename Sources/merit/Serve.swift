import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// `merit serve`: JSON-RPC on stdin/stdout until end of input or `exit`.
enum Serve {
    static func run(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "serve", usage: Usage.serve)
        let options = try CommonOptions.read(&reader, environment: environment)
        var maximumLineBytes = Connection<FileDescriptorInput, FileDescriptorOutput>.defaultMaximumLineBytes
        if let text = try reader.value("--max-line-bytes") {
            guard let value = Int(text), value > 0 else {
                throw reader.error("--max-line-bytes must be a positive integer, not '\(text)'")
            }
            maximumLineBytes = value
        }
        try reader.finish()

        let diagnostics = Diagnostics(level: options.logLevel)
        defer { diagnostics.drain() }
        guard DataCommands.directoryExists(options.dataDirectory) else {
            writeError("Create it with: merit init --org NAME --data \(options.dataDirectory)")
            return 1
        }
        let server: Server
        do {
            server = try Server(
                configuration: ServerConfiguration(
                    frozenClock: options.frozenClock, seed: options.seed, maximumLineBytes: maximumLineBytes,
                    diagnostics: diagnostics, environmentAPIKey: environment["MERIT_API_KEY"]),
                dataDirectory: options.dataDirectory)
        } catch {
            writeError("merit: error: \(error)")
            return 1
        }
        defer { server.close() }
        guard server.organizationName != nil else {
            writeError(
                "merit: error: \(options.dataDirectory) holds no organization; create one with: "
                    + "merit init --org NAME --data \(options.dataDirectory)")
            return 1
        }
        // stdout belongs to the protocol alone: keep a private descriptor for it, then point descriptor 1 at
        // stderr so that a stray print from anywhere lands in the log instead of corrupting the stream.
        let protocolDescriptor = dup(1)
        guard protocolDescriptor >= 0, dup2(2, 1) >= 0 else {
            diagnostics.log(.error, "cannot set up standard output: \(String(cString: strerror(errno)))")
            return 1
        }
        if environment["MERIT_TEST_STRAY_OUTPUT"] != nil {
            // A test hook: proves that output from a careless print cannot reach the protocol stream.
            print("stray output that must land on stderr")
            fflush(nil)
        }
        if isatty(0) == 1 {
            diagnostics.log(
                .error,
                """
                serving JSON-RPC 2.0 on stdin/stdout, one message per line. Type a request such as \
                {"jsonrpc":"2.0","id":1,"method":"$/ping"} and press Enter; rpc.discover lists every method. \
                End with Ctrl-D. Programs normally spawn 'merit serve' with pipes instead (see README.md).
                """)
        }
        var connection = Connection(
            handler: server, input: FileDescriptorInput(descriptor: 0),
            output: FileDescriptorOutput(descriptor: protocolDescriptor), maximumLineBytes: maximumLineBytes)
        do {
            try connection.run()
        } catch {
            diagnostics.log(.error, "stopped serving: \(error)")
            return 1
        }
        return 0
    }
}
