import MeritDomain
import MeritJSON
import MeritRPC

/// `notifications.list` and `notifications.mark_read`: the acting person's own in-app notifications.
enum NotificationMethods {
    static let all: [Method] = [list, markRead]

    static let list = Method("notifications.list", access: .authenticated) { server, params in
        let unreadOnly = try params.optional("unread_only", as: Bool.self) ?? false
        try params.finish()
        let person = try server.actingPerson(for: "notifications.list")
        let state = server.engine.state
        let notifications = (state.notificationsByRecipient[person] ?? []).compactMap { state.notifications[$0] }
            .filter { !unreadOnly || $0.readAt == nil }.sorted { $0.id > $1.id }
        return ["data": .array(notifications.map(\.json))]
    }

    static let markRead = Method("notifications.mark_read", access: .authenticated) { server, params in
        let texts = try params.required("ids", as: [String].self)
        try params.finish()
        var ids: [ID<Notification>] = []
        for (offset, text) in texts.enumerated() {
            ids.append(try parseID(text, as: Notification.self, field: "ids[\(offset)]"))
        }
        let person = try server.actingPerson(for: "notifications.mark_read")
        let changes = try server.engine.state.markNotificationsRead(ids, of: person, now: server.engine.now)
        try server.record(changes)
        return ["updated": .int(Int64(changes.count))]
    }
}
