import MeritDomain
import MeritJSON

/// `events.list` and `events.subscribe`: the organization's durable event feed, which needs `events:read`.
enum EventMethods {
    static let all: [Method] = [list, subscribe]

    static let list = Method("events.list", access: .authenticated) { server, params in
        let after = try params.optional("after", as: Int64.self) ?? 0
        guard after >= 0 else { throw DomainError.invalid("after", "must be a sequence, 0 or more") }
        let kinds = try readTypes(&params)
        let limit = try params.optional("limit", as: Int.self) ?? 50
        guard (1...100).contains(limit) else { throw DomainError.invalid("limit", "must be between 1 and 100") }
        try params.finish()
        try server.withState { state in try state.authorizeEventFeed(by: server.requestPrincipal, to: "read events") }
        // The feed is read from the log's files: every group sealed before this one is written to them first.
        server.engine.drain()
        let (events, hasMore) = try server.feed.events(after: after, limit: limit, kinds: kinds)
        let data = server.withState { state in events.map { $0.json(in: state) } }
        return [
            "data": .array(data), "next_after": .int(events.last?.sequence ?? after), "has_more": .bool(hasMore),
        ]
    }

    static let subscribe = Method("events.subscribe", access: .authenticated) { server, params in
        let kinds = try readTypes(&params)
        try params.finish()
        try server.withState { state in
            try state.authorizeEventFeed(by: server.requestPrincipal, to: "subscribe to events")
        }
        server.subscription = kinds ?? Set(ChangeKind.allCases)
        return ["subscribed": true]
    }

    /// `types`: event types of the feed (`review.updated`); each must be one.
    static func readTypes(_ params: inout FieldReader) throws -> Set<ChangeKind>? {
        guard let names = try params.optional("types", as: [String].self) else { return nil }
        var kinds: Set<ChangeKind> = []
        for (offset, name) in names.enumerated() {
            guard let kind = ChangeKind(type: name) else {
                throw DomainError.invalid(
                    "types[\(offset)]", "is '\(name)', which is not an event type (such as review.updated)")
            }
            kinds.insert(kind)
        }
        return kinds
    }
}
