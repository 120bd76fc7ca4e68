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

    /// The change that creates a template. `newItemID` makes ids for items.
    public func createTemplate(
        id: ID<Template>, name: String, items: [TemplateItemDraft], now: Timestamp,
        newItemID: () -> ID<Template.Item>
    ) throws(DomainError) -> Change {
        let template = Template(
            id: id, name: try Validate.name(name, field: "name"),
            items: try Self.items(items, existing: [], newItemID: newItemID), createdAt: now, updatedAt: now)
        return .templateCreated(template)
    }

    /// The change that updates a template; `items`, when given, replaces the list (an item named by id keeps it).
    public func updateTemplate(
        id: ID<Template>, name: String?, items: [TemplateItemDraft]?, now: Timestamp,
        newItemID: () -> ID<Template.Item>
    ) throws(DomainError) -> Change {
        guard var template = templates[id] else { throw DomainError.notFound("template", id.text) }
        if let name { template.name = try Validate.name(name, field: "name") }
        if let items { template.items = try Self.items(items, existing: template.items, newItemID: newItemID) }
        template.updatedAt = now
        return .templateUpdated(template)
    }

    private static func items(
        _ drafts: [TemplateItemDraft], existing: [Template.Item], newItemID: () -> ID<Template.Item>
    ) throws(DomainError) -> [Template.Item] {
        guard !drafts.isEmpty else { throw DomainError.invalid("items", "must list at least one KPI") }
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

    /// The change that writes an observation about `employeeID`.
    public func createObservation(
        id: ID<Observation>, employeeID: ID<Person>, text: String, observedOn: Day, author: Principal, now: Timestamp
    ) throws(DomainError) -> Change {
        let text = try Validate.text(text, field: "text", maximum: 10_000)
        guard observedOn <= now.day else {
            throw DomainError.invalid("observed_on", "(\(observedOn)) is in the future")
        }
        try requireManagement(of: employeeID, by: author, to: "write observations about")
        return .observationCreated(
            Observation(
                id: id, employeeID: employeeID, authorID: author.actorID, text: text, observedOn: observedOn,
                createdAt: now))
    }

    /// The change that sets an objective for `employeeID`.
    public func createObjective(
        id: ID<Objective>, employeeID: ID<Person>, title: String, description: String?, dueDate: Day?,
        status: Objective.Status?, author: Principal, now: Timestamp
    ) throws(DomainError) -> Change {
        let title = try Validate.name(title, field: "title")
        let description = try description.map { text throws(DomainError) in
            try Validate.text(text, field: "description", maximum: 10_000)
        }
        try requireManagement(of: employeeID, by: author, to: "set objectives for")
        return .objectiveCreated(
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

    /// The change that updates the organization's name or settings, or `nil` when nothing changes.
    public func updateOrganization(
        name: String?, feedbackMinimumResponses: Int?, summaryReviewWorkflow: Bool?, now: Timestamp
    ) throws(DomainError) -> Change? {
        guard var organization else { throw DomainError(.notFound, "This data directory holds no organization.") }
        let before = organization
        if let name { organization.name = try Validate.name(name, field: "name") }
        if let minimum = feedbackMinimumResponses {
            guard (1...100).contains(minimum) else {
                throw DomainError.invalid("settings.feedback_min_responses", "must be between 1 and 100")
            }
            organization.settings.feedbackMinimumResponses = minimum
        }
        if let workflow = summaryReviewWorkflow { organization.settings.summaryReviewWorkflow = workflow }
        guard organization != before else { return nil }
        organization.updatedAt = now
        return .organizationUpdated(organization)
    }

    /// The changes that mark the acting person's notifications read; ids already read change nothing.
    public func markNotificationsRead(_ ids: [ID<Notification>], of person: ID<Person>, now: Timestamp)
        throws(DomainError) -> [Change]
    {
        var changes: [Change] = []
        for id in ids {
            guard var notification = notifications[id], notification.recipientID == person else {
                throw DomainError.notFound("notification", id.text)
            }
            guard notification.readAt == nil, !changes.contains(where: { $0.notificationID == id }) else { continue }
            notification.readAt = now
            changes.append(.notificationRead(notification))
        }
        return changes
    }
}

extension Change {
    var notificationID: ID<Notification>? {
        switch self {
        case .notificationCreated(let notification), .notificationRead(let notification): return notification.id
        default: return nil
        }
    }
}

extension Validate {
    /// Free text: not empty after trimming, at most `maximum` characters, no control characters but line breaks
    /// and tabs.
    public static func text(_ value: String, field: String, maximum: Int) throws(DomainError) -> String {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw DomainError.invalid(field, "must not be empty") }
        guard trimmed.utf8.count <= maximum || trimmed.count <= maximum else {
            throw DomainError.invalid(field, "must be at most \(maximum) characters")
        }
        let allowed: Set<UInt8> = [0x09, 0x0A, 0x0D]
        guard !trimmed.utf8.contains(where: { ($0 < 0x20 && !allowed.contains($0)) || $0 == 0x7F }) else {
            throw DomainError.invalid(field, "must not contain control characters")
        }
        return trimmed
    }
}
