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

    /// The summaries of everyone, of each employee and of each manager, each in every status ordered by each sort
    /// key (`Shelves`), which a list merges; and the changes of `period_end` by the event that made them.
    public struct Indexes: TableIndexes {
        public private(set) var everyone = Shelves()
        public private(set) var byEmployee: [ID<Person>: Shelves] = [:]
        public private(set) var byManager: [ID<Person>: Shelves] = [:]
        public private(set) var periodEndChanges = OrderedIndex<Summary>()

        public init() {}

        /// Indexes built apart (`Builder`).
        init(
            everyone: Shelves, byEmployee: [ID<Person>: Shelves], byManager: [ID<Person>: Shelves],
            periodEndChanges: OrderedIndex<Summary>
        ) {
            self.everyone = everyone
            self.byEmployee = byEmployee
            self.byManager = byManager
            self.periodEndChanges = periodEndChanges
        }

        public mutating func insert(_ row: Summary) {
            everyone.insert(row)
            byEmployee[row.employeeID, default: Shelves()].insert(row)
            byManager[row.managerID, default: Shelves()].insert(row)
            for change in row.periodEndChanges {
                periodEndChanges.insert(.init(key: Int64(change.sequence), id: row.id))
            }
        }

        public mutating func remove(_ row: Summary) {
            everyone.remove(row)
            Self.remove(row, from: row.employeeID, in: &byEmployee)
            Self.remove(row, from: row.managerID, in: &byManager)
            for change in row.periodEndChanges {
                periodEndChanges.remove(.init(key: Int64(change.sequence), id: row.id))
            }
        }

        /// Take `row` off `person`'s shelves, dropping them once empty (so that indexes built afresh are equal).
        private static func remove(_ row: Summary, from person: ID<Person>, in shelves: inout [ID<Person>: Shelves]) {
            guard var personal = shelves.removeValue(forKey: person) else { return }
            personal.remove(row)
            if !personal.isEmpty { shelves[person] = personal }
        }

        public static func keysDiffer(_ old: Summary, _ new: Summary) -> Bool {
            old.status != new.status || old.periodEnd != new.periodEnd || old.employeeID != new.employeeID
                || old.managerID != new.managerID || old.createdAt != new.createdAt
                || old.periodEndChanges.count != new.periodEndChanges.count
                || old.periodEndChanges.last?.sequence != new.periodEndChanges.last?.sequence
        }
    }

    /// Summaries in each status, ordered by `period_end` and by `created_at` (then by id): the lists a page of
    /// `summaries.list` is merged from, each entered at the cursor by binary search.
    public struct Shelves: Sendable, Equatable {
        /// Two lists per status, by `period_end` then by `created_at`, in the order of `Status.allCases`; made on
        /// the first insert.
        private var lists: [OrderedIndex<Summary>] = []

        /// No summaries.
        public init() {}

        /// Shelves holding `lists`, one per status and sort key, in the order of `position(_:byPeriodEnd:)`.
        init(lists: [OrderedIndex<Summary>]) {
            precondition(lists.count == Self.listCount, "shelves hold a list per status and sort key")
            self.lists = lists
        }

        /// How many lists shelves hold: two per status.
        static var listCount: Int { 2 * Status.allCases.count }

        /// Whether it holds no summary.
        public var isEmpty: Bool { lists.allSatisfy { $0.count == 0 } }

        /// The summaries in `status`, by `period_end` or by `created_at`.
        public func list(_ status: Status, byPeriodEnd: Bool) -> OrderedIndex<Summary> {
            lists.isEmpty ? OrderedIndex() : lists[Self.position(status, byPeriodEnd: byPeriodEnd)]
        }

        mutating func insert(_ summary: Summary) {
            if lists.isEmpty { lists = Array(repeating: OrderedIndex(), count: Self.listCount) }
            lists[Self.position(summary.status, byPeriodEnd: true)].insert(Self.periodEndEntry(summary))
            lists[Self.position(summary.status, byPeriodEnd: false)].insert(Self.createdAtEntry(summary))
        }

        mutating func remove(_ summary: Summary) {
            guard !lists.isEmpty else { return }
            lists[Self.position(summary.status, byPeriodEnd: true)].remove(Self.periodEndEntry(summary))
            lists[Self.position(summary.status, byPeriodEnd: false)].remove(Self.createdAtEntry(summary))
        }

        private static func periodEndEntry(_ summary: Summary) -> OrderedIndex<Summary>.Entry {
            .init(key: summary.periodEnd.daysSinceEpoch, id: summary.id)
        }

        private static func createdAtEntry(_ summary: Summary) -> OrderedIndex<Summary>.Entry {
            .init(key: summary.createdAt.milliseconds, id: summary.id)
        }

        /// Where the list of `status` by `period_end`, or by `created_at`, lies in `lists`.
        static func position(_ status: Status, byPeriodEnd: Bool) -> Int {
            let offset =
                switch status {
                case .draft: 0
                case .pendingReview: 1
                case .approved: 2
                case .shared: 3
                case .archived: 4
                }
            return 2 * offset + (byPeriodEnd ? 0 : 1)
        }

        public static func == (lhs: Shelves, rhs: Shelves) -> Bool {
            Status.allCases.allSatisfy { status in
                [true, false].allSatisfy { lhs.list(status, byPeriodEnd: $0) == rhs.list(status, byPeriodEnd: $0) }
            }
        }
    }
}
