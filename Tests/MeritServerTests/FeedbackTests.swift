import MeritJSON
import MeritTestSupport
import Testing

@Suite("performance.feedback and performance.action_items")
struct FeedbackTests {
    static let areas = ["organisation", "performance", "communication", "development", "automation"]

    /// A submission with every rating set to `rating`.
    static func answers(_ request: String, rating: String = "achieving", comment: String? = nil) -> JSONObject {
        var params: JSONObject = ["request_id": .string(request)]
        for area in areas { params["\(area)_rating"] = .string(rating) }
        if let comment {
            params["organisation_comment"] = .string(comment)
            params["overall_comment"] = .string("Overall: \(comment)")
        }
        return params
    }

    @Test("an individual request: its shape, the reviewer's notification and pending list")
    func individual() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1 2026", start: "2026-01-01", end: "2026-03-31")
        let request = try org.result(
            "performance.feedback.requests.create",
            [
                "cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F"),
                "due_date": "2026-04-01",
            ],
            as: "M")
        #expect(
            request.objectValue?.keys == [
                "id", "cycle_id", "subject_id", "subject_name", "reviewer_id", "due_date", "status", "created_at",
                "submitted_at",
            ])
        #expect(request["subject_name"] == "Person E")
        #expect(request["status"] == "pending")
        #expect(request["submitted_at"] == .null)
        let notification = try #require(try org.result("notifications.list", as: "F")["data"]?[0])
        #expect(notification["kind"] == "feedback_requested")
        #expect(notification["subject_id"] == request["id"])
        #expect(try org.result("performance.feedback.requests.list", as: "F") == ["requests": [request]])
        #expect(try org.result("performance.feedback.requests.list", as: "E") == ["requests": []])
        #expect(org.outcome("performance.feedback.requests.list") == "permission_denied")
    }

    @Test(
        "individual requests refuse, in the contract's order, and create nothing",
        arguments: [
            ("feedback on themself", "validation_error"), ("duplicate", "conflict"),
            ("subject out of scope", "not_found"),
            ("no such reviewer", "unprocessable"), ("closed cycle", "validation_error"),
            ("employee asks", "permission_denied"),
            ("bad due date", "validation_error"),
        ])
    func refusals(situation: String, code: String) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let closed = try org.cycle("Q4", start: "2025-10-01", end: "2025-12-31", status: "closed")
        _ = try org.result(
            "performance.feedback.requests.create",
            ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F")], as: "M")
        var params: JSONObject = ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("L")]
        var actor = "M"
        switch situation {
        case "feedback on themself": params["reviewer_id"] = org.id("E")
        case "duplicate": params["reviewer_id"] = org.id("F")
        case "subject out of scope": params["subject_id"] = org.id("G")
        case "no such reviewer": params["reviewer_id"] = "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"
        case "closed cycle": params["cycle_id"] = .string(closed)
        case "employee asks": (params["subject_id"], actor) = (org.id("F"), "F")
        default: params["due_date"] = "April"
        }
        let error = try org.error("performance.feedback.requests.create", params, as: actor)
        #expect(error["data"]?["code"] == .string(code), "\(error.jsonText)")
        #expect(try org.result("performance.feedback.requests.list", as: "L") == ["requests": []])
        #expect(try org.result("performance.feedback.requests.list", as: "F")["requests"]?.arrayValue?.count == 1)
    }

    @Test(
        "bulk selects peers by the subject's role, skipping those already asked",
        arguments: [
            // An employee or lead: everyone else in the squad, whatever their role.
            ("E", ["L", "F"]), ("L", ["E", "F"]),
            // Nobody without a squad.
            ("S", []),
            // A manager: every other manager, and their direct reports.
            ("M", ["N", "L", "E", "F"]),
            // A head or an executive: every other head, and their own direct reports who are managers.
            ("H", ["H2", "M", "N"]), ("X", ["H", "H2"]),
        ])
    func bulk(subject: String, peers: [String]) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let result = try org.result(
            "performance.feedback.requests.create_bulk",
            ["cycle_id": .string(cycle), "subject_id": org.id(subject), "due_date": "2026-04-01"])
        #expect(result == ["created": .int(Int64(peers.count)), "total_peers": .int(Int64(peers.count))])
        var asked: Set<String> = []
        for name in org.people.keys {
            let requests = try org.result("performance.feedback.requests.list", as: name)["requests"]?.arrayValue ?? []
            if requests.contains(where: { $0["subject_id"] == org.id(subject) }) { asked.insert(name) }
        }
        #expect(asked == Set(peers))
        // Run twice: nothing more.
        let again = try org.result(
            "performance.feedback.requests.create_bulk", ["cycle_id": .string(cycle), "subject_id": org.id(subject)])
        #expect(again == ["created": 0, "total_peers": .int(Int64(peers.count))])
    }

    @Test("bulk skips the peers asked individually before, and notifies each one it asks")
    func bulkAfterIndividual() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        _ = try org.result(
            "performance.feedback.requests.create",
            ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F")])
        let result = try org.result(
            "performance.feedback.requests.create_bulk", ["cycle_id": .string(cycle), "subject_id": org.id("E")],
            as: "M")
        #expect(result == ["created": 1, "total_peers": 2])
        #expect(try org.result("notifications.list", as: "L")["data"]?[0]?["kind"] == "feedback_requested")
        #expect(try org.result("notifications.list", as: "F")["data"]?.arrayValue?.count == 1)
        #expect(
            org.outcome(
                "performance.feedback.requests.create_bulk", ["cycle_id": .string(cycle), "subject_id": org.id("G")],
                as: "M") == "not_found")
    }

    @Test("submission: only the assigned reviewer, only once; the request comes back submitted, without the answers")
    func submit() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let request = try #require(
            try org.result(
                "performance.feedback.requests.create",
                ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F")])["id"]?.stringValue)
        #expect(org.outcome("performance.feedback.submit", Self.answers(request), as: "L") == "permission_denied")
        #expect(org.outcome("performance.feedback.submit", Self.answers(request)) == "permission_denied")
        let submitted = try org.result("performance.feedback.submit", Self.answers(request, comment: "Kind"), as: "F")
        #expect(submitted["status"] == "submitted")
        #expect(submitted["submitted_at"] == "2026-04-15T09:00:00.000Z")
        #expect(
            submitted.objectValue?.keys.contains {
                $0.hasSuffix("_rating") || $0.hasSuffix("comment") || $0 == "answers"
            } == false)
        let twice = try org.error("performance.feedback.submit", Self.answers(request), as: "F")
        #expect(twice["data"]?["code"] == "conflict")
        #expect(try org.result("performance.feedback.requests.list", as: "F") == ["requests": []])
        #expect(
            org.outcome("performance.feedback.submit", Self.answers("frq_01ARYZ6S41ZZZZZZZZZZZZZZZZ"), as: "F")
                == "not_found")
    }

    @Test(
        "bad submissions name the field and change nothing",
        arguments: [
            ("organisation_rating", JSON.null, "organisation_rating"),
            ("automation_rating", "great", "automation_rating"),
            ("communication_comment", .string(String(repeating: "x", count: 2001)), "communication_comment"),
            ("overall_comment", .string(String(repeating: "é", count: 2001)), "overall_comment"),
            ("mood", "happy", "mood"), ("performance_rating", 3, "performance_rating"),
        ] as [(String, JSON, String)])
    func badSubmission(member: String, value: JSON, field: String) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let request = try #require(
            try org.result(
                "performance.feedback.requests.create",
                ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id("F")])["id"]?.stringValue)
        var params = Self.answers(request)
        params[member] = value.isNull ? nil : value
        let error = try org.error("performance.feedback.submit", params, as: "F")
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(try org.result("performance.feedback.requests.list", as: "F")["requests"]?[0]?["status"] == "pending")
        // Comments of exactly 2000 characters are fine.
        params = Self.answers(request)
        params["organisation_comment"] = .string(String(repeating: "y", count: 2000))
        params["overall_comment"] = .string(String(repeating: "é", count: 2000))
        #expect(org.outcome("performance.feedback.submit", params, as: "F") == "ok")
    }

    /// An organization where `count` of E's squad and team gave feedback on E, each commenting with its index.
    static func withResponses(_ count: Int, minimum: Int = 1) throws -> PerformanceOrganization {
        let org = try PerformanceOrganization()
        _ = try org.result("organization.update", ["settings": ["feedback_min_responses": .int(Int64(minimum))]])
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let reviewers = ["F", "L", "G", "N", "H", "X", "H2", "A"]
        for (index, reviewer) in reviewers.prefix(count).enumerated() {
            let request = try #require(
                try org.result(
                    "performance.feedback.requests.create",
                    ["cycle_id": .string(cycle), "subject_id": org.id("E"), "reviewer_id": org.id(reviewer)])["id"]?
                    .stringValue)
            let rating = index.isMultiple(of: 3) ? "exceeding" : "achieving"
            _ = try org.result(
                "performance.feedback.submit", answers(request, rating: rating, comment: "Comment \(index)"),
                as: reviewer)
        }
        return org
    }

    @Test("the summary below the threshold is exactly {sufficient, response_count, minimum_required}")
    func insufficient() throws {
        let none = try Self.withResponses(0)
        #expect(
            try none.result("performance.feedback.summary", ["user_id": none.id("E")], as: "M") == [
                "sufficient": false, "response_count": 0, "minimum_required": 1,
            ])
        let below = try Self.withResponses(2, minimum: 3)
        #expect(
            try below.result("performance.feedback.summary", ["user_id": below.id("E")]) == [
                "sufficient": false, "response_count": 2, "minimum_required": 3,
            ])
    }

    @Test("at the threshold the summary has exactly the seed's keys, counts every area and reveals no one")
    func sufficient() throws {
        let org = try Self.withResponses(3, minimum: 3)
        let summary = try org.result("performance.feedback.summary", ["user_id": org.id("E")], as: "M")
        #expect(summary.objectValue?.keys == ["sufficient", "response_count", "areas", "overall_comments"])
        #expect(summary["sufficient"] == true)
        #expect(summary["response_count"] == 3)
        #expect(summary["areas"]?.objectValue?.keys == Self.areas)
        #expect(summary["areas"]?["organisation"]?.objectValue?.keys == ["ratings", "comments"])
        #expect(summary["areas"]?["organisation"]?["ratings"] == ["achieving": 2, "exceeding": 1])
        #expect(summary["areas"]?["automation"]?["ratings"] == ["achieving": 2, "exceeding": 1])
        #expect(
            Set(summary["areas"]?["organisation"]?["comments"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                == ["Comment 0", "Comment 1", "Comment 2"])
        #expect(summary["areas"]?["performance"]?["comments"] == [])
        #expect(summary["overall_comments"]?.arrayValue?.count == 3)
        // Nothing that identifies a reviewer: no ids, no names, no times.
        let text = summary.jsonText
        for reviewer in ["F", "L", "G"] {
            #expect(!text.contains(org.people[reviewer]!))
            #expect(!text.contains("Person \(reviewer)"))
        }
        #expect(!text.contains("frq_"))
        #expect(!text.contains("2026-04-15"))
        // The same question gives the same answer (reproducible under --seed).
        #expect(try org.result("performance.feedback.summary", ["user_id": org.id("E")], as: "M") == summary)
    }

    @Test("comments are shuffled: their order does not follow submission")
    func shuffled() throws {
        let org = try Self.withResponses(8)
        let comments =
            try org.result("performance.feedback.summary", ["user_id": org.id("E")])["areas"]?["organisation"]?[
                "comments"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let submitted = (0..<8).map { "Comment \($0)" }
        #expect(Set(comments) == Set(submitted))
        #expect(comments != submitted)
        #expect(comments != Array(submitted.reversed()))
    }

    @Test("the summary is for managers and above about someone in their scope; a cycle narrows it")
    func access() throws {
        let org = try Self.withResponses(2)
        for (actor, code) in [
            ("M", "ok"), ("H", "ok"), ("X", "ok"), ("A", "ok"), ("E", "permission_denied"), ("L", "permission_denied"),
            ("N", "not_found"), ("F", "not_found"),
        ] {
            #expect(
                org.outcome("performance.feedback.summary", ["user_id": org.id("E")], as: actor) == code, "\(actor)")
        }
        let later = try org.cycle("Q2", start: "2026-04-01", end: "2026-06-30")
        #expect(
            try org.result("performance.feedback.summary", ["user_id": org.id("E"), "cycle_id": .string(later)])[
                "response_count"] == 0)
        #expect(
            org.outcome("performance.feedback.summary", ["user_id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"])
                == "unprocessable")
    }

    @Test("action items count the acting person's pending work")
    func actionItems() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        _ = try org.cycle("Q2", start: "2026-04-01", end: "2026-06-30")
        _ = try org.cycle("Old", start: "2025-01-01", end: "2025-03-31", status: "closed")
        let e = try org.review("E", in: cycle)
        _ = try org.review("F", in: cycle)
        _ = try org.complete(
            try org.review("L", in: cycle), ratings: ["achieving", "achieving", "achieving", "achieving"])
        _ = try org.result(
            "performance.reviews.update",
            ["id": .string(PerformanceOrganization.ids(e).review), "status": "self_assessment"], as: "M")
        _ = try org.result(
            "performance.feedback.requests.create_bulk", ["cycle_id": .string(cycle), "subject_id": org.id("F")])
        #expect(
            try org.result("performance.action_items", as: "M") == [
                "pending_reviews": 2, "self_assessments": 0, "pending_feedback": 0, "open_cycles": 2,
            ])
        #expect(
            try org.result("performance.action_items", as: "E") == [
                "pending_reviews": 0, "self_assessments": 1, "pending_feedback": 1, "open_cycles": 2,
            ])
        #expect(
            try org.result("performance.action_items", as: "S") == [
                "pending_reviews": 0, "self_assessments": 0, "pending_feedback": 0, "open_cycles": 2,
            ])
        #expect(org.outcome("performance.action_items") == "permission_denied")
    }
}
