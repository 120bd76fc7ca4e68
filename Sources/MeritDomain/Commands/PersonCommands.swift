/// The fields of a person as a create or an update gives them; `nil` means "not given".
public struct PersonDraft: Sendable {
    public var name: String?
    public var email: String?
    public var role: Person.Role?
    /// `.some(nil)` clears the manager.
    public var managerID: ID<Person>??
    public var squad: String??
    public var reviewTemplateID: String??
    public var isAdmin: Bool?

    /// A draft with nothing given.
    public init(
        name: String? = nil, email: String? = nil, role: Person.Role? = nil, managerID: ID<Person>?? = nil,
        squad: String?? = nil, reviewTemplateID: String?? = nil, isAdmin: Bool? = nil
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
    /// The change that creates a person.
    public func createPerson(id: ID<Person>, _ draft: PersonDraft, now: Timestamp) throws(DomainError) -> Change {
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
        return .personCreated(person)
    }

    /// The change that updates a person, or `nil` when nothing would change.
    public func updatePerson(id: ID<Person>, _ draft: PersonDraft, now: Timestamp) throws(DomainError) -> Change? {
        guard var person = people[id] else { throw DomainError.notFound("person", id.text) }
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
        return person == unchanged ? nil : .personUpdated(person)
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
        if let template = person.reviewTemplateID, !templateExists(template) {
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
