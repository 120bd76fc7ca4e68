/// A person of the organization: an employee, a lead, a manager, a head or an executive.
public struct Person: TableRow {
    public static let idPrefix: StaticString = "emp"

    /// The access level, as the Performance API names them.
    public enum Role: String, FieldEnumeration, Comparable {
        case employee, lead, manager, head, executive

        /// Stored by code, as the log always has.
        public static var isStoredByCode: Bool { true }

        public var storedCode: UInt8 {
            switch self {
            case .employee: 1
            case .lead: 2
            case .manager: 3
            case .head: 4
            case .executive: 5
            }
        }

        public init?(storedCode: UInt8) {
            switch storedCode {
            case 1: self = .employee
            case 2: self = .lead
            case 3: self = .manager
            case 4: self = .head
            case 5: self = .executive
            default: return nil
            }
        }

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
    public var reviewTemplateID: ID<Template>?
    public var isAdmin: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// A person.
    public init(
        id: ID<Person>, name: String, email: String, role: Role, managerID: ID<Person>?, squad: String?,
        reviewTemplateID: ID<Template>?, isAdmin: Bool, createdAt: Timestamp, updatedAt: Timestamp
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

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("name", name)
        encoder.encode("email", email)
        encoder.encode("role", role)
        encoder.encode("manager_id", managerID)
        encoder.encode("squad", squad)
        // Stored as its text (the log always has), so that a template id reads the same in every form.
        encoder.encode("review_template_id", reviewTemplateID.map(\.text))
        encoder.encode("is_admin", isAdmin)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), name: try decoder.decode("name"), email: try decoder.decode("email"),
            role: try decoder.decode("role"), managerID: try decoder.decode("manager_id"),
            squad: try decoder.decode("squad"),
            reviewTemplateID: try Self.templateID(try decoder.decode("review_template_id")),
            isAdmin: try decoder.decode("is_admin"), createdAt: try decoder.decode("created_at"),
            updatedAt: try decoder.decode("updated_at"))
    }

    /// A template id stored as its text.
    @inlinable
    static func templateID(_ text: String?) throws(StoredFormError) -> ID<Template>? {
        guard let text else { return nil }
        guard let id = ID<Template>(text) else {
            throw StoredFormError("person.review_template_id is not a template id: \(text)")
        }
        return id
    }

    /// The people a person's fields index: by email, by manager, by squad and by role.
    public struct Indexes: TableIndexes {
        /// Person ids by lower-cased email, which is unique in the organization.
        public private(set) var byEmail: [String: ID<Person>] = [:]
        /// Direct reports by manager.
        public private(set) var directReports = GroupIndex<ID<Person>, Person>()
        /// People by squad.
        public private(set) var squadMembers = GroupIndex<String, Person>()
        /// People by role.
        public private(set) var byRole = GroupIndex<Role, Person>()

        public init() {}

        public mutating func insert(_ person: Person) {
            byEmail[Self.emailKey(person.email)] = person.id
            directReports.insert(person.id, under: person.managerID)
            squadMembers.insert(person.id, under: person.squad)
            byRole.insert(person.id, under: person.role)
        }

        public mutating func remove(_ person: Person) {
            byEmail[Self.emailKey(person.email)] = nil
            directReports.remove(person.id, from: person.managerID)
            squadMembers.remove(person.id, from: person.squad)
            byRole.remove(person.id, from: person.role)
        }

        /// Most updates change a name or a flag: the indexes only need touching when an indexed field moved.
        public static func keysDiffer(_ old: Person, _ new: Person) -> Bool {
            old.role != new.role || old.squad != new.squad || old.managerID != new.managerID || old.email != new.email
        }

        public mutating func reserveCapacity(_ rows: Int) {
            byEmail.reserveCapacity(rows)
        }

        /// The key of `email` in `byEmail`: lower-cased, and the same string (no copy) when it already is.
        public static func emailKey(_ email: String) -> String {
            // Read as contiguous bytes: iterating `utf8` one element at a time costs several times as much.
            let needsLowering =
                email.utf8.withContiguousStorageIfAvailable { bytes in
                    bytes.contains { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 }
                } ?? true
            return needsLowering ? email.lowercased() : email
        }
    }
}
