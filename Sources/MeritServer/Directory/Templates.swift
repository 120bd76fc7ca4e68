import MeritDomain
import MeritJSON

/// `templates.create`, `templates.update`, `templates.get`, `templates.list`: review templates and their KPI
/// items. Reading needs `directory:read`; writing needs `directory:write` (admins and integrations).
enum TemplateMethods {
    static let all: [Method] = [create, update, get, list]

    static let create = Method("templates.create", access: .authenticated) { server, params in
        let name = try params.required("name", as: String.self)
        let items = try readItems(try params.required("items", as: [JSON].self), allowIDs: false)
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.createTemplate(
                id: engine.newID(), name: name, items: items, now: engine.now, newItemID: { engine.newID() },
                by: server.requestPrincipal)
        }.json
    }

    static let update = Method("templates.update", access: .authenticated) { server, params in
        params.refusesNull = true
        let id: ID<Template> = try params.id("id")
        let name = try params.optional("name", as: String.self)
        let items = try params.optional("items", as: [JSON].self).map { try readItems($0, allowIDs: true) }
        try params.finish()
        let engine = server.engine
        return try server.record { state in
            try state.updateTemplate(
                id: id, name: name, items: items, now: engine.now, newItemID: { engine.newID() },
                by: server.requestPrincipal)
        }.json
    }

    static let get = Method("templates.get", access: .authenticated) { server, params in
        let id: ID<Template> = try params.id("id")
        try params.finish()
        return try server.withState { state in try state.readTemplate(id, by: server.requestPrincipal) }.json
    }

    static let list = Method("templates.list", access: .authenticated) { server, params in
        let page = try PageRequest(&params)
        try params.finish()
        return page.render(try server.withState { state in try state.listTemplates(by: server.requestPrincipal) })
    }

    static func readItems(_ values: [JSON], allowIDs: Bool) throws -> [TemplateItemDraft] {
        var drafts: [TemplateItemDraft] = []
        for (offset, value) in values.enumerated() {
            var item = try FieldReader(value, path: "items[\(offset)].")
            let id: ID<Template.Item>? = allowIDs ? try item.optionalID("id") : nil
            let draft = TemplateItemDraft(
                id: id, area: try item.required("area", as: String.self),
                label: try item.required("label", as: String.self),
                isMandatory: try item.required("is_mandatory", as: Bool.self),
                sortOrder: try item.optional("sort_order", as: Int.self))
            try item.finish()
            drafts.append(draft)
        }
        return drafts
    }
}

extension Template: ServedResource {
    static var methods: [Method] { TemplateMethods.all }
}
