/// The one organization a data directory holds.
public struct Organization: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "org"

    /// Organization-wide settings.
    public struct Settings: Sendable, Equatable {
        /// How many peer responses a feedback summary needs before it shows anything (default 1).
        public var feedbackMinimumResponses: Int = 1
        /// Whether a summary must be approved before it is shared (default false).
        public var summaryReviewWorkflow: Bool = false

        /// The default settings.
        public init(feedbackMinimumResponses: Int = 1, summaryReviewWorkflow: Bool = false) {
            self.feedbackMinimumResponses = feedbackMinimumResponses
            self.summaryReviewWorkflow = summaryReviewWorkflow
        }
    }

    public var id: ID<Organization>
    public var name: String
    public var settings: Settings
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// An organization.
    public init(id: ID<Organization>, name: String, settings: Settings, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.name = name
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A person of the organization: an employee, a lead, a manager, a head or an executive.
public struct Person: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "emp"

    /// The access level, as the Performance API names them.
    public enum Role: String, Sendable, CaseIterable, Comparable {
        case employee, lead, manager, head, executive

        public static func < (lhs: Role, rhs: Role) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var id: ID<Person>
    public var name: String
    public var email: String
    public var role: Role
    public var managerID: ID<Person>?
    public var squad: String?
    public var reviewTemplateID: String?
    public var isAdmin: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// A person.
    public init(
        id: ID<Person>, name: String, email: String, role: Role, managerID: ID<Person>?, squad: String?,
        reviewTemplateID: String?, isAdmin: Bool, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.managerID = managerID
        self.squad = squad
        self.reviewTemplateID = reviewTemplateID
        self.isAdmin = isAdmin
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A permission an API key may carry.
public enum Scope: String, Sendable, CaseIterable, Hashable {
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
}

/// An API key. Only the SHA-256 of its secret is kept; the secret itself is shown once, at creation.
public struct APIKey: Identified, Sendable, Equatable {
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
}
