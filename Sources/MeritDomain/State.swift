/// Everything the organization holds, in memory: the result of applying every event in order.
///
/// `apply(_:)` is the reducer: the one code path for what a change means, used both for new changes and for
/// replay at start-up. While a group of changes waits for its commit, the state records how to undo each
/// change, so that a failed commit leaves exactly what is durable.
public struct State: Sendable {
    public private(set) var organization: Organization?
    public private(set) var people: [ID<Person>: Person] = [:]
    public private(set) var keys: [ID<APIKey>: APIKey] = [:]
    /// Key ids by the hash of their secret, for authentication.
    public private(set) var keyIDsBySecretHash: [String: ID<APIKey>] = [:]
    /// Person ids by lower-cased email, which is unique in the organization.
    public private(set) var personIDsByEmail: [String: ID<Person>] = [:]
    /// Keys in creation order, for listing.
    public private(set) var keyOrder: [ID<APIKey>] = []
    /// People in creation order, for listing.
    public private(set) var personOrder: [ID<Person>] = []
    /// Direct reports by manager, in the order they joined.
    public private(set) var directReports: [ID<Person>: [ID<Person>]] = [:]
    /// People by squad.
    public private(set) var squadMembers: [String: Set<ID<Person>>] = [:]
    /// People by role.
    public private(set) var peopleByRole: [Person.Role: Set<ID<Person>>] = [:]
    /// The sequence of the last event applied.
    public private(set) var lastEventSequence: Int64 = 0

    private var undoJournal: [UndoStep]?

    /// An empty state: no organization yet.
    public init() {}

    // MARK: - The reducer

    /// Apply one event.
    public mutating func apply(_ event: Event) {
        if inTransaction {
            let previousSequence = lastEventSequence
            record { $0.lastEventSequence = previousSequence }
        }
        lastEventSequence = event.sequence
        switch event.change {
        case .organizationCreated(let organization), .organizationUpdated(let organization):
            if inTransaction {
                let old = self.organization
                record { $0.organization = old }
            }
            self.organization = organization
        case .keyCreated(let key), .keyRevoked(let key):
            setKey(key)
        case .personCreated(let person), .personUpdated(let person):
            setPerson(person)
        }
    }

    private mutating func setKey(_ key: APIKey) {
        let old = keys[key.id]
        if inTransaction {
            record { state in
                if let old { state.setKey(old) } else { state.removeKey(key.id) }
            }
        }
        if let old { keyIDsBySecretHash[old.secretHash] = nil } else { keyOrder.append(key.id) }
        keys[key.id] = key
        keyIDsBySecretHash[key.secretHash] = key.id
    }

    private mutating func removeKey(_ id: ID<APIKey>) {
        guard let old = keys.removeValue(forKey: id) else { return }
        keyIDsBySecretHash[old.secretHash] = nil
        if keyOrder.last == id { keyOrder.removeLast() } else { keyOrder.removeAll { $0 == id } }
    }

    private mutating func setPerson(_ person: Person) {
        let old = people[person.id]
        if inTransaction {
            record { state in
                if let old { state.setPerson(old) } else { state.removePerson(person.id) }
            }
        }
        if let old {
            unindex(old)
        } else {
            personOrder.append(person.id)
        }
        people[person.id] = person
        index(person)
    }

    private mutating func index(_ person: Person) {
        personIDsByEmail[person.email.lowercased()] = person.id
        if let manager = person.managerID { directReports[manager, default: []].append(person.id) }
        if let squad = person.squad { squadMembers[squad, default: []].insert(person.id) }
        peopleByRole[person.role, default: []].insert(person.id)
    }

    private mutating func unindex(_ person: Person) {
        personIDsByEmail[person.email.lowercased()] = nil
        if let manager = person.managerID {
            directReports[manager]?.removeAll { $0 == person.id }
            if directReports[manager]?.isEmpty == true { directReports[manager] = nil }
        }
        if let squad = person.squad {
            squadMembers[squad]?.remove(person.id)
            if squadMembers[squad]?.isEmpty == true { squadMembers[squad] = nil }
        }
        peopleByRole[person.role]?.remove(person.id)
    }

    private mutating func removePerson(_ id: ID<Person>) {
        guard let old = people.removeValue(forKey: id) else { return }
        unindex(old)
        if personOrder.last == id { personOrder.removeLast() } else { personOrder.removeAll { $0 == id } }
    }

    // MARK: - Undo while a commit is pending

    /// How to restore one piece of state.
    private struct UndoStep: @unchecked Sendable {
        // @unchecked: the closure only captures values (old entities, ids), never shared references.
        let restore: (inout State) -> Void
    }

    /// Callers check `inTransaction` first, so that replay allocates no closures.
    private mutating func record(_ restore: @escaping (inout State) -> Void) {
        undoJournal?.append(UndoStep(restore: restore))
    }

    /// Start recording how to undo the changes that follow (a group commit began).
    public mutating func beginTransaction() {
        if undoJournal == nil { undoJournal = [] }
    }

    /// Whether changes are being recorded for undo.
    public var inTransaction: Bool { undoJournal != nil }

    /// The changes since `beginTransaction()` are durable: forget how to undo them.
    public mutating func commitTransaction() {
        undoJournal = nil
    }

    /// The changes since `beginTransaction()` were not made durable: undo them, newest first.
    public mutating func rollBackTransaction() {
        guard let steps = undoJournal else { return }
        undoJournal = nil
        for step in steps.reversed() { step.restore(&self) }
    }

    // MARK: - Queries

    /// The active key whose secret hashes to `secretHash`.
    public func activeKey(secretHash: String) -> APIKey? {
        guard let id = keyIDsBySecretHash[secretHash], let key = keys[id], key.isActive else { return nil }
        return key
    }

    /// Whether a review template with this id exists.
    public func templateExists(_ id: String) -> Bool { false }

    /// The person with `email` (compared without case).
    public func person(email: String) -> Person? {
        personIDsByEmail[email.lowercased()].flatMap { people[$0] }
    }
}

extension State {
    /// The state a snapshot describes: the same as replaying the events that built it.
    public init(organization: Organization?, keys: [APIKey], people: [Person], lastEventSequence: Int64) {
        self.init()
        self.organization = organization
        for key in keys { setKey(key) }
        for person in people { setPerson(person) }
        self.lastEventSequence = lastEventSequence
    }
}
