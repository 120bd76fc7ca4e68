/// A manager's narrative summary of one employee over a period: a rich-text body citing observations and
/// objectives, moving from draft to shared (or archived), with the employee's feedback once shared.
public struct Summary: TableRow {
    public static let idPrefix: StaticString = "sum"

    /// The lifecycle: draft → pending_review → approved → shared; any → archived (terminal).
    public enum Status: String, FieldEnumeration {
        case draft
        case pendingReview = "pending_review"
        case approved, shared, archived
    }

    /// The employee's acknowledgment of, or question about, a shared summary.
    public struct Feedback: Identified, FieldRecord {
        public static let idPrefix: StaticString = "sfb"

        /// What the feedback says.
        public enum Kind: String, FieldEnumeration {
            case acknowledgment
            case clarificationRequest = "clarification_request"
        }

        public var id: ID<Feedback>
        public var kind: Kind
        public var comment: String?
        public var authorID: ID<Person>
        public var createdAt: Timestamp

        /// Feedback.
        @inlinable
        public init(id: ID<Feedback>, kind: Kind, comment: String?, authorID: ID<Person>, createdAt: Timestamp) {
            self.id = id
            self.kind = kind
            self.comment = comment
            self.authorID = authorID
            self.createdAt = createdAt
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("id", id)
            encoder.encode("kind", kind)
            encoder.encode("comment", comment)
            encoder.encode("author_id", authorID)
            encoder.encode("created_at", createdAt)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(
                id: try decoder.decode("id"), kind: try decoder.decode("kind"), comment: try decoder.decode("comment"),
                authorID: try decoder.decode("author_id"), createdAt: try decoder.decode("created_at"))
        }
    }

    /// A change of the summary's `period_end`, kept so that a list walked by `period_end` from before the change
    /// still places the summary where it was (a walk never returns it twice, nor skips another).
    public struct PeriodEndChange: FieldRecord {
        /// The event that changed it.
        public var sequence: Int
        /// The `period_end` before it.
        public var previous: Day

        /// A change.
        @inlinable
        public init(sequence: Int, previous: Day) {
            self.sequence = sequence
            self.previous = previous
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("sequence", sequence)
            encoder.encode("previous", previous)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(sequence: try decoder.decode("sequence"), previous: try decoder.decode("previous"))
        }
    }

    public var id: ID<Summary>
    public var employeeID: ID<Person>
    public var managerID: ID<Person>
    public var periodStart: Day
    public var periodEnd: Day
    public var body: RichText
    public var status: Status
    public var includedObservationIDs: [ID<Observation>]
    public var includedObjectiveIDs: [ID<Objective>]
    public var sharedAt: Timestamp?
    public var approvedAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The employee's feedback, oldest first (shown by `summaries.feedback` and its event only).
    public var feedback: [Feedback]
    /// The latest changes of `period_end` (at most `periodEndChangesKept`).
    public var periodEndChanges: [PeriodEndChange]

    /// How many `period_end` changes a summary remembers for walks in progress.
    public static let periodEndChangesKept = 8

    /// A summary.
    @inlinable
    public init(
        id: ID<Summary>, employeeID: ID<Person>, managerID: ID<Person>, periodStart: Day, periodEnd: Day,
        body: RichText, status: Status, includedObservationIDs: [ID<Observation>],
        includedObjectiveIDs: [ID<Objective>], sharedAt: Timestamp?, approvedAt: Timestamp?, createdAt: Timestamp,
        updatedAt: Timestamp, feedback: [Feedback], periodEndChanges: [PeriodEndChange]
    ) {
        self.id = id
        self.employeeID = employeeID
        self.managerID = managerID
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.body = body
        self.status = status
        self.includedObservationIDs = includedObservationIDs
        self.includedObjectiveIDs = includedObjectiveIDs
        self.sharedAt = sharedAt
        self.approvedAt = approvedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.feedback = feedback
        self.periodEndChanges = periodEndChanges
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("employee_id", employeeID)
        encoder.encode("manager_id", managerID)
        encoder.encode("period_start", periodStart)
        encoder.encode("period_end", periodEnd)
        encoder.encode("body", body)
        encoder.encode("status", status)
        encoder.encode("included_observation_ids", includedObservationIDs)
        encoder.encode("included_objective_ids", includedObjectiveIDs)
        encoder.encode("shared_at", sharedAt)
        encoder.encode("approved_at", approvedAt)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
        encoder.encode(.stored("feedback"), feedback)
        encoder.encode(.stored("period_end_changes"), periodEndChanges)
    }

    /// Reads the layout of every schema version: before version 2 the body was stored as a tree (`RichTextNode`).
    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), employeeID: try decoder.decode("employee_id"),
            managerID: try decoder.decode("manager_id"), periodStart: try decoder.decode("period_start"),
            periodEnd: try decoder.decode("period_end"),
            body: decoder.schemaVersion >= 2
                ? try decoder.decode("body") : RichText(storedTree: try decoder.decode("body", as: RichTextNode.self)),
            status: try decoder.decode("status"),
            includedObservationIDs: try decoder.decode("included_observation_ids"),
            includedObjectiveIDs: try decoder.decode("included_objective_ids"),
            sharedAt: try decoder.decode("shared_at"),
            approvedAt: try decoder.decode("approved_at"), createdAt: try decoder.decode("created_at"),
            updatedAt: try decoder.decode("updated_at"), feedback: try decoder.decode(.stored("feedback")),
            periodEndChanges: try decoder.decode(.stored("period_end_changes")))
    }

    /// The summary's `period_end` as a walk that started after event `sequence` orders it: as it was then.
    public func periodEnd(asOf sequence: Int64) -> Day {
        periodEndChanges.first { Int64($0.sequence) > sequence }?.previous ?? periodEnd
    }

    /// Summaries by employee and by manager; by each sort key within each status; and the changes of `period_end`
    /// by the event that made them.
    public struct Indexes: TableIndexes {
        public private(set) var byEmployee = GroupIndex<ID<Person>, Summary>()
        public private(set) var byManager = GroupIndex<ID<Person>, Summary>()
        public private(set) var byPeriodEnd: [Status: OrderedIndex<Summary>] = [:]
        public private(set) var byCreatedAt: [Status: OrderedIndex<Summary>] = [:]
        public private(set) var periodEndChanges = OrderedIndex<Summary>()

        public init() {}

        public mutating func insert(_ row: Summary) {
            byEmployee.insert(row.id, under: row.employeeID)
            byManager.insert(row.id, under: row.managerID)
            byPeriodEnd[row.status, default: OrderedIndex()].insert(
                .init(key: row.periodEnd.daysSinceEpoch, id: row.id))
            byCreatedAt[row.status, default: OrderedIndex()].insert(.init(key: row.createdAt.milliseconds, id: row.id))
            for change in row.periodEndChanges {
                periodEndChanges.insert(.init(key: Int64(change.sequence), id: row.id))
            }
        }

        public mutating func remove(_ row: Summary) {
            byEmployee.remove(row.id, from: row.employeeID)
            byManager.remove(row.id, from: row.managerID)
            byPeriodEnd[row.status]?.remove(.init(key: row.periodEnd.daysSinceEpoch, id: row.id))
            if byPeriodEnd[row.status]?.count == 0 { byPeriodEnd[row.status] = nil }
            byCreatedAt[row.status]?.remove(.init(key: row.createdAt.milliseconds, id: row.id))
            if byCreatedAt[row.status]?.count == 0 { byCreatedAt[row.status] = nil }
            for change in row.periodEndChanges {
                periodEndChanges.remove(.init(key: Int64(change.sequence), id: row.id))
            }
        }

        public static func keysDiffer(_ old: Summary, _ new: Summary) -> Bool {
            old.status != new.status || old.periodEnd != new.periodEnd || old.employeeID != new.employeeID
                || old.managerID != new.managerID || old.createdAt != new.createdAt
                || old.periodEndChanges.count != new.periodEndChanges.count
                || old.periodEndChanges.last?.sequence != new.periodEndChanges.last?.sequence
        }
    }
}
