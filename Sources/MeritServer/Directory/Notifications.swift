import MeritDomain
import MeritJSON

/// `notifications.list` and `notifications.mark_read`: the acting person's own in-app notifications.
enum NotificationMethods {
    static let all: [Method] = [list, markRead]

    static let list = Method("notifications.list", access: .authenticated) { server, params in
        let unreadOnly = try params.optional("unread_only", as: Bool.self) ?? false
        try params.finish()
        let person = try server.actingPerson(for: "notifications.list")
        let notifications = server.withState { state in state.notifications(of: person, unreadOnly: unreadOnly) }
        return ["data": .array(notifications.map(\.json))]
    }

    static let markRead = Method("notifications.mark_read", access: .authenticated) { server, params in
        let ids: [ID<Notification>] = try params.ids("ids")
        try params.finish()
        let person = try server.actingPerson(for: "notifications.mark_read")
        let updated = try server.record { state in
            try state.markNotificationsRead(ids, of: person, now: server.engine.now)
        }
        return ["updated": .int(Int64(updated))]
    }
}

extension Notification: ServedResource {
    static var methods: [Method] { NotificationMethods.all }

    /// As `notifications.list` shows it, with `recipient_id` after `id`: a feed reader delivering notifications
    /// (by mail, say) needs to know to whom.
    func feedData(for kind: ChangeKind, in state: State) -> JSON {
        guard case .object(let object) = json else { return json }
        return .object(object.inserting([("recipient_id", JSON(recipientID))], after: "id"))
    }
}
