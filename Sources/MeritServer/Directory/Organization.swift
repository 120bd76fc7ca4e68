import MeritDomain
import MeritJSON

/// `organization.get`: the organization and its settings, for any authenticated principal.
enum OrganizationMethods {
    static let all: [Method] = [get]

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
