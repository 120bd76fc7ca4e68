/// A template item as a create or an update gives it.
public struct TemplateItemDraft: Sendable {
    public var id: ID<Template.Item>?
    public var area: String
    public var label: String
    public var isMandatory: Bool
    public var sortOrder: Int?

    /// An item draft.
    public init(id: ID<Template.Item>?, area: String, label: String, isMandatory: Bool, sortOrder: Int?) {
        self.id = id
        self.area = area
        self.label = label
        self.isMandatory = isMandatory
        self.sortOrder = sortOrder
    }
}

extension State {
    /// The most KPI items a template may hold.
    public static let maximumTemplateItems = 100

    /// Create a template (`directory:write`). `newItemID` makes ids for items.
    public func createTemplate(
        id: ID<Template>, name: String, items: [TemplateItemDraft], now: Timestamp,
        newItemID: () -> ID<Template.Item>, by principal: Principal
    ) throws(DomainError) -> Changed<Template> {
        try Authorization.require(.directoryWrite, of: principal, in: self, to: "create review templates")
        let template = Template(
            id: id, name: try Validate.name(name, field: "name"),
            items: try Self.items(items, existing: [], newItemID: newItemID), createdAt: now, updatedAt: now)
        return Changed(.templateCreated, template)
    }

    /// Update a template (`directory:write`); `items`, when given, replaces the list (an item named by id keeps it).
    public func updateTemplate(
        id: ID<Template>, name: String?, items: [TemplateItemDraft]?, now: Timestamp,
        newItemID: () -> ID<Template.Item>, by principal: Principal
    ) throws(DomainError) -> Changed<Template> {
        guard var template = templates[id] else { throw DomainError.notFound("template", id.text) }
        try Authorization.require(.directoryWrite, of: principal, in: self, to: "change review templates")
        if let name { template.name = try Validate.name(name, field: "name") }
        if let items { template.items = try Self.items(items, existing: template.items, newItemID: newItemID) }
        template.updatedAt = now
        return Changed(.templateUpdated, template)
    }

    /// A template, which everyone may read (`directory:read`).
    public func readTemplate(_ id: ID<Template>, by principal: Principal) throws(DomainError) -> Template {
        try Authorization.require(.directoryRead, of: principal, in: self, to: "read review templates")
        guard let template = templates[id] else { throw DomainError.notFound("template", id.text) }
        return template
    }

    /// Every template, in id order.
    public func listTemplates(by principal: Principal) throws(DomainError) -> [Template] {
        try Authorization.require(.directoryRead, of: principal, in: self, to: "read review templates")
        return templates.inOrder
    }

    private static func items(
        _ drafts: [TemplateItemDraft], existing: [Template.Item], newItemID: () -> ID<Template.Item>
    ) throws(DomainError) -> [Template.Item] {
        guard drafts.count <= maximumTemplateItems else {
            throw DomainError.invalid("items", "must list at most \(maximumTemplateItems) KPIs")
        }
        var items: [Template.Item] = []
        for (offset, draft) in drafts.enumerated() {
            let field = "items[\(offset)]"
            var id = newItemID()
            if let named = draft.id {
                guard existing.contains(where: { $0.id == named }) else {
                    throw DomainError.invalid("\(field).id", "is not an item of this template")
                }
                guard !items.contains(where: { $0.id == named }) else {
                    throw DomainError.invalid("\(field).id", "names an item already listed")
                }
                id = named
            }
            items.append(
                Template.Item(
                    id: id, area: try Validate.name(draft.area, field: "\(field).area"),
                    label: try Validate.name(draft.label, field: "\(field).label"), isMandatory: draft.isMandatory,
                    sortOrder: draft.sortOrder ?? offset))
        }
        return items
    }

    /// Write an observation about `employeeID`.
    public func createObservation(
        id: ID<Observation>, employeeID: ID<Person>, text: String, observedOn: Day, author: Principal, now: Timestamp
    ) throws(DomainError) -> Changed<Observation> {
        let text = try Validate.text(text, field: "text", maximum: 10_000)
        guard observedOn <= now.day else {
            throw DomainError.invalid("observed_on", "(\(observedOn)) is in the future")
        }
        try requireManagement(of: employeeID, by: author, to: "write observations about")
        return Changed(
            .observationCreated,
            Observation(
                id: id, employeeID: employeeID, authorID: author.actorID, text: text, observedOn: observedOn,
                createdAt: now))
    }

    /// Set an objective for `employeeID`.
    public func createObjective(
        id: ID<Objective>, employeeID: ID<Person>, title: String, description: String?, dueDate: Day?,
        status: Objective.Status?, author: Principal, now: Timestamp
    ) throws(DomainError) -> Changed<Objective> {
        let title = try Validate.name(title, field: "title")
        let description = try description.map { text throws(DomainError) in
            try Validate.text(text, field: "description", maximum: 10_000)
        }
        try requireManagement(of: employeeID, by: author, to: "set objectives for")
        return Changed(
            .objectiveCreated,
            Objective(
                id: id, employeeID: employeeID, authorID: author.actorID, title: title, description: description,
                dueDate: dueDate, status: status ?? .notStarted, createdAt: now, updatedAt: now))
    }

    /// Not found when the employee is invisible; permission denied when visible but not managed, or without
    /// `update:performance`.
    private func requireManagement(of employeeID: ID<Person>, by author: Principal, to action: String)
        throws(DomainError)
    {
        guard people[employeeID] != nil, Authorization.canSee(employeeID, by: author, in: self) else {
            throw DomainError.notFound("person", employeeID.text)
        }
        try Authorization.require(.updatePerformance, of: author, in: self, to: "\(action) people")
        guard Authorization.manages(employeeID, principal: author, in: self) else {
            throw DomainError(
                .permissionDenied, "Only the managers of \(employeeID) (or executives and admins) may \(action) them.")
        }
    }

    /// Mark the acting person's notifications read; ids already read change nothing. The value is how many were
    /// unread.
    public func markNotificationsRead(_ ids: [ID<Notification>], of person: ID<Person>, now: Timestamp)
        throws(DomainError) -> Changed<Int>
    {
        var changes: [Change] = []
        var marked: Set<ID<Notification>> = []
        for id in ids {
            guard var notification = notifications[id], notification.recipientID == person else {
                throw DomainError.notFound("notification", id.text)
            }
            guard notification.readAt == nil, marked.insert(id).inserted else { continue }
            notification.readAt = now
            changes.append(Change(.notificationRead, notification))
        }
        return Changed(changes.count, changes)
    }

    /// The acting person's notifications, newest first.
    public func notifications(of person: ID<Person>, unreadOnly: Bool) -> [Notification] {
        notifications.rows(notifications.indexes.byRecipient[person].reversed()).filter {
            !unreadOnly || $0.readAt == nil
        }
    }

    /// An observation, for its author's chain: not found for anyone else.
    public func readObservation(_ id: ID<Observation>, by principal: Principal) throws(DomainError) -> Observation {
        guard let observation = observations[id],
            Authorization.canRead(observation.employeeID, by: principal, in: self, ownRecords: false)
        else { throw DomainError.notFound("observation", id.text) }
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read observations")
        return observation
    }

    /// The observations `principal` may read, about `employeeID` or everyone, in id order.
    public func listObservations(about employeeID: ID<Person>?, by principal: Principal) throws(DomainError)
        -> [Observation]
    {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read observations")
        let ids = employeeID.map { observations.indexes.byEmployee[$0] } ?? observations.ids
        return observations.rows(ids).filter {
            Authorization.canRead($0.employeeID, by: principal, in: self, ownRecords: false)
        }
    }

    /// An objective, for its employee and their chain: not found for anyone else.
    public func readObjective(_ id: ID<Objective>, by principal: Principal) throws(DomainError) -> Objective {
        guard let objective = objectives[id],
            Authorization.canRead(objective.employeeID, by: principal, in: self, ownRecords: true)
        else { throw DomainError.notFound("objective", id.text) }
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read objectives")
        return objective
    }

    /// The objectives `principal` may read, for `employeeID` or everyone, in id order.
    public func listObjectives(for employeeID: ID<Person>?, by principal: Principal) throws(DomainError)
        -> [Objective]
    {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read objectives")
        let ids = employeeID.map { objectives.indexes.byEmployee[$0] } ?? objectives.ids
        return objectives.rows(ids).filter {
            Authorization.canRead($0.employeeID, by: principal, in: self, ownRecords: true)
        }
    }
}
