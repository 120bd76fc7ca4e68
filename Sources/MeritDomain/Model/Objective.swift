/// An objective set for an employee, which summaries may cite.
public struct Objective: TableRow {
    public static let idPrefix: StaticString = "obj"

    /// Where an objective stands.
    public enum Status: String, FieldEnumeration {
        case notStarted = "not_started"
        case inProgress = "in_progress"
        case completed
        case cancelled
    }

    public var id: ID<Objective>
    public var employeeID: ID<Person>
    public var authorID: String
    public var title: String
    public var description: String?
    public var dueDate: Day?
    public var status: Status
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// An objective.
    public init(
        id: ID<Objective>, employeeID: ID<Person>, authorID: String, title: String, description: String?,
        dueDate: Day?, status: Status, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.employeeID = employeeID
        self.authorID = authorID
        self.title = title
        self.description = description
        self.dueDate = dueDate
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("employee_id", employeeID)
        encoder.encode("author_id", authorID)
        encoder.encode("title", title)
        encoder.encode("description", description)
        encoder.encode("due_date", dueDate)
        encoder.encode("status", status)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), employeeID: try decoder.decode("employee_id"),
            authorID: try decoder.decode("author_id"), title: try decoder.decode("title"),
            description: try decoder.decode("description"), dueDate: try decoder.decode("due_date"),
            status: try decoder.decode("status"), createdAt: try decoder.decode("created_at"),
            updatedAt: try decoder.decode("updated_at"))
    }

    /// Objectives by the employee they are for.
    public struct Indexes: TableIndexes {
        public private(set) var byEmployee = GroupIndex<ID<Person>, Objective>()

        public init() {}

        public mutating func insert(_ row: Objective) { byEmployee.insert(row.id, under: row.employeeID) }
        public mutating func remove(_ row: Objective) { byEmployee.remove(row.id, from: row.employeeID) }
        public static func keysDiffer(_ old: Objective, _ new: Objective) -> Bool { old.employeeID != new.employeeID }
    }
}
