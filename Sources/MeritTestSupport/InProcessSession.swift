import MeritDomain
import MeritJSON
import MeritLog
import MeritRPC
import MeritServer

/// A server driven in-process through the real dispatcher, on an in-memory file system that can fail and crash:
/// lines in, response lines out, no pipes.
public final class InProcessSession {
    /// The simulated file system holding the data directory.
    public let fileSystem: SimulatedFileSystem
    /// The data directory's path on it.
    public let directory = "/data"
    /// The admin key `merit init` made.
    public private(set) var apiKey = ""
    /// The organization's id.
    public private(set) var organizationID = ""
    /// The server.
    public private(set) var server: Server
    private var dispatcher: Dispatcher
    private let configuration: ServerConfiguration
    private var nextID: Int64 = 1

    /// A session on a freshly initialized organization; authenticated with the admin key when asked.
    public init(
        configuration: ServerConfiguration = ServerConfiguration(
            frozenClock: Timestamp(rfc3339: "2026-04-15T09:00:00Z"), seed: 1),
        authenticated: Bool = true, fileSystem: SimulatedFileSystem = SimulatedFileSystem()
    ) throws {
        self.fileSystem = fileSystem
        self.configuration = configuration
        let created = try Administration.initialize(
            directory: directory, organizationName: "Acme", frozenClock: configuration.frozenClock,
            seed: configuration.seed, diagnostics: configuration.diagnostics, fileSystem: fileSystem)
        apiKey = created.apiKey
        organizationID = created.organizationID
        var serverConfiguration = configuration
        if authenticated { serverConfiguration.environmentAPIKey = created.apiKey }
        server = try Server(configuration: serverConfiguration, dataDirectory: directory, fileSystem: fileSystem)
        dispatcher = Dispatcher(handler: server)
    }

    /// Simulate a crash (everything not durable is lost) and start a new server on what remains.
    public func crashAndRestart(authenticated: Bool = true) throws {
        server.close()
        fileSystem.crash()
        var serverConfiguration = configuration
        if authenticated { serverConfiguration.environmentAPIKey = apiKey }
        server = try Server(configuration: serverConfiguration, dataDirectory: directory, fileSystem: fileSystem)
        dispatcher = Dispatcher(handler: server)
    }

    /// Send lines as one group (one commit) and return every output line, parsed.
    public func send(lines: [String]) -> [JSON] {
        for line in lines { receive(line) }
        return written(seal())
    }

    /// Handle one line as part of the current group, without ending it.
    public func receive(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
    }

    /// End the current group as the connection does when it pipelines commits: its responses are written later
    /// (`written(_:)`), and the lines received meanwhile are served on top of its changes, not yet durable. Write
    /// every sealed group, in order, before anything that waits for them (`send`, `events.list`, a snapshot,
    /// `crashAndRestart`), or from another thread while it waits.
    public func seal() -> OutgoingGroup {
        dispatcher.seal()
    }

    /// Make a sealed group durable and return its output lines, parsed: groups in the order they were sealed.
    public func written(_ group: OutgoingGroup) -> [JSON] {
        var writer = JSONWriter()
        group.write(into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONParser.parse(String($0))
        }
    }

    /// The request line for `method`.
    public func requestLine(_ method: String, _ params: JSON? = nil) -> String {
        let id = nextID
        nextID += 1
        var request: JSONObject = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        return JSON.object(request).jsonText
    }

    /// Call `method` and return its whole response object.
    public func call(_ method: String, _ params: JSON? = nil) -> JSON {
        send(lines: [requestLine(method, params)]).first ?? .null
    }

    /// Call `method` and return its result, or throw its error.
    public func result(_ method: String, _ params: JSON? = nil) throws -> JSON {
        let response = call(method, params)
        guard let result = response["result"] else { throw TranscriptError(message: "\(method) failed: \(response)") }
        return result
    }
}
