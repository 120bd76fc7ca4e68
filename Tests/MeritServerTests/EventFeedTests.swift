import Foundation
import MeritDomain
import MeritJSON
import MeritRPC
import MeritServer
import MeritTestSupport
import Testing

@Suite("the event feed")
struct EventFeedTests {
    /// Every event, paging with `after` and `limit`.
    static func walk(_ org: PerformanceOrganization, after: Int64 = 0, limit: Int = 7, types: [String]? = nil) throws
        -> [JSON]
    {
        var events: [JSON] = []
        var after = after
        for _ in 0..<1000 {
            var params: JSONObject = ["after": .int(after), "limit": .int(Int64(limit))]
            if let types { params["types"] = .array(types.map(JSON.string)) }
            let page = try org.result("events.list", params)
            let data = page["data"]?.arrayValue ?? []
            events += data
            after = page["next_after"]?.intValue ?? after
            if page["has_more"] != true { break }
        }
        return events
    }

    @Test("events.list pages through every event in order, each {id, sequence, type, created_at, actor_id, data}")
    func order() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let review = try org.review("E", in: cycle)
        let summary = try fixture.summary()
        _ = try org.result("summaries.share", ["id": .string(summary)], as: "M")
        let events = try Self.walk(org)
        #expect(events.map { $0["sequence"]?.intValue ?? 0 } == Array(1...Int64(events.count)))
        #expect(events.first?.objectValue?.keys == ["id", "sequence", "type", "created_at", "actor_id", "data"])
        #expect(events.first?["type"] == "organization.created")
        #expect(events.first?["actor_id"] == .null)
        let types = events.compactMap { $0["type"]?.stringValue }
        for type in [
            "key.created", "template.created", "person.created", "observation.created", "objective.created",
            "cycle.created",
            "cycle.updated", "review.created", "notification.created", "summary.created", "summary.shared",
        ] {
            #expect(types.contains(type), "\(type)")
        }
        let created = try #require(events.first { $0["type"] == "review.created" })
        #expect(created["data"]?["id"] == review["review"]?["id"])
        #expect(created["data"]?["user_name"] == "Person E")
        #expect(created["data"]?["kpi_ratings"] == review["kpi_ratings"])
        #expect(created["data"]?["goals"] == [])
        let shared = try #require(events.last { $0["type"] == "summary.shared" })
        #expect(shared["data"]?["status"] == "shared")
        #expect(shared["actor_id"] == org.id("M"))
        #expect(
            try org.result("events.list", ["after": .int(Int64(events.count))]) == [
                "data": [], "next_after": .int(Int64(events.count)), "has_more": false,
            ])
    }

    @Test("types filter the feed; bad params are validation errors; events:read is needed")
    func filtersAndAccess() throws {
        let org = try PerformanceOrganization()
        let people = try Self.walk(org, types: ["person.created"])
        #expect(people.count == org.people.count)
        #expect(people.allSatisfy { $0["type"] == "person.created" })
        let two = try Self.walk(org, types: ["template.created", "key.created"])
        #expect(two.map { $0["type"] } == ["key.created", "template.created"])
        for (params, field): (JSONObject, String) in [
            (["types": ["person.made"]], "types[0]"), (["limit": 0], "limit"), (["after": -1], "after"),
            (["from": 1], "from"),
        ] {
            let error = try org.error("events.list", params)
            #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        }
        #expect(org.outcome("events.list", as: "M") == "permission_denied")
        #expect(org.outcome("events.list", as: "A") == "ok")
        #expect(org.outcome("events.subscribe", as: "X") == "permission_denied")
    }

    @Test("feedback.submitted carries the request, never the answers; summary.feedback_submitted the feedback")
    func anonymity() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let request = try #require(
            try org.result(
                "performance.feedback.requests.create",
                ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F")])["id"]?.stringValue)
        _ = try org.result(
            "performance.feedback.submit", FeedbackTests.answers(request, comment: "Secret words"), as: "F")
        let summary = try fixture.summary()
        _ = try org.result("summaries.share", ["id": .string(summary)], as: "M")
        _ = try org.result(
            "summaries.feedback", ["id": .string(summary), "kind": "acknowledgment", "comment": "Thanks"], as: "E")
        let events = try Self.walk(org)
        let submitted = try #require(events.first { $0["type"] == "feedback.submitted" })
        #expect(submitted["data"]?["id"] == .string(request))
        #expect(submitted["data"]?["status"] == "submitted")
        #expect(!submitted.jsonText.contains("Secret words"))
        #expect(!submitted.jsonText.contains("achieving"))
        let posted = try #require(events.first { $0["type"] == "summary.feedback_submitted" })
        #expect(posted["data"]?["id"] == .string(summary))
        #expect(posted["data"]?["feedback"]?["comment"] == "Thanks")
        #expect(posted["data"]?["feedback"]?["author_id"] == org.id("E"))
    }

    @Test("the feed survives a restart, a snapshot and compaction: a watermark taken before continues exactly")
    func durable() throws {
        let org = try PerformanceOrganization()
        let before = try Self.walk(org)
        let watermark = before[before.count / 2]["sequence"]?.intValue ?? 0
        try org.session.crashAndRestart()
        #expect(try Self.walk(org) == before)
        try org.session.server.compactForTesting()
        _ = try org.cycle("After", start: "2026-01-01", end: "2026-03-31")
        try org.session.server.compactForTesting()
        try org.session.crashAndRestart()
        let after = try Self.walk(org)
        #expect(Array(after.prefix(before.count)) == before)
        #expect(after.count == before.count + 2)
        #expect(try Self.walk(org, after: watermark) == Array(after.dropFirst(Int(watermark))))
        // Paging with one event a page gives the same.
        #expect(try Self.walk(org, after: watermark, limit: 1) == Array(after.dropFirst(Int(watermark))))
    }

    @Test("a subscriber receives each new event once it is durable; a session that did not subscribe never does")
    func subscribe() throws {
        let org = try PerformanceOrganization()
        let session = org.session
        let quiet = session.send(lines: [
            session.requestLine("people.create", ["name": "Q", "email": "q@a.example", "role": "employee"])
        ])
        #expect(quiet.count == 1)
        #expect(
            try org.result("events.subscribe", ["types": ["person.created", "person.updated"]]) == ["subscribed": true])
        let lines = session.send(lines: [
            session.requestLine("people.create", ["name": "R", "email": "r@a.example", "role": "employee"]),
            session.requestLine("templates.create", ["name": "T", "items": []]),
            session.requestLine("$/ping"),
        ])
        #expect(lines.count == 4)
        #expect(lines[0]["result"]?["name"] == "R")
        #expect(lines[2]["result"] == .object(JSONObject()))
        let event = lines[3]
        #expect(event["method"] == "event")
        #expect(event["id"] == nil)
        #expect(event["params"]?["type"] == "person.created")
        #expect(event["params"]?["data"] == lines[0]["result"])
        let listed = try org.result(
            "events.list", ["after": .int((event["params"]?["sequence"]?.intValue ?? 1) - 1), "limit": 1])
        #expect(listed["data"]?[0] == event["params"])
        // Every type, once subscribed without types.
        _ = try org.result("events.subscribe")
        let all = session.send(lines: [session.requestLine("templates.create", ["name": "U", "items": []])])
        #expect(all.count == 2)
        #expect(all[1]["params"]?["type"] == "template.created")
    }

    @Test("re-authenticating with a key without events:read, or revoking the key, ends the subscription")
    func subscriptionEndsWithTheRight() throws {
        let org = try PerformanceOrganization()
        let session = org.session
        let create = { (name: String) in
            session.requestLine(
                "people.create", ["name": .string(name), "email": .string("\(name)@a.example"), "role": "employee"])
        }
        _ = try org.result("events.subscribe")
        #expect(session.send(lines: [create("a")]).count == 2)
        let writer = try #require(
            try org.result("keys.create", ["name": "writer", "scopes": ["directory:read", "directory:write"]])["key"])
        _ = try session.result("initialize", ["api_key": writer])
        #expect(session.send(lines: [create("b")]).count == 1)
        // Back with the admin key, the subscription is gone: subscribing again is needed.
        _ = try session.result("initialize", ["api_key": .string(session.apiKey)])
        #expect(session.send(lines: [create("c")]).count == 1)
        // A subscribed key that is revoked stops receiving events too, from its own revocation's on.
        let reader = try org.result(
            "keys.create",
            ["name": "reader", "scopes": ["events:read", "directory:read", "directory:write", "keys:manage"]])
        _ = try session.result("initialize", ["api_key": try #require(reader["key"])])
        _ = try session.result("events.subscribe")
        #expect(session.send(lines: [create("d")]).count == 2)
        let revoked = session.send(lines: [session.requestLine("keys.revoke", ["id": try #require(reader["id"])])])
        #expect(revoked.count == 1)
        #expect(revoked.first?["result"]?["id"] == reader["id"])
        _ = try session.result("initialize", ["api_key": .string(session.apiKey)])
        #expect(try Self.walk(org, types: ["key.revoked"]).count == 1)
    }

    @Test("a subscriber never sees an event whose change was rolled back")
    func rolledBack() throws {
        let org = try PerformanceOrganization()
        let session = org.session
        _ = try org.result("events.subscribe")
        let failAt = session.fileSystem.synchronizeCount + 1
        session.fileSystem.failSynchronize = { count in count == failAt ? 5 : nil }
        let lines = session.send(lines: [
            session.requestLine("people.create", ["name": "Lost", "email": "lost@a.example", "role": "employee"])
        ])
        #expect(lines.count == 1)
        #expect(lines[0]["error"]?["data"]?["code"] == "storage_unavailable")
        session.fileSystem.failSynchronize = nil
        #expect(try Self.walk(org, types: ["person.created"]).allSatisfy { $0["data"]?["name"] != "Lost" })
    }

    @Test("an automatic snapshot keeps the feed too")
    func automaticSnapshot() throws {
        var configuration = ServerConfiguration(frozenClock: Timestamp(rfc3339: "2026-04-15T09:00:00Z"), seed: 3)
        configuration.snapshotThresholdBytes = 2_000
        let session = try InProcessSession(configuration: configuration)
        for index in 0..<40 {
            _ = try session.result(
                "people.create",
                ["name": .string("P\(index)"), "email": .string("p\(index)@a.example"), "role": "employee"])
        }
        let snapshots = session.fileSystem.currentFiles().keys.filter { $0.contains("snapshot-") }
        #expect(!snapshots.isEmpty)
        try session.crashAndRestart()
        var after: Int64 = 0
        var count = 0
        while true {
            let page = try session.result("events.list", ["after": .int(after), "limit": 100])
            count += page["data"]?.arrayValue?.count ?? 0
            after = page["next_after"]?.intValue ?? after
            if page["has_more"] != true { break }
        }
        #expect(count == 42)
    }

    @Test("on the real file system automatic snapshots are written apart from the writer, and keep everything")
    func backgroundSnapshots() throws {
        let copy = TemporaryDirectory()
        let data = copy.path("data")
        let clock = Timestamp(rfc3339: "2026-04-15T09:00:00Z")
        let created = try Administration.initialize(
            directory: data, organizationName: "Acme", frozenClock: clock, seed: 3,
            diagnostics: Diagnostics(level: .error))
        var configuration = ServerConfiguration(frozenClock: clock, seed: 3, environmentAPIKey: created.apiKey)
        configuration.snapshotThresholdBytes = 2_000
        var server = try Server(configuration: configuration, dataDirectory: data)
        for index in 0..<40 {
            _ = try EventRecordTests.result(
                server, "people.create",
                ["name": .string("P\(index)"), "email": .string("p\(index)@a.example"), "role": "employee"])
        }
        // Closing waits for a snapshot still being written.
        server.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(names.contains { $0.hasPrefix("snapshot-") })
        #expect(!names.contains { $0.hasSuffix(".tmp") })
        server = try Server(configuration: configuration, dataDirectory: data)
        defer { server.close() }
        #expect(try EventRecordTests.result(server, "people.list", ["limit": 100])["data"]?.arrayValue?.count == 40)
        var after: Int64 = 0
        var count = 0
        while true {
            let page = try EventRecordTests.result(server, "events.list", ["after": .int(after), "limit": 100])
            count += page["data"]?.arrayValue?.count ?? 0
            after = page["next_after"]?.intValue ?? after
            if page["has_more"] != true { break }
        }
        #expect(count == 42)
    }
}
