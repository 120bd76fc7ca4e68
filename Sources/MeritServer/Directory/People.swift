import MeritDomain
import MeritJSON
import MeritRPC

/// `people.create`, `people.update`, `people.get`, `people.list`: the directory. Everyone may read it
/// (`directory:read`); changing it needs `directory:write` (people-operations admins and integrations).
enum PeopleMethods {
    static let all: [Method] = [create, update, get, list]

    static let create = Method("people.create", access: .authenticated) { server, params, result in
        let draft = try readDraft(&params, creating: true)
        try params.finish()
        try server.require(.directoryWrite, to: "add people to the directory")
        let change = try server.engine.state.createPerson(id: server.engine.newID(), draft, now: server.engine.now)
        guard case .personCreated(let person) = change else {
            throw RPCError.internalError("people.create made nobody")
        }
        try server.record([change])
        person.write(to: &result)
    }

    static let update = Method("people.update", access: .authenticated) { server, params, result in
        let id = try parseID(try params.required("id", as: String.self), as: Person.self, field: "id")
        let draft = try readDraft(&params, creating: false)
        try params.finish()
        guard server.engine.state.people[id] != nil else { throw DomainError.notFound("person", id.text) }
        try server.require(.directoryWrite, to: "change the directory")
        if let change = try server.engine.state.updatePerson(id: id, draft, now: server.engine.now) {
            try server.record([change])
        }
        server.engine.state.people[id]!.write(to: &result)
    }

    static let get = Method("people.get", access: .authenticated) { server, params, result in
        let id = try parseID(try params.required("id", as: String.self), as: Person.self, field: "id")
        try params.finish()
        try server.require(.directoryRead, to: "read the directory")
        guard let person = server.engine.state.people[id] else { throw DomainError.notFound("person", id.text) }
        person.write(to: &result)
    }

    static let list = Method("people.list", access: .authenticated) { server, params in
        let role = try params.optional("role", as: String.self).map { name throws(DomainError) in try parseRole(name) }
        let squad = try params.optional("squad", as: String.self)
        let manager = try params.optional("manager_id", as: String.self).map { text throws(DomainError) in
            try parseID(text, as: Person.self, field: "manager_id")
        }
        let page = try PageRequest(&params)
        try params.finish()
        try server.require(.directoryRead, to: "read the directory")
        let state = server.engine.state
        let matches = { (person: Person) in
            (role == nil || person.role == role) && (squad == nil || person.squad == squad)
                && (manager == nil || person.managerID == manager)
        }
        // Walk the narrowest index the filters allow, in id order from the cursor, until the page is full: a
        // page costs the same in an organization of a hundred or of a hundred thousand.
        let index: SortedIDs<Person>
        if let manager {
            var reports = SortedIDs<Person>()
            for id in state.directReports[manager] ?? [] { reports.insert(id) }
            index = reports
        } else if let squad {
            index = state.squadMembers[squad] ?? SortedIDs()
        } else if let role {
            index = state.peopleByRole[role] ?? SortedIDs()
        } else {
            index = state.peopleByID
        }
        var found: [Person] = []
        var position = index.firstIndex(after: page.after)
        while position < index.endIndex && found.count <= page.limit {
            if let person = state.people[index[position]], matches(person) { found.append(person) }
            position += 1
        }
        return page.render(found, key: \.id.text) { $0.json }
    }

    /// The fields people.create and people.update share; `creating` makes name, email and role required.
    static func readDraft(_ params: inout FieldReader, creating: Bool) throws -> PersonDraft {
        var draft = PersonDraft()
        if creating {
            draft.name = try params.required("name", as: String.self)
            draft.email = try params.required("email", as: String.self)
            draft.role = try parseRole(try params.required("role", as: String.self))
        } else {
            draft.name = try params.optional("name", as: String.self)
            draft.email = try params.optional("email", as: String.self)
            draft.role = try params.optional("role", as: String.self).map { name throws(DomainError) in
                try parseRole(name)
            }
        }
        switch try params.update("manager_id", as: String.self) {
        case .absent: break
        case .null: draft.managerID = .some(nil)
        case .value(let text): draft.managerID = .some(try parseID(text, as: Person.self, field: "manager_id"))
        }
        switch try params.update("squad", as: String.self) {
        case .absent: break
        case .null: draft.squad = .some(nil)
        case .value(let squad): draft.squad = .some(squad)
        }
        switch try params.update("review_template_id", as: String.self) {
        case .absent: break
        case .null: draft.reviewTemplateID = .some(nil)
        case .value(let text):
            draft.reviewTemplateID = .some(try parseID(text, as: Template.self, field: "review_template_id").text)
        }
        draft.isAdmin = try params.optional("is_admin", as: Bool.self)
        return draft
    }

    static func parseRole(_ name: String) throws(DomainError) -> Person.Role {
        guard let role = Person.Role(rawValue: name) else {
            let names = Person.Role.allCases.map(\.rawValue).joined(separator: ", ")
            throw DomainError.invalid("role", "must be one of \(names), not '\(name)'")
        }
        return role
    }
}

/// `limit` (default 50, at most 100) and `cursor` of a list, and the `{data, next_cursor}` envelope.
///
/// The cursor is the sort key of the last item returned, so a page is stable while items are added.
struct PageRequest {
    var limit: Int
    var after: String?

    init(_ params: inout FieldReader) throws {
        let limit = try params.optional("limit", as: Int.self) ?? 50
        guard (1...100).contains(limit) else { throw DomainError.invalid("limit", "must be between 1 and 100") }
        self.limit = limit
        if let cursor = try params.optional("cursor", as: String.self) {
            guard let decoded = Cursor.decode(cursor) else {
                throw DomainError.invalid("cursor", "is not a cursor this server returned")
            }
            after = decoded
        }
    }

    /// The page of `found`: up to `limit + 1` items in order after the cursor, the last only saying that more
    /// follow.
    func render<Item>(_ found: [Item], key: (Item) -> String, json: (Item) -> JSON) -> JSON {
        let page = found.prefix(limit)
        let next = found.count > limit ? page.last.map { Cursor.encode(key($0)) } : nil
        return ["data": .array(page.map(json)), "next_cursor": JSON(next)]
    }

    /// The page of `items` (sorted by `key`) after the cursor.
    func slice<Item>(_ items: [Item], key: (Item) -> String, render json: (Item) -> JSON) throws -> JSON {
        let remaining = after.map { after in items.drop { key($0) <= after } } ?? items[...]
        return render(Array(remaining.prefix(limit + 1)), key: key, json: json)
    }
}

/// Opaque cursors: the sort key, hex-encoded, so that clients do not build them by hand.
enum Cursor {
    static func encode(_ key: String) -> String {
        "c1."
            + key.utf8.map { byte in
                let digits = Array("0123456789abcdef")
                return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            }.joined()
    }

    static func decode(_ cursor: String) -> String? {
        guard cursor.hasPrefix("c1."), cursor.count % 2 == 1 else { return nil }
        var bytes: [UInt8] = []
        var digits = cursor.dropFirst(3).makeIterator()
        while let high = digits.next(), let low = digits.next() {
            guard let value = UInt8(String([high, low]), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
