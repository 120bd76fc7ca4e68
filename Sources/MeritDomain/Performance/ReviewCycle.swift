/// A review cycle: a quarter or a year whose reviews are written together.
public struct ReviewCycle: TableRow {
    public static let idPrefix: StaticString = "cyc"

    /// How long a cycle's period is.
    public enum Kind: String, FieldEnumeration {
        case quarterly, annual
    }

    /// Where a cycle stands: only open cycles take new reviews and feedback requests.
    public enum Status: String, FieldEnumeration {
        case draft, open, closed
    }

    public var id: ID<ReviewCycle>
    public var type: Kind
    public var name: String
    public var periodStart: Day
    public var periodEnd: Day
    public var dueDate: Day?
    public var status: Status
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// A cycle.
    @inlinable
    public init(
        id: ID<ReviewCycle>, type: Kind, name: String, periodStart: Day, periodEnd: Day, dueDate: Day?,
        status: Status, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.type = type
        self.name = name
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.dueDate = dueDate
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("type", type)
        encoder.encode("name", name)
        encoder.encode("period_start", periodStart)
        encoder.encode("period_end", periodEnd)
        encoder.encode("due_date", dueDate)
        encoder.encode("status", status)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), type: try decoder.decode("type"), name: try decoder.decode("name"),
            periodStart: try decoder.decode("period_start"), periodEnd: try decoder.decode("period_end"),
            dueDate: try decoder.decode("due_date"), status: try decoder.decode("status"),
            createdAt: try decoder.decode("created_at"), updatedAt: try decoder.decode("updated_at"))
    }

    /// Cycles by status (how many are open, for action items).
    public struct Indexes: TableIndexes {
        public private(set) var byStatus = GroupIndex<Status, ReviewCycle>()

        public init() {}

        public mutating func insert(_ row: ReviewCycle) { byStatus.insert(row.id, under: row.status) }
        public mutating func remove(_ row: ReviewCycle) { byStatus.remove(row.id, from: row.status) }
        public static func keysDiffer(_ old: ReviewCycle, _ new: ReviewCycle) -> Bool { old.status != new.status }
    }
}
