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
    /// Everyone, by id: what an unfiltered people.list pages through.
    public private(set) var peopleByID = SortedIDs<Person>()
    /// People by squad, by id.
    public private(set) var squadMembers: [String: SortedIDs<Person>] = [:]
    /// People by role, by id.
    public private(set) var peopleByRole: [Person.Role: SortedIDs<Person>] = [:]
    public private(set) var templates: [ID<Template>: Template] = [:]
    public private(set) var templateOrder: [ID<Template>] = []
    public private(set) var observations: [ID<Observation>: Observation] = [:]
    public private(set) var observationsByEmployee: [ID<Person>: [ID<Observation>]] = [:]
    public private(set) var objectives: [ID<Objective>: Objective] = [:]
    public private(set) var objectivesByEmployee: [ID<Person>: [ID<Objective>]] = [:]
    public private(set) var notifications: [ID<Notification>: Notification] = [:]
    public private(set) var notificationsByRecipient: [ID<Person>: [ID<Notification>]] = [:]
    /// The sequence of the last event applied.
    public private(set) var lastEventSequence: Int64 = 0
    /// Changes whenever a key is created, changed or removed (also by a rollback), so that what is derived from
    /// a key can be kept until it does.
    public private(set) var keysRevision = 0

    private var undoJournal: [UndoStep]?

    /// An empty state: no organization yet.
    public init() {}

    // MARK: - The reducer

    /// Apply one event.
    public mutating func apply(_ event: Event) {
        apply(event.change, sequence: event.sequence)
    }

    /// Apply the change of the event numbered `sequence` (all that replay needs of an event).
    public mutating func apply(_ change: consuming Change, sequence: Int64) {
        _ = applyReturningReplaced(change, sequence: sequence)
    }

    /// `apply(_:sequence:)`, handing back the person the change replaced instead of freeing it here: replay applies
    /// changes on one thread and frees what they replace on the thread that allocated it.
    public mutating func applyReturningReplaced(_ change: consuming Change, sequence: Int64) -> Person? {
        if inTransaction {
            let previousSequence = lastEventSequence
            record { $0.lastEventSequence = previousSequence }
        }
        lastEventSequence = sequence
        switch consume change {
        case .organizationCreated(let organization), .organizationUpdated(let organization):
            if inTransaction {
                let old = self.organization
                record { $0.organization = old }
            }
            self.organization = organization
        case .keyCreated(let key), .keyRevoked(let key):
            setKey(key)
        case .personCreated(let person), .personUpdated(let person):
            return setPerson(person)
        case .templateCreated(let template), .templateUpdated(let template):
            let old = templates[template.id]
            if inTransaction { record { $0.restoreTemplate(template.id, old) } }
            if old == nil { templateOrder.append(template.id) }
            templates[template.id] = template
        case .observationCreated(let observation):
            if inTransaction { record { $0.removeObservation(observation.id) } }
            observations[observation.id] = observation
            observationsByEmployee[observation.employeeID, default: []].append(observation.id)
        case .objectiveCreated(let objective):
            if inTransaction { record { $0.removeObjective(objective.id) } }
            objectives[objective.id] = objective
            objectivesByEmployee[objective.employeeID, default: []].append(objective.id)
        case .notificationCreated(let notification), .notificationRead(let notification):
            let old = notifications[notification.id]
            if inTransaction { record { $0.restoreNotification(notification.id, old) } }
            if old == nil { notificationsByRecipient[notification.recipientID, default: []].append(notification.id) }
            notifications[notification.id] = notification
        }
        return nil
    }

    private mutating func restoreTemplate(_ id: ID<Template>, _ old: Template?) {
        if let old {
            templates[id] = old
        } else {
            templates[id] = nil
            templateOrder.removeAll { $0 == id }
        }
    }

    private mutating func removeObservation(_ id: ID<Observation>) {
        guard let old = observations.removeValue(forKey: id) else { return }
        observationsByEmployee[old.employeeID]?.removeAll { $0 == id }
    }

    private mutating func removeObjective(_ id: ID<Objective>) {
        guard let old = objectives.removeValue(forKey: id) else { return }
        objectivesByEmployee[old.employeeID]?.removeAll { $0 == id }
    }

    private mutating func restoreNotification(_ id: ID<Notification>, _ old: Notification?) {
        if let old {
            notifications[id] = old
        } else if let removed = notifications.removeValue(forKey: id) {
            notificationsByRecipient[removed.recipientID]?.removeAll { $0 == id }
        }
    }

    private mutating func setKey(_ key: APIKey) {
        let old = keys[key.id]
        if inTransaction {
            record { state in
                if let old { state.setKey(old) } else { state.removeKey(key.id) }
            }
        }
        keysRevision &+= 1
        if let old { keyIDsBySecretHash[old.secretHash] = nil } else { keyOrder.append(key.id) }
        keys[key.id] = key
        keyIDsBySecretHash[key.secretHash] = key.id
    }

    private mutating func removeKey(_ id: ID<APIKey>) {
        guard let old = keys.removeValue(forKey: id) else { return }
        keysRevision &+= 1
        keyIDsBySecretHash[old.secretHash] = nil
        if keyOrder.last == id { keyOrder.removeLast() } else { keyOrder.removeAll { $0 == id } }
    }

    /// Store `person`, returning the version it replaced.
    @discardableResult
    private mutating func setPerson(_ person: consuming Person) -> Person? {
        // One hash lookup serves the read and the write, and the old value is swapped out rather than copied:
        // replay does this a million times.
        guard let position = people.index(forKey: person.id) else {
            let id = person.id
            if inTransaction { record { $0.removePerson(id) } }
            personOrder.append(id)
            peopleByID.insert(id)
            index(person)
            people[id] = person
            return nil
        }
        var old = person
        swap(&old, &people.values[position])
        if inTransaction {
            let previous = old
            record { $0.setPerson(previous) }
        }
        // Most updates change a name or a flag: the indexes only need touching when an indexed field moved.
        if Self.indexedFieldsDiffer(old, &people.values[position]) {
            unindex(old)
            index(people.values[position])
        }
        return old
    }

    /// Whether `old` and `new` differ in a field that an index is keyed by (`new` is `inout` only so that it is
    /// read in place in the dictionary, not copied out).
    private static func indexedFieldsDiffer(_ old: borrowing Person, _ new: inout Person) -> Bool {
        old.role != new.role || old.squad != new.squad || old.managerID != new.managerID || old.email != new.email
    }

    private mutating func index(_ person: Person) {
        personIDsByEmail[Self.emailKey(person.email)] = person.id
        if let manager = person.managerID { directReports[manager, default: []].append(person.id) }
        if let squad = person.squad { squadMembers[squad, default: SortedIDs()].insert(person.id) }
        peopleByRole[person.role, default: SortedIDs()].insert(person.id)
    }

    private mutating func unindex(_ person: Person) {
        personIDsByEmail[Self.emailKey(person.email)] = nil
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
        peopleByID.remove(id)
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
    public func templateExists(_ id: String) -> Bool { ID(id).map { templates[$0] != nil } ?? false }

    /// The key of `email` in `personIDsByEmail`: lower-cased, and the same string (no copy) when it already is.
    static func emailKey(_ email: String) -> String {
        // Read as contiguous bytes: iterating `utf8` one element at a time costs several times as much.
        let needsLowering =
            email.utf8.withContiguousStorageIfAvailable { bytes in
                bytes.contains { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 }
            } ?? true
        return needsLowering ? email.lowercased() : email
    }

    /// The person with `email` (compared without case).
    public func person(email: String) -> Person? {
        personIDsByEmail[Self.emailKey(email)].flatMap { people[$0] }
    }
}

extension State {
    /// The state a snapshot describes: the same as replaying the events that built it.
    public init(
        organization: Organization?, keys: [APIKey], people: [Person], templates: [Template] = [],
        observations: [Observation] = [], objectives: [Objective] = [], notifications: [Notification] = [],
        lastEventSequence: Int64
    ) {
        self.init()
        self.organization = organization
        for key in keys { setKey(key) }
        for person in people { setPerson(person) }
        var sequence: Int64 = 0
        let changes: [Change] =
            templates.map(Change.templateCreated) + observations.map(Change.observationCreated)
            + objectives.map(Change.objectiveCreated) + notifications.map(Change.notificationCreated)
        for change in changes {
            sequence += 1
            apply(change, sequence: sequence)
        }
        self.lastEventSequence = lastEventSequence
    }

    /// Observations in creation order (their ids are time-ordered).
    public var observationOrder: [ID<Observation>] { observations.keys.sorted() }
    /// Objectives in creation order.
    public var objectiveOrder: [ID<Objective>] { objectives.keys.sorted() }
    /// Notifications in creation order.
    public var notificationOrder: [ID<Notification>] { notifications.keys.sorted() }
}
