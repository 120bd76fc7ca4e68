import MeritJSON
import MeritRPC
import MeritServer

/// A server driven in-process through the real dispatcher: lines in, response lines out, no pipes.
public final class InProcessSession {
    /// The server.
    public let server: Server
    private var dispatcher: Dispatcher
    private var nextID: Int64 = 1

    /// A session on a server with `configuration`.
    public init(configuration: ServerConfiguration = ServerConfiguration()) {
        server = Server(configuration: configuration)
        dispatcher = Dispatcher(handler: server)
    }

    /// Send lines as one group (one commit) and return every output line, parsed.
    public func send(lines: [String]) -> [JSON] {
        for line in lines {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        }
        var writer = JSONWriter()
        dispatcher.flush(into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONParser.parse(String($0))
        }
    }

    /// Call `method` and return its whole response object.
    public func call(_ method: String, _ params: JSON? = nil) -> JSON {
        let id = nextID
        nextID += 1
        var request: JSONObject = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        return send(lines: [JSON.object(request).jsonText]).first ?? .null
    }
}
