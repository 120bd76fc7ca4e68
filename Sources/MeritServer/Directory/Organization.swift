import MeritDomain
import MeritJSON

/// `organization.get` (any authenticated principal) and `organization.update` (admins: `directory:write`).
enum OrganizationMethods {
    static let all: [Method] = [get, update]

    static let get = Method("organization.get", access: .authenticated) { server, params in
        try params.finish()
        guard let organization = server.engine.state.organization else {
            throw DomainError(.notFound, "This data directory holds no organization; create one with merit init.")
        }
        return [
            "id": JSON(organization.id), "name": .string(organization.name), "settings": organization.settings.json,
        ]
    }
}

extension OrganizationMethods {
    static let update = Method("organization.update", access: .authenticated) { server, params in
        let name = try params.optional("name", as: String.self)
        var minimum: Int?
        var workflow: Bool?
        if var settings = try params.nested("settings") {
            minimum = try settings.optional("feedback_min_responses", as: Int.self)
            workflow = try settings.optional("summary_review_workflow", as: Bool.self)
            try settings.finish()
        }
        try params.finish()
        try server.require(.directoryWrite, to: "change the organization")
        if let change = try server.engine.state.updateOrganization(
            name: name, feedbackMinimumResponses: minimum, summaryReviewWorkflow: workflow, now: server.engine.now)
        {
            try server.record([change])
        }
        return try rendered(server.engine.state)
    }
}

extension OrganizationMethods {
    /// The organization as both methods answer it: `{id, name, settings}`.
    static func rendered(_ state: State) throws(DomainError) -> JSON {
        guard let organization = state.organization else {
            throw DomainError(.notFound, "This data directory holds no organization; create one with merit init.")
        }
        return [
            "id": JSON(organization.id), "name": .string(organization.name), "settings": organization.settings.json,
        ]
    }
}
