/// Commands on API keys, which need `keys:manage`.
extension State {
    /// Create a key; the caller keeps the secret whose hash it stores.
    public func createKey(
        id: ID<APIKey>, name: String, scopes: [Scope], personID: ID<Person>?, secretHash: String, now: Timestamp,
        by principal: Principal
    ) throws(DomainError) -> Changed<APIKey> {
        try Authorization.require(.keysManage, of: principal, in: self, to: "create API keys")
        let name = try Validate.name(name, field: "name")
        if let personID, people[personID] == nil {
            throw DomainError(
                .unprocessable(field: "person_id"), "person_id \(personID) is not a person of this organization.")
        }
        var unique: [Scope] = []
        for scope in scopes where !unique.contains(scope) { unique.append(scope) }
        let key = APIKey(
            id: id, name: name, scopes: unique, personID: personID, secretHash: secretHash, createdAt: now,
            revokedAt: nil)
        return Changed(.keyCreated, key)
    }

    /// Revoke a key: it stops authenticating at once, in every session.
    public func revokeKey(id: ID<APIKey>, now: Timestamp, by principal: Principal) throws(DomainError)
        -> Changed<APIKey>
    {
        try Authorization.require(.keysManage, of: principal, in: self, to: "revoke API keys")
        guard var key = keys[id] else { throw DomainError.notFound("API key", id.text) }
        guard key.isActive else {
            throw DomainError(.conflict, "The API key \(id) was already revoked at \(key.revokedAt!).")
        }
        key.revokedAt = now
        return Changed(.keyRevoked, key)
    }

    /// Every key, oldest first.
    public func listKeys(by principal: Principal) throws(DomainError) -> [APIKey] {
        try Authorization.require(.keysManage, of: principal, in: self, to: "list API keys")
        return keys.inCreationOrder
    }
}
