import MeritDomain
import MeritJSON
import MeritLog
import MeritTestSupport
import Testing

@testable import MeritServer

/// The Performance API's changes are events in the log, survive restarts and snapshots, and a failed commit leaves
/// none of them behind.
@Suite("the Performance API's events and durability")
struct PerformanceDurabilityTests {
    /// A quarter's worth of everything: cycles (one deleted), reviews (one deleted, one completed), feedback
    /// requests (one submitted), goal outcomes.
    static func quarter(_ org: PerformanceOrganization) throws -> (reviews: [String], cycles: [String]) {
        let q4 = try org.cycle("Q4 2025", start: "2025-10-01", end: "2025-12-31")
        let q1 = try org.cycle("Q1 2026", start: "2026-01-01", end: "2026-03-31")
        let old = try org.complete(
            try org.review("E", in: q4), ratings: ["achieving", "achieving", "exceeding", nil],
            goals: [["goal": "Ship search"]])
        let goal = try #require(old["goals"]?[0]?["id"])
        let current = try org.review("E", in: q1)
        let id = PerformanceOrganization.ids(current).review
        _ = try org.result(
            "performance.reviews.update_previous_goals",
            ["id": .string(id), "outcomes": [["goal_id": goal, "status": "completed"]]], as: "M")
        _ = try org.result("performance.reviews.update", ["id": .string(id), "status": "self_assessment"], as: "M")
        let bulk = try org.result(
            "performance.feedback.requests.create_bulk", ["cycle_id": .string(q1), "subject_id": org.id("E")], as: "M")
        #expect(bulk["created"] == 2)
        let request = try #require(
            try org.result("performance.feedback.requests.list", as: "F")["requests"]?[0]?["id"]?.stringValue)
        _ = try org.result("performance.feedback.submit", FeedbackTests.answers(request, comment: "Helpful"), as: "F")
        let doomed = PerformanceOrganization.ids(try org.review("G", in: q1, reviewer: "N")).review
        _ = try org.result("performance.reviews.delete", ["id": .string(doomed)])
        let draft = try org.cycle("Scrapped", start: "2026-04-01", end: "2026-06-30", status: "draft")
        _ = try org.result("performance.cycles.delete", ["id": .string(draft)])
        return ([PerformanceOrganization.ids(old).review, id], [q4, q1])
    }

    /// Every event the log holds, in order.
    static func events(_ session: InProcessSession) throws -> [Event] {
        var events: [Event] = []
        session.server.close()
        let (log, _) = try WriteAheadLog.open(
            directory: session.directory, fileSystem: session.fileSystem, snapshot: { _, _ in },
            replay: { record in events += try EventCodec.decodeBinaryTransaction(record.payload) })
        log.close()
        try session.crashAndRestart()
        return events
    }

    @Test("every change is an event carrying the resource after it (as it was, for a deletion)")
    func events() throws {
        let org = try PerformanceOrganization()
        _ = try Self.quarter(org)
        let events = try Self.events(org.session).filter {
            !["person.created", "template.created", "organization.created", "key.created"].contains($0.change.type)
        }
        let types = events.map(\.change.type)
        #expect(
            types == [
                "cycle.created", "cycle.updated", "cycle.created", "cycle.updated", "review.created",
                "notification.created", "review.completed", "review.created", "notification.created",
                "goal.outcome_recorded", "review.updated", "feedback_request.created", "notification.created",
                "feedback_request.created", "notification.created", "feedback.submitted", "review.created",
                "notification.created", "review.deleted", "cycle.created", "cycle.deleted",
            ])
        // The completed review carries its figures; the deleted one is the review as it was.
        guard case .review(let completed) = events[6].change.resource else { Issue.record("not a review"); return }
        #expect(completed.status == .completed && completed.kpiPassCount == 3 && completed.kpiTotalCount == 4)
        guard case .review(let deleted) = events[18].change.resource else { Issue.record("not a review"); return }
        #expect(deleted.status == .draft)
        guard case .cycle(let cycle) = events[20].change.resource else { Issue.record("not a cycle"); return }
        #expect(cycle.name == "Scrapped" && cycle.status == .draft)
        guard case .review(let outcome) = events[9].change.resource else { Issue.record("not a review"); return }
        #expect(outcome.goals.first?.status == .completed)
        // The submission's event carries the request, now submitted (its answers are stored, never shown).
        guard case .feedbackRequest(let submitted) = events[15].change.resource else {
            Issue.record("no request"); return
        }
        #expect(submitted.status == .submitted && submitted.answers?.overallComment == "Overall: Helpful")
        #expect(events.allSatisfy { $0.actorID != nil })
    }

    @Test("every read answers the same after a restart, after a snapshot, and after both")
    func restart() throws {
        let org = try PerformanceOrganization()
        let (reviews, cycles) = try Self.quarter(org)
        let before = org.reads(reviews: reviews, cycles: cycles)
        #expect(before.allSatisfy { $0["data"]?["code"] == nil || $0["data"]?["code"] == "permission_denied" })
        try org.session.crashAndRestart()
        #expect(org.reads(reviews: reviews, cycles: cycles) == before)
        try org.session.server.compactForTesting()
        try org.session.crashAndRestart()
        #expect(org.reads(reviews: reviews, cycles: cycles) == before)
        // And the state goes on from there: new ids do not collide with old ones.
        let next = try org.cycle("Q2 2026", start: "2026-04-01", end: "2026-06-30")
        #expect(!cycles.contains(next))
        #expect(
            org.outcome("performance.reviews.create", ["cycle_id": .string(next), "user_id": org.id("E")], as: "M")
                == "ok")
    }

    @Test(
        "a failed commit undoes every Performance change of its group, indexes included",
        arguments: ["cycle", "review", "completion", "bulk", "submit", "outcomes", "delete"])
    func rollBack(change: String) throws {
        let org = try PerformanceOrganization()
        let (made, cycles) = try Self.quarter(org)
        let (q1, current) = (cycles[1], made[1])
        let draft = PerformanceOrganization.ids(try org.review("F", in: q1)).review
        var params: JSONObject = ["_meta": ["actor": org.id("M")]]
        let method: String
        switch change {
        case "cycle":
            method = "performance.cycles.update"
            params = ["id": .string(q1), "status": "closed"]
        case "review":
            method = "performance.reviews.create"
            (params["cycle_id"], params["user_id"]) = (.string(q1), org.id("L"))
        case "completion":
            method = "performance.reviews.update"
            (params["id"], params["status"]) = (.string(current), "completed")
        case "bulk":
            method = "performance.feedback.requests.create_bulk"
            (params["cycle_id"], params["subject_id"]) = (.string(q1), org.id("F"))
        case "submit":
            method = "performance.feedback.submit"
            let request = try #require(
                try org.result("performance.feedback.requests.list", as: "L")["requests"]?[0]?["id"]?.stringValue)
            params = FeedbackTests.answers(request)
            params["_meta"] = ["actor": org.id("L")]
        case "outcomes":
            method = "performance.reviews.update_previous_goals"
            let goal = try #require(
                try org.result("performance.reviews.get", ["id": .string(made[0])])["goals"]?[0]?["id"])
            (params["id"], params["outcomes"]) = (.string(current), [["goal_id": goal, "status": "not_completed"]])
        default:
            method = "performance.reviews.delete"
            params = ["id": .string(draft)]
        }
        let reviews = made + [draft]
        let before = org.reads(reviews: reviews, cycles: cycles)
        let session = org.session
        let failAt = session.fileSystem.synchronizeCount + 1
        session.fileSystem.failSynchronize = { count in count == failAt ? 5 : nil }
        let response = session.call(method, .object(params))
        #expect(response["error"]?["data"]?["code"] == "storage_unavailable", "\(response.jsonText)")
        session.fileSystem.failSynchronize = nil
        // In memory, nothing of it remains (reads keep working after a failed commit)...
        #expect(org.reads(reviews: reviews, cycles: cycles) == before)
        #expect(session.server.stateIndexesAreConsistent)
        // ...and after a restart neither.
        try session.crashAndRestart()
        #expect(org.reads(reviews: reviews, cycles: cycles) == before)
    }
}
