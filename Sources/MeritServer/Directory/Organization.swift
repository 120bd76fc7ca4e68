import MeritDomain
import MeritJSON

/// `organization.get` (any authenticated principal) and `organization.update` (admins: `directory:write`).
enum OrganizationMethods {
    static let all: [Method] = [get, update]

    static let get = Method("organization.get", access: .authenticated) { server, params in
        try params.finish()
        return try server.withState { state in try state.readOrganization() }.json
    }

    static let update = Method("organization.update", access: .authenticated) { server, params in
        params.refusesNull = true
        let name = try params.optional("name", as: String.self)
        var minimum: Int?
        var workflow: Bool?
        if var settings = try params.nested("settings") {
            minimum = try settings.optional("feedback_min_responses", as: Int.self)
            workflow = try settings.optional("summary_review_workflow", as: Bool.self)
            try settings.finish()
        }
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.updateOrganization(
                name: name, feedbackMinimumResponses: minimum, summaryReviewWorkflow: workflow, now: engine.now,
                by: server.requestPrincipal)
        }.json
    }
}

extension Organization: ServedResource {
    static var methods: [Method] { OrganizationMethods.all }
}
