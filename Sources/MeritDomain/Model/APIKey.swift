/// A permission an API key may carry.
public enum Scope: String, FieldEnumeration, Hashable {
    case viewPerformance = "view:performance"
    case updatePerformance = "update:performance"
    case managePerformance = "manage:performance"
    case summariesRead = "summaries:read"
    case summariesWrite = "summaries:write"
    case directoryRead = "directory:read"
    case directoryWrite = "directory:write"
    case keysManage = "keys:manage"
    case eventsRead = "events:read"
    case actAs = "act_as"

    /// Hashed by case, not by name (which a raw-value enum would otherwise hash): every request asks its key's set
    /// of scopes for one.
    public func hash(into hasher: inout Hasher) {
        let ordinal =
            switch self {
            case .viewPerformance: 0
            case .updatePerformance: 1
            case .managePerformance: 2
            case .summariesRead: 3
            case .summariesWrite: 4
            case .directoryRead: 5
            case .directoryWrite: 6
            case .keysManage: 7
            case .eventsRead: 8
            case .actAs: 9
            }
        hasher.combine(ordinal)
    }
}

/// An API key. Only the SHA-256 of its secret is kept; the secret itself is shown once, at creation.
public struct APIKey: TableRow {
    public static let idPrefix: StaticString = "key"

    public var id: ID<APIKey>
    public var name: String
    public var scopes: [Scope]
    public var personID: ID<Person>?
    /// Lower-case hex SHA-256 of the secret.
    public var secretHash: String
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    /// A key.
    public init(
        id: ID<APIKey>, name: String, scopes: [Scope], personID: ID<Person>?, secretHash: String,
        createdAt: Timestamp, revokedAt: Timestamp?
    ) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.personID = personID
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Whether the key still authenticates.
    public var isActive: Bool { revokedAt == nil }

    /// The API never shows the secret, nor its hash.
    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("name", name)
        encoder.encode("scopes", scopes)
        encoder.encode("person_id", personID)
        encoder.encode(.stored("secret_sha256"), secretHash)
        encoder.encode("created_at", createdAt)
        encoder.encode("revoked_at", revokedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), name: try decoder.decode("name"),
            scopes: try decoder.decode("scopes", default: []), personID: try decoder.decode("person_id"),
            secretHash: try decoder.decode(.stored("secret_sha256")), createdAt: try decoder.decode("created_at"),
            revokedAt: try decoder.decode("revoked_at"))
    }

    /// Keys by the hash of their secret, for authentication.
    public struct Indexes: TableIndexes {
        public private(set) var bySecretHash: [String: ID<APIKey>] = [:]

        public init() {}

        public mutating func insert(_ key: APIKey) { bySecretHash[key.secretHash] = key.id }
        public mutating func remove(_ key: APIKey) { bySecretHash[key.secretHash] = nil }
        public static func keysDiffer(_ old: APIKey, _ new: APIKey) -> Bool { old.secretHash != new.secretHash }
        public mutating func reserveCapacity(_ rows: Int) { bySecretHash.reserveCapacity(rows) }
    }
}
