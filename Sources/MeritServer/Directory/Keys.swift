import MeritDomain
import MeritJSON

/// `keys.create`, `keys.list`, `keys.revoke`: API keys, which need `keys:manage`.
enum KeyMethods {
    static let all: [Method] = [create, list, revoke]

    static let create = Method("keys.create", access: .authenticated) { server, params in
        let name = try params.required("name", as: String.self)
        let scopeNames = try params.required("scopes", as: [String].self)
        let personID = try params.optional("person_id", as: String.self)
        try params.finish()
        var scopes: [Scope] = []
        for (offset, scopeName) in scopeNames.enumerated() {
            guard let scope = Scope(rawValue: scopeName) else {
                throw DomainError.invalid("scopes[\(offset)]", "is '\(scopeName)', which is not one of \(Scope.names)")
            }
            scopes.append(scope)
        }
        let person = try personID.map { text throws(DomainError) in
            try parseID(text, as: Person.self, field: "person_id")
        }
        let engine = server.engine
        let secret = APIKeySecret.make(engine.randomBytes(20))
        let key = try server.record { state in
            try state.createKey(
                id: engine.newID(), name: name, scopes: scopes, personID: person, secretHash: SHA256.hexDigest(secret),
                now: engine.now, by: server.requestPrincipal)
        }
        var result = key.json.objectValue ?? JSONObject()
        result["key"] = .string(secret)
        return .object(result)
    }

    static let list = Method("keys.list", access: .authenticated) { server, params in
        try params.finish()
        return [
            "data": .array(
                try server.withState { state in try state.listKeys(by: server.requestPrincipal) }.map(\.json))
        ]
    }

    static let revoke = Method("keys.revoke", access: .authenticated) { server, params in
        let id: ID<APIKey> = try params.id("id")
        try params.finish()
        let engine = server.engine
        return try server.record { state in try state.revokeKey(id: id, now: engine.now, by: server.requestPrincipal) }
            .json
    }
}

/// The secret of an API key: `mk_` and 32 Crockford base-32 characters (160 random bits).
enum APIKeySecret {
    static func make(_ bytes: [UInt8]) -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var characters: [Character] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                characters.append(alphabet[Int(buffer >> UInt32(bits) & 31)])
            }
        }
        return "mk_" + String(characters)
    }
}

extension APIKey: ServedResource {
    static var methods: [Method] { KeyMethods.all }
}
