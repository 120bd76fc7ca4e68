import MeritDomain
import MeritJSON

/// `performance.cycles.*`: review cycles. Reading needs `view:performance` (drafts only with
/// `manage:performance`); creating, changing and deleting need `manage:performance`.
enum CycleMethods {
    static let all: [Method] = [list, create, get, update, delete]

    static let list = Method("performance.cycles.list", access: .authenticated) { server, params in
        try params.finish()
        return [
            "cycles": .array(
                try server.withState { state in try state.listCycles(by: server.requestPrincipal) }.map(\.json))
        ]
    }

    static let create = Method("performance.cycles.create", access: .authenticated) { server, params in
        let type = try params.enumeration("type", ReviewCycle.Kind.self)
        let name = try params.required("name", as: String.self)
        let periodStart = try params.day("period_start")
        let periodEnd = try params.day("period_end")
        let dueDate = try params.optionalDay("due_date")
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.createCycle(
                id: engine.newID(), type: type, name: name, periodStart: periodStart, periodEnd: periodEnd,
                dueDate: dueDate, now: engine.now, by: server.requestPrincipal)
        }.json
    }

    static let get = Method("performance.cycles.get", access: .authenticated) { server, params in
        let id: ID<ReviewCycle> = try params.id("id")
        try params.finish()
        let detail = try server.withState { state in try state.readCycle(id, by: server.requestPrincipal) }
        var stats: JSONObject = ["total": .int(Int64(detail.total))]
        for status in [Review.Status.completed, .draft, .selfAssessment, .inReview, .readyForReview] {
            stats.append(status.rawValue, .int(Int64(detail.counts[status] ?? 0)))
        }
        return ["cycle": detail.cycle.json, "stats": .object(stats)]
    }

    static let update = Method("performance.cycles.update", access: .authenticated) { server, params in
        params.refusesNull = true
        let id: ID<ReviewCycle> = try params.id("id")
        let name = try params.optional("name", as: String.self)
        let periodStart = try params.optionalDay("period_start")
        let periodEnd = try params.optionalDay("period_end")
        var dueDate: Day??
        switch try params.update("due_date", as: String.self) {
        case .absent: break
        case .null: dueDate = .some(nil)
        case .value(let text): dueDate = .some(try parseDay(text, field: "due_date"))
        }
        let status = try params.optionalEnumeration("status", ReviewCycle.Status.self)
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.updateCycle(
                id: id, name: name, periodStart: periodStart, periodEnd: periodEnd, dueDate: dueDate, status: status,
                now: engine.now, by: server.requestPrincipal)
        }.json
    }

    static let delete = Method("performance.cycles.delete", access: .authenticated) { server, params in
        let id: ID<ReviewCycle> = try params.id("id")
        try params.finish()
        let deleted = try server.record { state in try state.deleteCycle(id: id, by: server.requestPrincipal) }
        return ["id": JSON(deleted.id), "deleted": true]
    }
}

extension ReviewCycle: ServedResource {
    static var methods: [Method] { CycleMethods.all }
}
