/// The fields of a person as a create or an update gives them; `nil` means "not given".
public struct PersonDraft: Sendable {
    public var name: String?
    public var email: String?
    public var role: Person.Role?
    /// `.some(nil)` clears the manager.
    public var managerID: ID<Person>??
    public var squad: String??
    public var reviewTemplateID: ID<Template>??
    public var isAdmin: Bool?

    /// A draft with nothing given.
    public init(
        name: String? = nil, email: String? = nil, role: Person.Role? = nil, managerID: ID<Person>?? = nil,
        squad: String?? = nil, reviewTemplateID: ID<Template>?? = nil, isAdmin: Bool? = nil
    ) {
        self.name = name
        self.email = email
        self.role = role
        self.managerID = managerID
        self.squad = squad
        self.reviewTemplateID = reviewTemplateID
        self.isAdmin = isAdmin
    }
}

extension State {
    /// Add a person to the directory (`directory:write`).
    public func createPerson(id: ID<Person>, _ draft: PersonDraft, now: Timestamp, by principal: Principal)
        throws(DomainError) -> Changed<Person>
    {
        try Authorization.require(.directoryWrite, of: principal, in: self, to: "add people to the directory")
        guard let name = draft.name else { throw DomainError.invalid("name", "is required") }
        guard let email = draft.email else { throw DomainError.invalid("email", "is required") }
        guard let role = draft.role else { throw DomainError.invalid("role", "is required") }
        var person = Person(
            id: id, name: try Validate.name(name, field: "name"), email: try Validate.email(email), role: role,
            managerID: nil, squad: nil, reviewTemplateID: nil, isAdmin: draft.isAdmin ?? false, createdAt: now,
            updatedAt: now)
        person.squad = try Validate.optionalLabel(draft.squad ?? nil, field: "squad")
        person.managerID = draft.managerID ?? nil
        person.reviewTemplateID = draft.reviewTemplateID ?? nil
        try checkReferences(of: person)
        return Changed(.personCreated, person)
    }

    /// Change a person (`directory:write`); nothing is recorded when nothing would change.
    public func updatePerson(id: ID<Person>, _ draft: PersonDraft, now: Timestamp, by principal: Principal)
        throws(DomainError) -> Changed<Person>
    {
        guard var person = people[id] else { throw DomainError.notFound("person", id.text) }
        try Authorization.require(.directoryWrite, of: principal, in: self, to: "change the directory")
        let before = person
        if let name = draft.name { person.name = try Validate.name(name, field: "name") }
        if let email = draft.email { person.email = try Validate.email(email) }
        if let role = draft.role { person.role = role }
        if let squad = draft.squad { person.squad = try Validate.optionalLabel(squad, field: "squad") }
        if let managerID = draft.managerID { person.managerID = managerID }
        if let template = draft.reviewTemplateID { person.reviewTemplateID = template }
        if let isAdmin = draft.isAdmin { person.isAdmin = isAdmin }
        try checkReferences(of: person)
        person.updatedAt = now
        var unchanged = before
        unchanged.updatedAt = now
        return person == unchanged ? Changed(before, []) : Changed(.personUpdated, person)
    }

    /// A person of the directory, which everyone may read (`directory:read`).
    public func readPerson(_ id: ID<Person>, by principal: Principal) throws(DomainError) -> Person {
        try Authorization.require(.directoryRead, of: principal, in: self, to: "read the directory")
        guard let person = people[id] else { throw DomainError.notFound("person", id.text) }
        return person
    }

    /// A page of the directory after the id `after`, filtered by role, squad and manager: at most `limit + 1`
    /// people, the last only saying that more follow.
    ///
    /// Walks the narrowest index the filters allow, in id order from the cursor, until the page is full: a page
    /// costs the same in an organization of a hundred or of a hundred thousand.
    public func listPeople(
        role: Person.Role?, squad: String?, managerID: ID<Person>?, after: String?, limit: Int, by principal: Principal
    ) throws(DomainError) -> [Person] {
        try Authorization.require(.directoryRead, of: principal, in: self, to: "read the directory")
        let index: SortedIDs<Person>
        if let managerID {
            index = people.indexes.directReports[managerID]
        } else if let squad {
            index = people.indexes.squadMembers[squad]
        } else if let role {
            index = people.indexes.byRole[role]
        } else {
            index = people.ids
        }
        var found: [Person] = []
        var position = index.firstIndex(after: after)
        while position < index.endIndex && found.count <= limit {
            if let person = people[index[position]], role == nil || person.role == role,
                squad == nil || person.squad == squad, managerID == nil || person.managerID == managerID
            {
                found.append(person)
            }
            position += 1
        }
        return found
    }

    /// Email unique, manager existing and not making a cycle, template existing.
    private func checkReferences(of person: Person) throws(DomainError) {
        if let holder = self.person(email: person.email), holder.id != person.id {
            throw DomainError(
                .conflict, "email \(person.email) is already used by \(holder.id) in this organization.")
        }
        if let managerID = person.managerID {
            guard managerID != person.id else {
                throw DomainError.invalid("manager_id", "cannot be the person themself")
            }
            guard people[managerID] != nil else {
                throw DomainError(
                    .unprocessable(field: "manager_id"), "manager_id \(managerID) is not a person of this organization."
                )
            }
            // Walk up from the new manager: meeting the person again would close a loop.
            var current: ID<Person>? = managerID
            var steps = 0
            while let id = current, steps <= people.count {
                if id == person.id {
                    throw DomainError.invalid(
                        "manager_id", "would make a cycle: \(managerID) reports, directly or not, to \(person.id)")
                }
                current = people[id]?.managerID
                steps += 1
            }
        }
        if let template = person.reviewTemplateID, templates[template] == nil {
            throw DomainError(
                .unprocessable(field: "review_template_id"),
                "review_template_id \(template) is not a template of this organization.")
        }
    }
}

extension Validate {
    /// An email address: one `@`, a non-empty local part, a dotted domain, no spaces or control characters; at
    /// most 254 bytes.
    public static func email(_ value: String) throws(DomainError) -> String {
        var email = value.trimmingWhitespace()
        // One pass over the bytes; only an address beyond ASCII needs the Unicode tables.
        let shape = email.withUTF8 { emailShape($0) }
        guard let beyondASCII = shape,
            !beyondASCII
                || !(email.unicodeScalars.contains { $0.properties.isWhitespace } || email.containsControlCharacters)
        else { throw DomainError.invalid("email", "must be an email address such as ada@example.org") }
        return email
    }

    /// Whether `bytes` look like an address (see `email`), and if so whether any byte is beyond ASCII; `nil` when
    /// they do not.
    static func emailShape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard bytes.count <= 254 else { return nil }
        var at = -1
        var dotInDomain = false
        var beyondASCII = false
        var previous: UInt8 = 0
        for position in bytes.indices {
            let byte = bytes[position]
            if byte <= 0x20 || byte == 0x7F { return nil }
            if byte >= 0x80 { beyondASCII = true }
            if byte == UInt8(ascii: "@") {
                // One @, after a non-empty local part.
                if at >= 0 || position == 0 { return nil }
                at = position
            } else if byte == UInt8(ascii: "."), at >= 0 {
                // The domain neither starts with a dot nor holds two in a row.
                if previous == UInt8(ascii: "@") || previous == UInt8(ascii: ".") { return nil }
                dotInDomain = true
            }
            previous = byte
        }
        guard at > 0, dotInDomain, previous != UInt8(ascii: ".") else { return nil }
        return beyondASCII
    }

    /// An optional short label such as a squad: trimmed; empty means none.
    public static func optionalLabel(_ value: String?, field: String) throws(DomainError) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        return try name(trimmed, field: field)
    }
}
