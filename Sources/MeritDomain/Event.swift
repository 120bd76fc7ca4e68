/// A change to the organization, as recorded in the log and published in the event feed.
///
/// Each change carries the whole resource after the change, so applying it is an upsert and the feed's `data`
/// is the resource as the contract asks.
public enum Change: Sendable, Equatable {
    case organizationCreated(Organization)
    case organizationUpdated(Organization)
    case keyCreated(APIKey)
    case keyRevoked(APIKey)
    case personCreated(Person)
    case personUpdated(Person)
    case templateCreated(Template)
    case templateUpdated(Template)
    case observationCreated(Observation)
    case objectiveCreated(Objective)
    case notificationCreated(Notification)
    case notificationRead(Notification)

    /// The event type on the wire: `organization.created`, `key.revoked`, ….
    public var type: String {
        switch self {
        case .organizationCreated: return "organization.created"
        case .organizationUpdated: return "organization.updated"
        case .keyCreated: return "key.created"
        case .keyRevoked: return "key.revoked"
        case .personCreated: return "person.created"
        case .personUpdated: return "person.updated"
        case .templateCreated: return "template.created"
        case .templateUpdated: return "template.updated"
        case .observationCreated: return "observation.created"
        case .objectiveCreated: return "objective.created"
        case .notificationCreated: return "notification.created"
        case .notificationRead: return "notification.read"
        }
    }
}

/// A recorded change: its id, its place in the organization's sequence of events, when and by whom.
public struct Event: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "evt"

    public var id: ID<Event>
    /// 1 for the organization's first event, then +1 for each.
    public var sequence: Int64
    public var createdAt: Timestamp
    /// The acting person, or the key when an integration acts as nobody; `nil` for the command line.
    public var actorID: String?
    public var change: Change

    /// An event.
    public init(id: ID<Event>, sequence: Int64, createdAt: Timestamp, actorID: String?, change: Change) {
        self.id = id
        self.sequence = sequence
        self.createdAt = createdAt
        self.actorID = actorID
        self.change = change
    }
}

/// Why a command cannot be carried out, in the terms of the contract's error table.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which row of the error table.
    public enum Kind: Sendable, Equatable {
        case validation(field: String)
        case authenticationRequired
        case permissionDenied
        case notFound
        case conflict
        case unprocessable(field: String)
    }

    public var kind: Kind
    /// One sentence naming the field or state at fault.
    public var message: String

    /// An error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// A field is missing or malformed: "email must be an email address".
    public static func invalid(_ field: String, _ problem: String) -> DomainError {
        DomainError(.validation(field: field), "\(field) \(problem).")
    }

    /// Nothing of that kind with that id is visible.
    public static func notFound(_ what: String, _ id: String) -> DomainError {
        DomainError(.notFound, "No \(what) with id \(id) exists in this organization.")
    }
}
