import MeritDomain
import MeritJSON
import MeritRPC

/// `templates.create`, `templates.update`, `templates.get`, `templates.list`: review templates and their KPI
/// items. Reading needs `directory:read`; writing needs `directory:write` (admins and integrations).
enum TemplateMethods {
    static let all: [Method] = [create, update, get, list]

    static let create = Method("templates.create", access: .authenticated) { server, params in
        let name = try params.required("name", as: String.self)
        let items = try readItems(try params.required("items", as: [JSON].self), allowIDs: false)
        try params.finish()
        try server.require(.directoryWrite, to: "create review templates")
        let engine = server.engine
        let change = try engine.state.createTemplate(
            id: engine.newID(), name: name, items: items, now: engine.now, newItemID: { engine.newID() })
        try server.record([change])
        return server.engine.lastRecordedResource
    }

    static let update = Method("templates.update", access: .authenticated) { server, params in
        let id = try parseID(try params.required("id", as: String.self), as: Template.self, field: "id")
        let name = try params.optional("name", as: String.self)
        let items = try params.optional("items", as: [JSON].self).map { try readItems($0, allowIDs: true) }
        try params.finish()
        guard server.engine.state.templates[id] != nil else { throw DomainError.notFound("template", id.text) }
        try server.require(.directoryWrite, to: "change review templates")
        let engine = server.engine
        let change = try engine.state.updateTemplate(
            id: id, name: name, items: items, now: engine.now, newItemID: { engine.newID() })
        try server.record([change])
        return server.engine.lastRecordedResource
    }

    static let get = Method("templates.get", access: .authenticated) { server, params in
        let id = try parseID(try params.required("id", as: String.self), as: Template.self, field: "id")
        try params.finish()
        try server.require(.directoryRead, to: "read review templates")
        guard let template = server.engine.state.templates[id] else {
            throw DomainError.notFound("template", id.text)
        }
        return template.json
    }

    static let list = Method("templates.list", access: .authenticated) { server, params in
        let page = try PageRequest(&params)
        try params.finish()
        try server.require(.directoryRead, to: "read review templates")
        let state = server.engine.state
        let templates = state.templateOrder.compactMap { state.templates[$0] }.sorted { $0.id < $1.id }
        return try page.slice(templates, key: \.id.text) { $0.json }
    }

    static func readItems(_ values: [JSON], allowIDs: Bool) throws -> [TemplateItemDraft] {
        var drafts: [TemplateItemDraft] = []
        for (offset, value) in values.enumerated() {
            let path = "items[\(offset)]."
            var item = try FieldReader(value, path: path)
            var id: ID<Template.Item>?
            if allowIDs, let text = try item.optional("id", as: String.self) {
                id = try parseID(text, as: Template.Item.self, field: path + "id")
            }
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
