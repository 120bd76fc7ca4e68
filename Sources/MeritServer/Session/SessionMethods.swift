import MeritDomain
import MeritJSON
import MeritRPC

/// `initialize`, `rpc.discover`, `shutdown`, `exit` and `$/ping`: the methods that work before authentication.
enum SessionMethods {
    static let all: [Method] = [initialize, discover, shutdown, exit, ping]

    static let initialize = Method("initialize", access: .session) { server, params in
        let protocolVersion = try params.optional("protocol_version", as: String.self)
        if let client = try params.nested("client_info") {
            var client = client
            let name = try client.required("name", as: String.self)
            let version = try client.optional("version", as: String.self) ?? ""
            try client.finish()
            server.clientInfo = (name, version)
        }
        let apiKey = try params.optional("api_key", as: String.self)
        try params.finish()
        _ = protocolVersion
        if let apiKey {
            guard let key = server.engine.state.activeKey(secretHash: SHA256.hexDigest(apiKey)) else {
                server.authenticatedKey = nil
                throw RPCError(
                    .authenticationRequired,
                    "The api_key is not a valid key of this data directory (unknown or revoked).")
            }
            server.authenticatedKey = key.id
        }
        let state = server.engine.state
        let key = server.authenticatedKey.flatMap { state.keys[$0] }
        let principal: JSON =
            key.map { key in
                [
                    "key_id": JSON(key.id), "name": .string(key.name), "scopes": JSON(key.scopes.map(\.rawValue)),
                    "person_id": JSON(key.personID),
                ]
            } ?? .null
        return [
            "protocol_version": .string(MeritVersion.protocolVersion),
            "server_info": ["name": "merit", "version": .string(MeritVersion.current)],
            "capabilities": [
                "batch": true,
                "max_line_bytes": .int(Int64(server.configuration.maximumLineBytes)),
            ],
            "organization": state.organization.map { ["id": JSON($0.id), "name": .string($0.name)] } ?? .null,
            "principal": principal,
        ]
    }

    static let discover = Method("rpc.discover", access: .session) { _, params in
        try params.finish()
        return OpenRPCDocument.value
    }

    static let shutdown = Method("shutdown", access: .session) { server, params in
        try params.finish()
        server.phase = .shuttingDown
        return .null
    }

    static let exit = Method("exit", access: .session) { server, params in
        try params.finish()
        server.phase = .exiting
        return .null
    }

    static let ping = Method("$/ping", access: .session) { _, params in
        try params.finish()
        return .object(JSONObject())
    }
}

/// The OpenRPC document served by `rpc.discover`, parsed once from the bytes embedded at build time.
enum OpenRPCDocument {
    static let value: JSON = {
        do {
            return try JSONParser.parse(openRPCDocumentBytes)
        } catch {
            // The document is checked by the test suite, so this is a build defect, not a user error.
            return ["error": .string("the embedded OpenRPC document does not parse: \(error)")]
        }
    }()
}
