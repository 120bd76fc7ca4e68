import MeritDomain
import MeritJSON
import MeritRPC

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
                let known = Scope.allCases.map(\.rawValue).joined(separator: ", ")
                throw DomainError.invalid("scopes[\(offset)]", "is '\(scopeName)', which is not one of \(known)")
            }
            scopes.append(scope)
        }
        let person = try personID.map { text throws(DomainError) in
            try parseID(text, as: Person.self, field: "person_id")
        }
        try server.require(.keysManage, to: "create API keys")
        let secret = APIKeySecret.make(server.engine.randomBytes(20))
        let change = try server.engine.state.createKey(
            id: server.engine.newID(), name: name, scopes: scopes, personID: person,
            secretHash: SHA256.hexDigest(secret), now: server.engine.now)
        try server.record([change])
        guard case .keyCreated(let key) = change else { throw RPCError.internalError("keys.create made no key") }
        var result = key.json.objectValue ?? JSONObject()
        result["key"] = .string(secret)
        return .object(result)
    }

    static let list = Method("keys.list", access: .authenticated) { server, params in
        try params.finish()
        try server.require(.keysManage, to: "list API keys")
        let state = server.engine.state
        return ["data": .array(state.keyOrder.compactMap { state.keys[$0]?.json })]
    }

    static let revoke = Method("keys.revoke", access: .authenticated) { server, params in
        let id = try parseID(try params.required("id", as: String.self), as: APIKey.self, field: "id")
        try params.finish()
        try server.require(.keysManage, to: "revoke API keys")
        let change = try server.engine.state.revokeKey(id: id, now: server.engine.now)
        try server.record([change])
        guard case .keyRevoked(let key) = change else { throw RPCError.internalError("keys.revoke revoked nothing") }
        return key.json
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

/// Parse an id of `type` from a field, or throw a validation error naming the field.
func parseID<Entity>(_ text: String, as type: Entity.Type, field: String) throws(DomainError) -> ID<Entity> {
    guard let id = ID<Entity>(text) else {
        throw DomainError.invalid(field, "must be an id of the form \(Entity.idPrefix)_<26 characters>, not '\(text)'")
    }
    return id
}
