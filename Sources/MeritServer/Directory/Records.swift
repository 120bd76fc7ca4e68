import MeritDomain
import MeritJSON

/// `observations.*` and `objectives.*`: what managers record about the people below them, which summaries cite.
///
/// Writing needs `update:performance` and being the employee's manager (or an executive, an admin or an
/// integration). Reading follows the same rule, and an employee may also read their own objectives.
enum RecordMethods {
    static let observations: [Method] = [createObservation, getObservation, listObservations]
    static let objectives: [Method] = [createObjective, getObjective, listObjectives]

    static let createObservation = Method("observations.create", access: .authenticated) { server, params in
        let employee: ID<Person> = try params.id("employee_id")
        let text = try params.required("text", as: String.self)
        let observedOn = try params.day("observed_on")
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.createObservation(
                id: engine.newID(), employeeID: employee, text: text, observedOn: observedOn,
                author: server.requestPrincipal, now: engine.now)
        }.json
    }

    static let getObservation = Method("observations.get", access: .authenticated) { server, params in
        let id: ID<Observation> = try params.id("id")
        try params.finish()
        return try server.withState { state in try state.readObservation(id, by: server.requestPrincipal) }.json
    }

    static let listObservations = Method("observations.list", access: .authenticated) { server, params in
        let (employee, page) = try readListParams(&params)
        return page.render(
            try server.withState { state in try state.listObservations(about: employee, by: server.requestPrincipal) })
    }

    static let createObjective = Method("objectives.create", access: .authenticated) { server, params in
        let employee: ID<Person> = try params.id("employee_id")
        let title = try params.required("title", as: String.self)
        let description = try params.optional("description", as: String.self)
        let dueDate = try params.optionalDay("due_date")
        let status = try params.optionalEnumeration("status", Objective.Status.self)
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.createObjective(
                id: engine.newID(), employeeID: employee, title: title, description: description, dueDate: dueDate,
                status: status, author: server.requestPrincipal, now: engine.now)
        }.json
    }

    static let getObjective = Method("objectives.get", access: .authenticated) { server, params in
        let id: ID<Objective> = try params.id("id")
        try params.finish()
        return try server.withState { state in try state.readObjective(id, by: server.requestPrincipal) }.json
    }

    static let listObjectives = Method("objectives.list", access: .authenticated) { server, params in
        let (employee, page) = try readListParams(&params)
        return page.render(
            try server.withState { state in try state.listObjectives(for: employee, by: server.requestPrincipal) })
    }

    static func readListParams(_ params: inout FieldReader) throws -> (ID<Person>?, PageRequest) {
        let employee: ID<Person>? = try params.optionalID("employee_id")
        let page = try PageRequest(&params)
        try params.finish()
        return (employee, page)
    }
}

extension Observation: ServedResource {
    static var methods: [Method] { RecordMethods.observations }
}

extension Objective: ServedResource {
    static var methods: [Method] { RecordMethods.objectives }
}
