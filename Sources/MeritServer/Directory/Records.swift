import MeritDomain
import MeritJSON
import MeritRPC

/// `observations.*` and `objectives.*`: what managers record about the people below them, which summaries cite.
///
/// Writing needs `update:performance` and being the employee's manager (or an executive, an admin or an
/// integration). Reading follows the same rule, and an employee may also read their own objectives.
enum RecordMethods {
    static let all: [Method] = [
        createObservation, getObservation, listObservations, createObjective, getObjective,
        listObjectives,
    ]

    static let createObservation = Method("observations.create", access: .authenticated) { server, params in
        let employee = try parseID(
            try params.required("employee_id", as: String.self), as: Person.self, field: "employee_id")
        let text = try params.required("text", as: String.self)
        let observedOn = try parseDay(try params.required("observed_on", as: String.self), field: "observed_on")
        try params.finish()
        let change = try server.engine.state.createObservation(
            id: server.engine.newID(), employeeID: employee, text: text, observedOn: observedOn,
            author: server.requestPrincipal, now: server.engine.now)
        try server.record([change])
        return server.engine.lastRecordedResource
    }

    static let getObservation = Method("observations.get", access: .authenticated) { server, params in
        let id = try parseID(try params.required("id", as: String.self), as: Observation.self, field: "id")
        try params.finish()
        let state = server.engine.state
        guard let observation = state.observations[id],
            Authorization.canRead(observation.employeeID, by: server.requestPrincipal, in: state, ownRecords: false)
        else { throw DomainError.notFound("observation", id.text) }
        try server.require(.viewPerformance, to: "read observations")
        return observation.json
    }

    static let listObservations = Method("observations.list", access: .authenticated) { server, params in
        let (employee, page) = try readListParams(&params)
        try server.require(.viewPerformance, to: "read observations")
        let state = server.engine.state
        let principal = server.requestPrincipal
        let ids = employee.map { state.observationsByEmployee[$0] ?? [] } ?? state.observationOrder
        let visible = ids.compactMap { state.observations[$0] }.filter {
            Authorization.canRead($0.employeeID, by: principal, in: state, ownRecords: false)
        }
        return try page.slice(visible.sorted { $0.id < $1.id }, key: \.id.text) { $0.json }
    }

    static let createObjective = Method("objectives.create", access: .authenticated) { server, params in
        let employee = try parseID(
            try params.required("employee_id", as: String.self), as: Person.self, field: "employee_id")
        let title = try params.required("title", as: String.self)
        let description = try params.optional("description", as: String.self)
        let dueDate = try params.optional("due_date", as: String.self).map { try parseDay($0, field: "due_date") }
        let status = try params.optional("status", as: String.self).map { text throws(DomainError) in
            guard let status = Objective.Status(rawValue: text) else {
                let names = Objective.Status.allCases.map(\.rawValue).joined(separator: ", ")
                throw DomainError.invalid("status", "must be one of \(names), not '\(text)'")
            }
            return status
        }
        try params.finish()
        let change = try server.engine.state.createObjective(
            id: server.engine.newID(), employeeID: employee, title: title, description: description, dueDate: dueDate,
            status: status, author: server.requestPrincipal, now: server.engine.now)
        try server.record([change])
        return server.engine.lastRecordedResource
    }

    static let getObjective = Method("objectives.get", access: .authenticated) { server, params in
        let id = try parseID(try params.required("id", as: String.self), as: Objective.self, field: "id")
        try params.finish()
        let state = server.engine.state
        guard let objective = state.objectives[id],
            Authorization.canRead(objective.employeeID, by: server.requestPrincipal, in: state, ownRecords: true)
        else { throw DomainError.notFound("objective", id.text) }
        try server.require(.viewPerformance, to: "read objectives")
        return objective.json
    }

    static let listObjectives = Method("objectives.list", access: .authenticated) { server, params in
        let (employee, page) = try readListParams(&params)
        try server.require(.viewPerformance, to: "read objectives")
        let state = server.engine.state
        let principal = server.requestPrincipal
        let ids = employee.map { state.objectivesByEmployee[$0] ?? [] } ?? state.objectiveOrder
        let visible = ids.compactMap { state.objectives[$0] }.filter {
            Authorization.canRead($0.employeeID, by: principal, in: state, ownRecords: true)
        }
        return try page.slice(visible.sorted { $0.id < $1.id }, key: \.id.text) { $0.json }
    }

    static func readListParams(_ params: inout FieldReader) throws -> (ID<Person>?, PageRequest) {
        let employee = try params.optional("employee_id", as: String.self).map { text throws(DomainError) in
            try parseID(text, as: Person.self, field: "employee_id")
        }
        let page = try PageRequest(&params)
        try params.finish()
        return (employee, page)
    }
}

extension Authorization {
    /// Whether `principal` may read a record about `employee`: their managers (and executives, admins and
    /// integrations), and, for records that are the employee's own such as objectives, the employee.
    static func canRead(_ employee: ID<Person>, by principal: Principal, in state: State, ownRecords: Bool) -> Bool {
        if ownRecords && principal.personID == employee { return true }
        return manages(employee, principal: principal, in: state)
    }
}

/// Parse a `YYYY-MM-DD` date from a field.
func parseDay(_ text: String, field: String) throws(DomainError) -> Day {
    guard let day = Day(text) else { throw DomainError.invalid(field, "must be a date YYYY-MM-DD, not '\(text)'") }
    return day
}
