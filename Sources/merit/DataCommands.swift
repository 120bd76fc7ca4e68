import MeritJSON
import MeritLog
import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// `merit init`, `merit verify`, `merit repair` and `merit compact`: the data directory's life outside serving.
enum DataCommands {
    static func initialize(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "init", usage: Usage.initialize)
        guard let name = try reader.value("--org") else { throw reader.error("--org NAME is required") }
        let json = reader.flag("--json")
        let options = try CommonOptions.read(&reader, environment: environment)
        try reader.finish()
        let diagnostics = Diagnostics(level: options.logLevel)
        defer { diagnostics.drain() }
        do {
            let created = try Administration.initialize(
                directory: options.dataDirectory, organizationName: name, frozenClock: options.frozenClock,
                seed: options.seed, diagnostics: diagnostics)
            if json {
                let result: JSON = [
                    "organization_id": .string(created.organizationID), "api_key": .string(created.apiKey),
                ]
                writeOutput(result.jsonText)
            } else {
                writeOutput(
                    """
                    Created the organization '\(created.organizationName)' (\(created.organizationID)) in \
                    \(options.dataDirectory).

                    Its admin API key has every scope. It is shown only this once; store it now:

                        \(created.apiKey)

                    Serve with:  MERIT_API_KEY=\(created.apiKey) merit serve --data \(options.dataDirectory)
                    """)
            }
            return 0
        } catch {
            writeError("merit: error: \(error)")
            return 1
        }
    }

    static func verify(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "verify", usage: Usage.verify)
        let options = try CommonOptions.read(&reader, environment: environment)
        try reader.finish()
        guard directoryExists(options.dataDirectory) else { return 1 }
        let report = LogInspector.verify(directory: options.dataDirectory)
        for line in report.summary { writeOutput(line) }
        writeOutput(report.isHealthy ? "healthy" : "damaged: run merit repair --data \(options.dataDirectory)")
        return report.isHealthy ? 0 : 1
    }

    static func repair(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "repair", usage: Usage.repair)
        let options = try CommonOptions.read(&reader, environment: environment)
        try reader.finish()
        guard directoryExists(options.dataDirectory) else { return 1 }
        do {
            let report = try LogInspector.repair(directory: options.dataDirectory)
            for line in report.summary { writeOutput(line) }
            return 0
        } catch {
            writeError("merit: error: \(error)")
            return 1
        }
    }

    static func compact(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "compact", usage: Usage.compact)
        let options = try CommonOptions.read(&reader, environment: environment)
        try reader.finish()
        guard directoryExists(options.dataDirectory) else { return 1 }
        let diagnostics = Diagnostics(level: options.logLevel)
        defer { diagnostics.drain() }
        do {
            let result = try Administration.compact(directory: options.dataDirectory, diagnostics: diagnostics)
            writeOutput(
                "Wrote a snapshot of \(options.dataDirectory) covering log record \(result.sequence) "
                    + "(\(result.events) events); start-up now replays nothing before it.")
            return 0
        } catch {
            writeError("merit: error: \(error)")
            return 1
        }
    }

    /// Whether `path` is a directory; says so on stderr when it is not.
    static func directoryExists(_ path: String) -> Bool {
        var status = stat()
        if stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR { return true }
        writeError("merit: error: \(path) is not a data directory (it does not exist)")
        return false
    }
}
