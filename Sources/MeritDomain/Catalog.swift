/// Every kind of resource and every kind of change, in one place: the only file that lists them all.
///
/// A new resource adds, here, its `ResourceKind` and `Resource` cases, its change kinds and their rows, its table in
/// `State`, and one line in each switch below; everything else about it (its fields, indexes, commands, rules and
/// methods) lives in its own files. Codes are stable: once a log holds one, it is never reused or renumbered.

/// A kind of resource, with the stable code snapshots file its rows under.
public enum ResourceKind: UInt8, CaseIterable, Sendable {
    case organization = 1
    case key = 2
    case person = 3
    case template = 4
    case observation = 5
    case objective = 6
    case notification = 7
    case cycle = 8
    case review = 9
    case feedbackRequest = 10
    case summary = 11
}

extension ResourceKind {
    /// The type of the resources of this kind.
    public var type: any CatalogResource.Type {
        switch self {
        case .organization: Organization.self
        case .key: APIKey.self
        case .person: Person.self
        case .template: Template.self
        case .observation: Observation.self
        case .objective: Objective.self
        case .notification: Notification.self
        case .cycle: ReviewCycle.self
        case .review: Review.self
        case .feedbackRequest: FeedbackRequest.self
        case .summary: Summary.self
        }
    }
}

/// Shown the type of the rows of one table, to work with that table's rows as their own type.
public protocol RowTypeVisitor: ~Copyable {
    mutating func visit<Row: TableRow>(_ type: Row.Type) throws(StoredFormError)
}

extension ResourceKind {
    /// Show `visitor` the row type of this kind's table; `false` for the organization, which has no table.
    ///
    /// Inlinable, so that a visitor is specialized for each row type where it is called: reading a snapshot's rows
    /// through it costs what reading them by their own types does.
    @inlinable
    public func visitRowType<Visitor: RowTypeVisitor & ~Copyable>(_ visitor: inout Visitor) throws(StoredFormError)
        -> Bool
    {
        switch self {
        case .organization: return false
        case .key: try visitor.visit(APIKey.self)
        case .person: try visitor.visit(Person.self)
        case .template: try visitor.visit(Template.self)
        case .observation: try visitor.visit(Observation.self)
        case .objective: try visitor.visit(Objective.self)
        case .notification: try visitor.visit(Notification.self)
        case .cycle: try visitor.visit(ReviewCycle.self)
        case .review: try visitor.visit(Review.self)
        case .feedbackRequest: try visitor.visit(FeedbackRequest.self)
        case .summary: try visitor.visit(Summary.self)
        }
        return true
    }
}

/// What a change does to its resource's table.
public enum Effect: Sendable {
    /// Store the resource (created or changed): the change carries it as it is after the change.
    case write
    /// Remove the resource: the change carries it as it was.
    case remove
}

/// Every kind of change: its stable code (the raw value, never reused), its type on the wire, the schema version
/// it is written with, the resource it carries and what it does. The log's decoder and the event feed read this
/// table; nothing keeps a second list.
public enum ChangeKind: UInt8, CaseIterable, Sendable {
    case organizationCreated = 1
    case organizationUpdated = 2
    case keyCreated = 3
    case keyRevoked = 4
    case personCreated = 5
    case personUpdated = 6
    case templateCreated = 7
    case templateUpdated = 8
    case observationCreated = 9
    case objectiveCreated = 10
    case notificationCreated = 11
    case notificationRead = 12
    case cycleCreated = 13
    case cycleUpdated = 14
    case cycleDeleted = 15
    case reviewCreated = 16
    case reviewUpdated = 17
    case reviewCompleted = 18
    case reviewDeleted = 19
    case feedbackRequestCreated = 20
    case feedbackSubmitted = 21
    case goalOutcomeRecorded = 22
    case summaryCreated = 23
    case summaryUpdated = 24
    case summarySubmitted = 25
    case summaryApproved = 26
    case summaryShared = 27
    case summaryArchived = 28
    case summaryFeedbackSubmitted = 29

    /// One row of the table.
    public struct Row: Sendable {
        /// The event type on the wire: `person.created` (static text, so that a row costs nothing to make).
        public let wireType: StaticString
        /// The schema version written now; readers accept every version from 1 up to it.
        public let version: Int
        /// The resource the change carries.
        public let resource: ResourceKind
        /// What applying it does.
        public let effect: Effect

        @usableFromInline
        init(_ type: StaticString, version: Int = 1, _ resource: ResourceKind, _ effect: Effect = .write) {
            self.wireType = type
            self.version = version
            self.resource = resource
            self.effect = effect
        }

        /// The event type on the wire, as a string.
        public var type: String { wireType.description }
    }

    /// What applying a change of this kind does.
    @inlinable
    public var effect: Effect { row.effect }

    /// This kind's row.
    @inlinable
    public var row: Row {
        switch self {
        case .organizationCreated: Row("organization.created", .organization)
        case .organizationUpdated: Row("organization.updated", .organization)
        case .keyCreated: Row("key.created", .key)
        case .keyRevoked: Row("key.revoked", .key)
        case .personCreated: Row("person.created", .person)
        case .personUpdated: Row("person.updated", .person)
        case .templateCreated: Row("template.created", .template)
        case .templateUpdated: Row("template.updated", .template)
        case .observationCreated: Row("observation.created", .observation)
        case .objectiveCreated: Row("objective.created", .objective)
        case .notificationCreated: Row("notification.created", .notification)
        case .notificationRead: Row("notification.read", .notification)
        case .cycleCreated: Row("cycle.created", .cycle)
        case .cycleUpdated: Row("cycle.updated", .cycle)
        case .cycleDeleted: Row("cycle.deleted", .cycle, .remove)
        case .reviewCreated: Row("review.created", .review)
        case .reviewUpdated: Row("review.updated", .review)
        case .reviewCompleted: Row("review.completed", .review)
        case .reviewDeleted: Row("review.deleted", .review, .remove)
        case .feedbackRequestCreated: Row("feedback_request.created", .feedbackRequest)
        case .feedbackSubmitted: Row("feedback.submitted", .feedbackRequest)
        case .goalOutcomeRecorded: Row("goal.outcome_recorded", .review)
        // Version 2: the body is its compact JSON, no longer a tree.
        case .summaryCreated: Row("summary.created", version: 2, .summary)
        case .summaryUpdated: Row("summary.updated", version: 2, .summary)
        case .summarySubmitted: Row("summary.submitted", version: 2, .summary)
        case .summaryApproved: Row("summary.approved", version: 2, .summary)
        case .summaryShared: Row("summary.shared", version: 2, .summary)
        case .summaryArchived: Row("summary.archived", version: 2, .summary)
        case .summaryFeedbackSubmitted: Row("summary.feedback_submitted", version: 2, .summary)
        }
    }
}

/// A resource of any kind, as a change carries it.
public enum Resource: Sendable, Equatable {
    case organization(Organization)
    case key(APIKey)
    case person(Person)
    case template(Template)
    case observation(Observation)
    case objective(Objective)
    case notification(Notification)
    case cycle(ReviewCycle)
    // Boxed: the largest resources would otherwise make every change as large as they are.
    indirect case review(Review)
    indirect case feedbackRequest(FeedbackRequest)
    indirect case summary(Summary)

    /// Which kind it is.
    public var kind: ResourceKind {
        switch self {
        case .organization: .organization
        case .key: .key
        case .person: .person
        case .template: .template
        case .observation: .observation
        case .objective: .objective
        case .notification: .notification
        case .cycle: .cycle
        case .review: .review
        case .feedbackRequest: .feedbackRequest
        case .summary: .summary
        }
    }

    /// The resource itself.
    public var record: any FieldRecord {
        switch self {
        case .organization(let value): value
        case .key(let value): value
        case .person(let value): value
        case .template(let value): value
        case .observation(let value): value
        case .objective(let value): value
        case .notification(let value): value
        case .cycle(let value): value
        case .review(let value): value
        case .feedbackRequest(let value): value
        case .summary(let value): value
        }
    }

    /// Write its fields.
    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        switch self {
        case .organization(let value): value.encode(to: &encoder)
        case .key(let value): value.encode(to: &encoder)
        case .person(let value): value.encode(to: &encoder)
        case .template(let value): value.encode(to: &encoder)
        case .observation(let value): value.encode(to: &encoder)
        case .objective(let value): value.encode(to: &encoder)
        case .notification(let value): value.encode(to: &encoder)
        case .cycle(let value): value.encode(to: &encoder)
        case .review(let value): value.encode(to: &encoder)
        case .feedbackRequest(let value): value.encode(to: &encoder)
        case .summary(let value): value.encode(to: &encoder)
        }
    }

    /// Read a resource of `kind`.
    @inlinable
    public static func decode<Decoder: FieldDecoder>(_ kind: ResourceKind, from decoder: inout Decoder)
        throws(StoredFormError) -> Resource
    {
        switch kind {
        case .organization: .organization(try Organization(from: &decoder))
        case .key: .key(try APIKey(from: &decoder))
        case .person: .person(try Person(from: &decoder))
        case .template: .template(try Template(from: &decoder))
        case .observation: .observation(try Observation(from: &decoder))
        case .objective: .objective(try Objective(from: &decoder))
        case .notification: .notification(try Notification(from: &decoder))
        case .cycle: .cycle(try ReviewCycle(from: &decoder))
        case .review: .review(try Review(from: &decoder))
        case .feedbackRequest: .feedbackRequest(try FeedbackRequest(from: &decoder))
        case .summary: .summary(try Summary(from: &decoder))
        }
    }
}

/// A resource that a change can carry: it knows its kind and how to be wrapped.
public protocol CatalogResource: FieldRecord {
    /// Its kind.
    static var resourceKind: ResourceKind { get }
    /// Itself, wrapped.
    var wrapped: Resource { get }
}

extension Organization {
    public static var resourceKind: ResourceKind { .organization }
    public var wrapped: Resource { .organization(self) }
}

extension APIKey {
    public static var resourceKind: ResourceKind { .key }
    public var wrapped: Resource { .key(self) }
}

extension Person {
    public static var resourceKind: ResourceKind { .person }
    public var wrapped: Resource { .person(self) }
}

extension Template {
    public static var resourceKind: ResourceKind { .template }
    public var wrapped: Resource { .template(self) }
}

extension Observation {
    public static var resourceKind: ResourceKind { .observation }
    public var wrapped: Resource { .observation(self) }
}

extension Objective {
    public static var resourceKind: ResourceKind { .objective }
    public var wrapped: Resource { .objective(self) }
}

extension Notification {
    public static var resourceKind: ResourceKind { .notification }
    public var wrapped: Resource { .notification(self) }
}

extension ReviewCycle {
    public static var resourceKind: ResourceKind { .cycle }
    public var wrapped: Resource { .cycle(self) }
}

extension Review {
    public static var resourceKind: ResourceKind { .review }
    public var wrapped: Resource { .review(self) }
}

extension FeedbackRequest {
    public static var resourceKind: ResourceKind { .feedbackRequest }
    public var wrapped: Resource { .feedbackRequest(self) }
}

extension Summary {
    public static var resourceKind: ResourceKind { .summary }
    public var wrapped: Resource { .summary(self) }
}

/// Everything the organization holds, in memory: the result of applying every event in order.
public struct State: Sendable {
    public internal(set) var organization: Organization?
    public internal(set) var keys = Table<APIKey>()
    public internal(set) var people = Table<Person>()
    public internal(set) var templates = Table<Template>()
    public internal(set) var observations = Table<Observation>()
    public internal(set) var objectives = Table<Objective>()
    public internal(set) var notifications = Table<Notification>()
    public internal(set) var cycles = Table<ReviewCycle>()
    public internal(set) var reviews = Table<Review>()
    public internal(set) var feedbackRequests = Table<FeedbackRequest>()
    public internal(set) var summaries = Table<Summary>()
    /// The sequence of the last event applied.
    public internal(set) var lastEventSequence: Int64 = 0
    /// What a rollback restores besides the tables, while a transaction is open.
    var transaction: (organization: Organization?, lastEventSequence: Int64)?

    /// An empty state: no organization yet.
    public init() {}

    /// Apply `effect` to `resource`'s table, handing back the resource it replaced or removed instead of freeing
    /// it here: replay applies changes on one thread and frees what they replace on the thread that allocated it.
    mutating func apply(_ resource: consuming Resource, _ effect: Effect) -> Resource? {
        switch consume resource {
        case .organization(let value):
            var replaced = effect == .write ? value : nil
            swap(&replaced, &organization)
            guard let replaced else { return nil }
            return .organization(replaced)
        case .key(let value):
            // Not `Optional.map`, which copies what it wraps.
            guard let old = Self.apply(value, effect, to: &keys) else { return nil }
            return .key(old)
        case .person(let value):
            guard let old = Self.apply(value, effect, to: &people) else { return nil }
            return .person(old)
        case .template(let value):
            guard let old = Self.apply(value, effect, to: &templates) else { return nil }
            return .template(old)
        case .observation(let value):
            guard let old = Self.apply(value, effect, to: &observations) else { return nil }
            return .observation(old)
        case .objective(let value):
            guard let old = Self.apply(value, effect, to: &objectives) else { return nil }
            return .objective(old)
        case .notification(let value):
            guard let old = Self.apply(value, effect, to: &notifications) else { return nil }
            return .notification(old)
        case .cycle(let value):
            guard let old = Self.apply(value, effect, to: &cycles) else { return nil }
            return .cycle(old)
        case .review(let value):
            guard let old = Self.apply(value, effect, to: &reviews) else { return nil }
            return .review(old)
        case .feedbackRequest(let value):
            guard let old = Self.apply(value, effect, to: &feedbackRequests) else { return nil }
            return .feedbackRequest(old)
        case .summary(let value):
            guard let old = Self.apply(value, effect, to: &summaries) else { return nil }
            return .summary(old)
        }
    }

    /// Show every table to `visitor`, in the order of their kinds (a switch, so that a new kind without its table
    /// here does not compile).
    public func visitTables<Visitor: TableVisitor & ~Copyable>(_ visitor: inout Visitor) {
        for kind in ResourceKind.allCases {
            switch kind {
            case .organization: break
            case .key: visitor.visit(keys)
            case .person: visitor.visit(people)
            case .template: visitor.visit(templates)
            case .observation: visitor.visit(observations)
            case .objective: visitor.visit(objectives)
            case .notification: visitor.visit(notifications)
            case .cycle: visitor.visit(cycles)
            case .review: visitor.visit(reviews)
            case .feedbackRequest: visitor.visit(feedbackRequests)
            case .summary: visitor.visit(summaries)
            }
        }
    }

    /// Hand every table to `visitor` to change.
    mutating func changeTables<Visitor: TableChanger>(_ visitor: inout Visitor) {
        for kind in ResourceKind.allCases {
            switch kind {
            case .organization: break
            case .key: visitor.change(&keys)
            case .person: visitor.change(&people)
            case .template: visitor.change(&templates)
            case .observation: visitor.change(&observations)
            case .objective: visitor.change(&objectives)
            case .notification: visitor.change(&notifications)
            case .cycle: visitor.change(&cycles)
            case .review: visitor.change(&reviews)
            case .feedbackRequest: visitor.change(&feedbackRequests)
            case .summary: visitor.change(&summaries)
            }
        }
    }
}
