/// Who a request runs as: an API key, its scopes, and the acting person if there is one.
public struct Principal: Sendable, Equatable {
    /// The key that authenticated the session.
    public var keyID: ID<APIKey>
    /// The key's scopes.
    public var scopes: Set<Scope>
    /// The acting person: the key's person, or the one named by `_meta.actor`; `nil` for an integration key
    /// that acts as nobody.
    public var personID: ID<Person>?

    /// A principal.
    public init(keyID: ID<APIKey>, scopes: Set<Scope>, personID: ID<Person>?) {
        self.keyID = keyID
        self.scopes = scopes
        self.personID = personID
    }

    /// The principal for `key`.
    public init(key: APIKey) {
        self.init(keyID: key.id, scopes: Set(key.scopes), personID: key.personID)
    }

    /// The id recorded as the actor of the events it causes: the person, else the key.
    public var actorID: String { personID?.text ?? keyID.text }

    /// Whether the key carries `scope`.
    public func has(_ scope: Scope) -> Bool { scopes.contains(scope) }
}
