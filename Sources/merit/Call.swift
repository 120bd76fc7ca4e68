import MeritJSON
import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// `merit call METHOD [PARAMS-JSON]`: one request from the shell, answered on stdout (the result as JSON) or on
/// stderr (the error), with an exit status that says what kind of failure it was.
enum Call {
    /// The exit status for each kind of failure; 0 is success.
    enum Status {
        /// A command-line mistake (the usual sysexits code).
        static let usage: Int32 = 64
        /// The params or the request are invalid: `validation_error`, `parse_error`, `invalid_request`.
        static let validation: Int32 = 65
        /// No such method, or no such thing visible: `method_not_found`, `not_found`.
        static let notFound: Int32 = 66
        /// No valid key: `authentication_required` (set `MERIT_API_KEY`).
        static let authentication: Int32 = 77
        /// Anything else: permission, conflict, unprocessable, storage, internal, or no data directory.
        static let other: Int32 = 1
    }

    static func run(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "call", usage: Usage.call)
        let options = try CommonOptions.read(&reader, environment: environment)
        let pretty = reader.flag("--pretty")
        var positional = reader.arguments.filter { !$0.hasPrefix("--") }
        guard let method = positional.first else { throw reader.error("METHOD is required") }
        positional.removeFirst()
        var params: JSON?
        if let text = positional.first {
            guard let value = try? JSONParser.parse(text), case .object = value else {
                throw reader.error("PARAMS-JSON must be a JSON object such as '{\"id\":\"emp_…\"}', not '\(text)'")
            }
            params = value
            positional.removeFirst()
        }
        reader = ArgumentReader(
            reader.arguments.filter { $0.hasPrefix("--") } + positional, command: "call", usage: Usage.call)
        try reader.finish()

        let diagnostics = Diagnostics(level: options.logLevel)
        defer { diagnostics.drain() }
        guard DataCommands.directoryExists(options.dataDirectory) else { return Status.other }
        let server: Server
        do {
            server = try Server(
                configuration: ServerConfiguration(
                    frozenClock: options.frozenClock, seed: options.seed, diagnostics: diagnostics,
                    environmentAPIKey: environment["MERIT_API_KEY"]),
                dataDirectory: options.dataDirectory)
        } catch {
            writeError("merit call: \(error)")
            return Status.other
        }
        defer { server.close() }
        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = params }
        var dispatcher = Dispatcher(handler: server)
        dispatcher.receive(.object(request))
        var output = JSONWriter()
        dispatcher.flush(into: &output)
        guard let response = try? JSONParser.parse(Array(output.bytes.dropLast())) else {
            writeError("merit call: no answer to \(method)")
            return Status.other
        }
        if let result = response["result"] {
            writeOutput(pretty || isatty(1) == 1 ? PrettyJSON.text(result) : result.jsonText)
            return 0
        }
        let error = response["error"] ?? .null
        let code = error["data"]?["code"]?.stringValue ?? "internal_error"
        var text = "merit call: \(method) failed (\(code)): \(error["message"]?.stringValue ?? "no message")"
        for detail in error["data"]?["details"]?.arrayValue ?? [] {
            text += "\n  \(detail["field"]?.stringValue ?? ""): \(detail["problem"]?.stringValue ?? "")"
        }
        if code == "authentication_required" && environment["MERIT_API_KEY"] == nil {
            text += "\n  set MERIT_API_KEY to a key of this data directory (merit init prints the admin key)"
        }
        writeError(text)
        switch code {
        case "validation_error", "parse_error", "invalid_request": return Status.validation
        case "not_found", "method_not_found": return Status.notFound
        case "authentication_required": return Status.authentication
        default: return Status.other
        }
    }
}

/// JSON indented for people: two spaces a level, one member or element a line.
enum PrettyJSON {
    static func text(_ value: JSON, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let elements) where !elements.isEmpty:
            return "[\n" + elements.map { inner + text($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let object) where !object.isEmpty:
            let members = object.members.map { key, member in
                inner + JSON.string(key).jsonText + ": " + text(member, indent: inner)
            }
            return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.jsonText
        }
    }
}
