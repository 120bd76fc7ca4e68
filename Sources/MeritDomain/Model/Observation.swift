/// A manager's dated note about an employee, which summaries may cite.
public struct Observation: TableRow {
    public static let idPrefix: StaticString = "obs"

    public var id: ID<Observation>
    public var employeeID: ID<Person>
    /// The person who wrote it, or the key when an integration wrote it.
    public var authorID: String
    public var text: String
    public var observedOn: Day
    public var createdAt: Timestamp

    /// An observation.
    public init(
        id: ID<Observation>, employeeID: ID<Person>, authorID: String, text: String, observedOn: Day,
        createdAt: Timestamp
    ) {
        self.id = id
        self.employeeID = employeeID
        self.authorID = authorID
        self.text = text
        self.observedOn = observedOn
        self.createdAt = createdAt
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("employee_id", employeeID)
        encoder.encode("author_id", authorID)
        encoder.encode("text", text)
        encoder.encode("observed_on", observedOn)
        encoder.encode("created_at", createdAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), employeeID: try decoder.decode("employee_id"),
            authorID: try decoder.decode("author_id"), text: try decoder.decode("text"),
            observedOn: try decoder.decode("observed_on"), createdAt: try decoder.decode("created_at"))
    }

    /// Observations by the employee they are about.
    public struct Indexes: TableIndexes {
        public private(set) var byEmployee = GroupIndex<ID<Person>, Observation>()

        public init() {}

        public mutating func insert(_ row: Observation) { byEmployee.insert(row.id, under: row.employeeID) }
        public mutating func remove(_ row: Observation) { byEmployee.remove(row.id, from: row.employeeID) }
        public static func keysDiffer(_ old: Observation, _ new: Observation) -> Bool {
            old.employeeID != new.employeeID
        }
    }
}
