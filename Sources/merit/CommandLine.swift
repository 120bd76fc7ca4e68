import MeritDomain
import MeritRPC

/// A mistake on the command line: the message, and the usage to show with it.
struct UsageError: Error {
    var message: String
    var usage: String
}

/// Reads `--name value` and `--name=value` options and positional arguments, refusing anything unknown.
struct ArgumentReader {
    private(set) var arguments: [String]
    let command: String
    let usage: String

    init(_ arguments: [String], command: String, usage: String) {
        self.arguments = arguments
        self.command = command
        self.usage = usage
    }

    /// The value of `--name`, removing it from the arguments; a second occurrence is an error.
    mutating func value(_ name: String) throws(UsageError) -> String? {
        var found: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            var value: String?
            if argument == name {
                guard index + 1 < arguments.count else { throw error("\(name) needs a value") }
                value = arguments[index + 1]
                arguments.removeSubrange(index...index + 1)
            } else if argument.hasPrefix(name + "=") {
                value = String(argument.dropFirst(name.count + 1))
                arguments.remove(at: index)
            } else {
                index += 1
                continue
            }
            if found != nil { throw error("\(name) was given more than once") }
            found = value
        }
        return found
    }

    /// Whether the flag `--name` is present, removing it.
    mutating func flag(_ name: String) -> Bool {
        let before = arguments.count
        arguments.removeAll { $0 == name }
        return arguments.count != before
    }

    /// Fail on whatever was not consumed.
    func finish() throws(UsageError) {
        if let first = arguments.first {
            throw error(first.hasPrefix("-") ? "unknown option '\(first)'" : "unexpected argument '\(first)'")
        }
    }

    func error(_ message: String) -> UsageError {
        UsageError(message: "\(message) for '\(command)'", usage: usage)
    }
}

/// Options every command that opens a data directory shares, read from flags then the environment.
struct CommonOptions {
    var dataDirectory: String
    var frozenClock: Timestamp?
    var seed: UInt64?
    var logLevel: Diagnostics.Level

    static func read(_ reader: inout ArgumentReader, environment: [String: String]) throws(UsageError)
        -> CommonOptions
    {
        let data = try reader.value("--data") ?? environment["MERIT_DATA"] ?? "./.merit"
        var clock: Timestamp?
        if let text = try reader.value("--clock") ?? environment["MERIT_CLOCK"] {
            guard let parsed = Timestamp(rfc3339: text) else {
                throw reader.error("--clock must be an RFC 3339 timestamp such as 2026-04-15T00:00:00Z, not '\(text)'")
            }
            clock = parsed
        }
        var seed: UInt64?
        if let text = try reader.value("--seed") ?? environment["MERIT_SEED"] {
            guard let parsed = UInt64(text) else {
                throw reader.error("--seed must be a non-negative integer, not '\(text)'")
            }
            seed = parsed
        }
        var level = Diagnostics.Level.warning
        if let text = try reader.value("--log-level") ?? environment["MERIT_LOG_LEVEL"] {
            guard let parsed = Diagnostics.Level(name: text) else {
                let names = Diagnostics.Level.allCases.map(\.name).joined(separator: ", ")
                throw reader.error("--log-level must be one of \(names), not '\(text)'")
            }
            level = parsed
        }
        return CommonOptions(dataDirectory: data, frozenClock: clock, seed: seed, logLevel: level)
    }
}
