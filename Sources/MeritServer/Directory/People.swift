import MeritDomain
import MeritJSON

/// `people.create`, `people.update`, `people.get`, `people.list`: the directory. Everyone may read it
/// (`directory:read`); changing it needs `directory:write` (people-operations admins and integrations).
enum PeopleMethods {
    static let all: [Method] = [create, update, get, list]

    static let create = Method("people.create", access: .authenticated) { server, params, result in
        let draft = try readDraft(&params, creating: true)
        try params.finish()
        let engine = server.engine
        let person = try server.record { state in
            try state.createPerson(id: engine.newID(), draft, now: engine.now, by: server.requestPrincipal)
        }
        person.write(to: &result)
    }

    static let update = Method("people.update", access: .authenticated) { server, params, result in
        params.refusesNull = true
        let id: ID<Person> = try params.id("id")
        let draft = try readDraft(&params, creating: false)
        try params.finish()
        let engine = server.engine
        let person = try server.record { state in
            try state.updatePerson(id: id, draft, now: engine.now, by: server.requestPrincipal)
        }
        person.write(to: &result)
    }

    static let get = Method("people.get", access: .authenticated) { server, params, result in
        let id: ID<Person> = try params.id("id")
        try params.finish()
        try server.withState { state in try state.readPerson(id, by: server.requestPrincipal) }.write(to: &result)
    }

    static let list = Method("people.list", access: .authenticated) { server, params in
        let role = try params.optionalEnumeration("role", Person.Role.self)
        let squad = try params.optional("squad", as: String.self)
        let manager: ID<Person>? = try params.optionalID("manager_id")
        let page = try PageRequest(&params)
        try params.finish()
        let found = try server.withState { state in
            try state.listPeople(
                role: role, squad: squad, managerID: manager, after: page.after, limit: page.limit,
                by: server.requestPrincipal)
        }
        return page.render(found, key: \.id.text, json: \.json)
    }

    /// The fields people.create and people.update share; `creating` makes name, email and role required.
    static func readDraft(_ params: inout FieldReader, creating: Bool) throws -> PersonDraft {
        var draft = PersonDraft()
        if creating {
            draft.name = try params.required("name", as: String.self)
            draft.email = try params.required("email", as: String.self)
            draft.role = try params.enumeration("role")
        } else {
            draft.name = try params.optional("name", as: String.self)
            draft.email = try params.optional("email", as: String.self)
            draft.role = try params.optionalEnumeration("role")
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
            draft.reviewTemplateID = .some(try parseID(text, as: Template.self, field: "review_template_id"))
        }
        draft.isAdmin = try params.optional("is_admin", as: Bool.self)
        return draft
    }
}

extension Person: ServedResource {
    static var methods: [Method] { PeopleMethods.all }
}
