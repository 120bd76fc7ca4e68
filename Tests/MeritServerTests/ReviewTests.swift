import MeritJSON
import MeritTestSupport
import Testing

@Suite("performance.reviews: creation, shape and the KPI snapshot")
struct ReviewCreationTests {
    @Test("create snapshots the template's items, defaults the reviewer to the requester and notifies the reviewer")
    func create() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1 2026 Review", start: "2026-01-01", end: "2026-03-31")
        let detail = try org.result(
            "performance.reviews.create", ["cycle_id": .string(cycle), "user_id": org.id("E")], as: "M")
        #expect(detail.objectValue?.keys == ["review", "kpi_ratings", "goals", "previous_reviews", "kpi_aggregation"])
        let review = try #require(detail["review"])
        #expect(review["status"] == "draft")
        #expect(review["user_id"] == org.id("E"))
        #expect(review["user_name"] == "Person E")
        #expect(review["reviewer_id"] == org.id("M"))
        #expect(review["reviewer_name"] == "Person M")
        #expect(review["cycle_name"] == "Q1 2026 Review")
        #expect(review["cycle_type"] == "quarterly")
        #expect(review["kpi_pass_count"] == .null)
        #expect(review["kpi_total_count"] == .null)
        #expect(review["completed_at"] == .null)
        for field in ["strengths", "growth_areas", "discussion_topics", "reviewer_notes", "action_items"] {
            #expect(review[field] == .null, "\(field)")
        }
        let rows = try #require(detail["kpi_ratings"]?.arrayValue)
        #expect(rows.count == 4)
        #expect(rows.map { $0["template_item_id"] } == org.templateItems.map(JSON.string))
        #expect(rows.map { $0["label"] } == ["Delivery", "Quality", "Reviews", "Mentoring"])
        #expect(rows.map { $0["is_mandatory"] } == [true, true, false, false])
        #expect(rows.allSatisfy { $0["rating"] == .null && $0["notes"] == .null })
        #expect(
            rows[0].objectValue?.keys == [
                "id", "template_item_id", "area", "label", "is_mandatory", "rating", "notes", "sort_order",
            ])
        #expect(detail["goals"] == [])
        #expect(detail["previous_reviews"] == [])
        #expect(detail["kpi_aggregation"] == .null)
        let notifications = try org.result("notifications.list", as: "M")["data"]?.arrayValue ?? []
        #expect(notifications.count == 1)
        #expect(notifications.first?["kind"] == "review_assigned")
        #expect(notifications.first?["subject_id"] == review["id"])
        #expect(try org.result("notifications.list", as: "E")["data"] == [])
    }

    @Test("later edits of the template never touch a review's snapshot")
    func snapshot() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let detail = try org.review("E", in: cycle)
        _ = try org.result(
            "templates.update",
            ["id": .string(org.template), "items": [["area": "new", "label": "Only one now", "is_mandatory": false]]])
        let id = PerformanceOrganization.ids(detail).review
        let after = try org.result("performance.reviews.get", ["id": .string(id)])
        #expect(after["kpi_ratings"] == detail["kpi_ratings"])
        // A new review takes the template as it is now.
        let later = try org.review("F", in: cycle)
        #expect(later["kpi_ratings"]?.arrayValue?.map { $0["label"] } == ["Only one now"])
    }

    @Test(
        "create refuses, in the contract's order, and creates nothing",
        arguments: [
            ("duplicate", "conflict"), ("closed cycle", "validation_error"), ("draft cycle, manager", "not_found"),
            ("draft cycle, admin", "validation_error"), ("out of scope", "not_found"),
            ("no such person", "unprocessable"),
            ("no such reviewer", "unprocessable"), ("reviewer is the subject", "validation_error"),
            ("employee", "permission_denied"), ("integration without reviewer", "validation_error"),
            ("malformed user_id", "validation_error"), ("unknown param", "validation_error"),
        ])
    func refusals(situation: String, code: String) throws {
        let org = try PerformanceOrganization()
        let open = try org.cycle("Open", start: "2026-01-01", end: "2026-03-31")
        let closed = try org.cycle("Closed", start: "2025-10-01", end: "2025-12-31", status: "closed")
        let draft = try org.cycle("Draft", start: "2026-04-01", end: "2026-06-30", status: "draft")
        _ = try org.review("E", in: open)
        let before = try org.result("performance.reviews.list")
        let nobody = "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"
        var params: JSONObject = ["cycle_id": .string(open), "user_id": org.id("F"), "reviewer_id": org.id("M")]
        var actor: String? = "M"
        switch situation {
        case "duplicate": params["user_id"] = org.id("E")
        case "closed cycle": params["cycle_id"] = .string(closed)
        case "draft cycle, manager": params["cycle_id"] = .string(draft)
        case "draft cycle, admin": (params["cycle_id"], actor) = (.string(draft), nil)
        case "out of scope": params["user_id"] = org.id("G")
        case "no such person": (params["user_id"], actor) = (.string(nobody), nil)
        case "no such reviewer": params["reviewer_id"] = .string(nobody)
        case "reviewer is the subject": params["reviewer_id"] = org.id("F")
        case "employee": (params["user_id"], actor) = (org.id("E"), "E")
        case "integration without reviewer": (params["reviewer_id"], actor) = (nil, nil)
        case "malformed user_id": params["user_id"] = "E"
        default: params["nickname"] = "x"
        }
        let error = try org.error("performance.reviews.create", params, as: actor)
        #expect(error["data"]?["code"] == .string(code), "\(error.jsonText)")
        #expect(try org.result("performance.reviews.list") == before)
    }
}

@Suite("performance.reviews: editing, the status flow and completion")
struct ReviewUpdateTests {
    @Test("update sets the texts, ratings with notes and goals; goals are a replace-list keeping named ids")
    func update() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let (id, rows) = PerformanceOrganization.ids(try org.review("E", in: cycle))
        let first = try org.result(
            "performance.reviews.update",
            [
                "id": .string(id), "strengths": " Strong delivery ", "growth_areas": "Estimates",
                "discussion_topics": "Career", "reviewer_notes": "Solid quarter.", "action_items": "Mentor a junior",
                "kpi_ratings": [["id": .string(rows[0]), "rating": "achieving", "notes": "Met target"]],
                "goals": [
                    [
                        "goal": "AI certification", "success_measures": "Certificate obtained",
                        "support_needed": "Budget",
                    ], ["goal": "Talk"],
                ],
            ], as: "M")
        #expect(first["review"]?["strengths"] == "Strong delivery")
        #expect(first["review"]?["reviewer_notes"] == "Solid quarter.")
        #expect(first["kpi_ratings"]?[0]?["rating"] == "achieving")
        #expect(first["kpi_ratings"]?[0]?["notes"] == "Met target")
        #expect(first["kpi_ratings"]?[1]?["rating"] == .null)
        let goals = try #require(first["goals"]?.arrayValue)
        #expect(goals.map { $0["goal"] } == ["AI certification", "Talk"])
        #expect(goals.map { $0["sort_order"] } == [0, 1])
        #expect(goals[0]["status"] == .null)
        #expect(
            goals[0].objectValue?.keys == ["id", "goal", "success_measures", "support_needed", "status", "sort_order"])
        let kept = try #require(goals[1]["id"])
        let second = try org.result(
            "performance.reviews.update",
            [
                "id": .string(id), "strengths": .null, "kpi_ratings": [["id": .string(rows[0]), "rating": .null]],
                "goals": [["id": kept, "goal": "Give a talk", "sort_order": 0], ["goal": "New"]],
            ], as: "M")
        #expect(second["review"]?["strengths"] == .null)
        #expect(second["kpi_ratings"]?[0]?["rating"] == .null)
        #expect(second["kpi_ratings"]?[0]?["notes"] == "Met target")
        #expect(second["goals"]?.arrayValue?.map { $0["goal"] } == ["Give a talk", "New"])
        #expect(second["goals"]?[0]?["id"] == kept)
        #expect(second["goals"]?.arrayValue?.contains { $0["id"] == goals[0]["id"] } == false)
        #expect(try org.result("performance.reviews.get", ["id": .string(id)]) == second)
    }

    @Test(
        "bad update input names the field and changes nothing",
        arguments: [
            (["kpi_ratings": [["id": "kpi_01ARYZ6S41ZZZZZZZZZZZZZZZZ", "rating": "achieving"]]], "kpi_ratings[0].id"),
            (["kpi_ratings": [["id": "ROW", "rating": "great"]]], "kpi_ratings[0].rating"),
            (
                ["kpi_ratings": [["id": "ROW", "notes": .string(String(repeating: "x", count: 2001))]]],
                "kpi_ratings[0].notes"
            ),
            (
                ["kpi_ratings": [["id": "ROW", "rating": "achieving"], ["id": "ROW", "rating": "exceeding"]]],
                "kpi_ratings[1].id"
            ),
            (["goals": [["goal": " "]]], "goals[0].goal"),
            (["goals": [["id": "gol_01ARYZ6S41ZZZZZZZZZZZZZZZZ", "goal": "x"]]], "goals[0].id"),
            (["goals": [["goal": "x", "colour": "red"]]], "goals[0].colour"),
            (["status": "done"], "status"), (["strengths": 7], "strengths"), (["score": 3], "score"),
        ] as [(JSONObject, String)])
    func badUpdate(params: JSONObject, field: String) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let (id, rows) = PerformanceOrganization.ids(try org.review("E", in: cycle))
        let before = try org.result("performance.reviews.get", ["id": .string(id)])
        let params = JSON.object(params).jsonText.replacingOccurrences(of: "\"ROW\"", with: "\"\(rows[0])\"")
        var object = try #require(try JSONParser.parse(params).objectValue)
        object["id"] = .string(id)
        let error = try org.error("performance.reviews.update", object, as: "M")
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field), "\(error.jsonText)")
        #expect(try org.result("performance.reviews.get", ["id": .string(id)]) == before)
    }

    @Test("moving forward may skip steps; moving back before completion needs update:performance over the subject")
    func flow() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let (id, _) = PerformanceOrganization.ids(try org.review("E", in: cycle))
        for status in ["ready_for_review", "self_assessment", "draft", "in_review"] {
            #expect(
                try org.result("performance.reviews.update", ["id": .string(id), "status": .string(status)], as: "M")[
                    "review"]?["status"] == .string(status))
        }
        // The lead sees E (same squad) and has update:performance; G's manager N does not see E.
        #expect(org.outcome("performance.reviews.update", ["id": .string(id), "status": "draft"], as: "L") == "ok")
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "N")
                == "not_found")
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "F")
                == "not_found")
    }

    @Test("in self_assessment the subject edits notes, goals and discussion topics and moves on to in_review")
    func subjectAllowed() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let (id, rows) = PerformanceOrganization.ids(try org.review("E", in: cycle))
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "discussion_topics": "x"], as: "E")
                == "permission_denied")
        _ = try org.result("performance.reviews.update", ["id": .string(id), "status": "self_assessment"], as: "M")
        let edited = try org.result(
            "performance.reviews.update",
            [
                "id": .string(id), "discussion_topics": "Career path",
                "kpi_ratings": [["id": .string(rows[1]), "notes": "I led the release"]],
                "goals": [["goal": "Learn Rust"]],
            ], as: "E")
        #expect(edited["review"]?["discussion_topics"] == "Career path")
        #expect(edited["kpi_ratings"]?[1]?["notes"] == "I led the release")
        #expect(edited["goals"]?[0]?["goal"] == "Learn Rust")
        let moved = try org.result("performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "E")
        #expect(moved["review"]?["status"] == "in_review")
        // Once in review, the subject may change nothing.
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "discussion_topics": "y"], as: "E")
                == "permission_denied")
    }

    @Test(
        "in self_assessment the subject is refused everything else, and nothing changes",
        arguments: [
            ["strengths": "I am great"], ["growth_areas": "none"], ["reviewer_notes": "x"], ["action_items": "x"],
            ["kpi_ratings": [["id": "ROW", "rating": "exceeding"]]], ["status": "completed"],
            ["status": "ready_for_review"],
            ["status": "draft"],
        ] as [JSONObject])
    func subjectRefused(params: JSONObject) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let (id, rows) = PerformanceOrganization.ids(try org.review("M", in: cycle, reviewer: "H"))
        _ = try org.result("performance.reviews.update", ["id": .string(id), "status": "self_assessment"], as: "H")
        let before = try org.result("performance.reviews.get", ["id": .string(id)])
        var object = try #require(
            try JSONParser.parse(
                JSON.object(params).jsonText.replacingOccurrences(of: "\"ROW\"", with: "\"\(rows[0])\"")
            ).objectValue)
        object["id"] = .string(id)
        // M is a manager with update:performance, but this is their own review.
        let error = try org.error("performance.reviews.update", object, as: "M")
        #expect(error["data"]?["code"] == "permission_denied")
        #expect(try org.result("performance.reviews.get", ["id": .string(id)]) == before)
    }

    @Test(
        "a completed review cannot be changed without reopening; reopening needs manage:performance and clears the figures"
    )
    func reopen() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let created = try org.review("E", in: cycle)
        let id = PerformanceOrganization.ids(created).review
        let completed = try org.complete(created, ratings: ["achieving", "achieving", "achieving", "exceeding"])
        #expect(completed["review"]?["status"] == "completed")
        #expect(completed["review"]?["kpi_passed"] == true)
        let change = try org.error("performance.reviews.update", ["id": .string(id), "strengths": "more"], as: "M")
        #expect(change["data"]?["code"] == "validation_error")
        #expect(change["data"]?["status"] == 400)
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "M")
                == "permission_denied")
        #expect(
            org.outcome("performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "H")
                == "permission_denied")
        #expect(try org.result("performance.reviews.get", ["id": .string(id)]) == completed)
        let reopened = try org.result(
            "performance.reviews.update", ["id": .string(id), "status": "in_review"], as: "X")
        #expect(reopened["review"]?["status"] == "in_review")
        #expect(reopened["review"]?["kpi_pass_count"] == .null)
        #expect(reopened["review"]?["kpi_total_count"] == .null)
        #expect(reopened["review"]?["kpi_passed"] == .null)
        #expect(reopened["review"]?["completed_at"] == .null)
        // Completing again computes the figures afresh.
        let rows = PerformanceOrganization.ids(reopened).rows
        let again = try org.result(
            "performance.reviews.update",
            [
                "id": .string(id), "status": "completed",
                "kpi_ratings": [["id": .string(rows[1]), "rating": "not_achieving"]],
            ],
            as: "M")
        #expect(again["review"]?["kpi_pass_count"] == 3)
        #expect(again["review"]?["kpi_passed"] == false)
    }

    @Test("only a draft review is deleted, with manage:performance")
    func delete() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let draft = PerformanceOrganization.ids(try org.review("E", in: cycle)).review
        let moved = PerformanceOrganization.ids(try org.review("F", in: cycle)).review
        _ = try org.result("performance.reviews.update", ["id": .string(moved), "status": "in_review"], as: "M")
        #expect(org.outcome("performance.reviews.delete", ["id": .string(draft)], as: "M") == "permission_denied")
        let refused = try org.error("performance.reviews.delete", ["id": .string(moved)], as: "X")
        #expect(refused["data"]?["code"] == "validation_error")
        #expect(
            try org.result("performance.reviews.delete", ["id": .string(draft)], as: "X") == [
                "id": .string(draft), "deleted": true,
            ])
        #expect(org.outcome("performance.reviews.get", ["id": .string(draft)]) == "not_found")
        // The person may be reviewed in the cycle again.
        #expect(
            org.outcome("performance.reviews.create", ["cycle_id": .string(cycle), "user_id": org.id("E")], as: "M")
                == "ok")
    }

    @Test("list is scoped: an employee sees their own, a manager their people and what they review; filters apply")
    func list() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let other = try org.cycle("D", start: "2025-10-01", end: "2025-12-31")
        let e = PerformanceOrganization.ids(try org.review("E", in: cycle)).review
        let g = PerformanceOrganization.ids(try org.review("G", in: cycle, reviewer: "N")).review
        let f = PerformanceOrganization.ids(try org.review("F", in: other)).review
        // L reviews G although G is in another squad and branch.
        let gOther = PerformanceOrganization.ids(try org.review("G", in: other, reviewer: "L")).review
        _ = try org.result("performance.reviews.update", ["id": .string(e), "status": "in_review"], as: "M")
        func ids(_ params: JSONObject = [:], as actor: String? = nil) throws -> [String] {
            try org.result("performance.reviews.list", params, as: actor)["reviews"]?.arrayValue?.compactMap {
                $0["id"]?.stringValue
            } ?? []
        }
        #expect(try Set(ids()) == [e, g, f, gOther])
        #expect(try ids(as: "E") == [e])
        #expect(try Set(ids(as: "M")) == [e, f])
        #expect(try Set(ids(as: "L")) == [e, f, gOther])
        #expect(try Set(ids(as: "H")) == [e, g, f, gOther])
        #expect(try Set(ids(["cycle_id": .string(cycle)], as: "H")) == [e, g])
        #expect(try ids(["cycle_id": .string(cycle), "status": "in_review"]) == [e])
        #expect(try ids(["status": "completed"]) == [])
        #expect(org.outcome("performance.reviews.get", ["id": .string(gOther)], as: "L") == "ok")
        #expect(org.outcome("performance.reviews.get", ["id": .string(g)], as: "L") == "not_found")
        #expect(org.outcome("performance.reviews.list", ["status": "finished"]) == "validation_error")
    }
}

@Suite("performance.reviews: pass/fail on completion")
struct PassFailTests {
    /// Complete a review of a person whose template has `mandatory` + `optional` items, rated by `ratings`.
    static func complete(items: [Bool], ratings: [String?]) throws -> JSON {
        let org = try PerformanceOrganization()
        let template = try org.result(
            "templates.create",
            [
                "name": "Sized",
                "items": .array(
                    items.enumerated().map { offset, mandatory in
                        ["area": "a", "label": .string("KPI \(offset)"), "is_mandatory": .bool(mandatory)]
                    }),
            ])["id"]
        _ = try org.result("people.update", ["id": org.id("E"), "review_template_id": try #require(template)])
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        return try org.complete(try org.review("E", in: cycle), ratings: ratings)["review"] ?? .null
    }

    @Test("exactly 75% passes; just below fails (100 rows: 75 and 74 achieving)")
    func threshold() throws {
        let items = Array(repeating: false, count: 100)
        let pass = try Self.complete(
            items: items,
            ratings: Array(repeating: "achieving", count: 75) + Array(repeating: "partially_achieving", count: 25))
        #expect(pass["kpi_pass_count"] == 75)
        #expect(pass["kpi_total_count"] == 100)
        #expect(pass["kpi_passed"] == true)
        #expect(pass["completed_at"] == "2026-04-15T09:00:00.000Z")
        let fail = try Self.complete(
            items: items,
            ratings: Array(repeating: "exceeding", count: 74) + Array(repeating: "not_achieving", count: 26))
        #expect(fail["kpi_pass_count"] == 74)
        #expect(fail["kpi_passed"] == false)
    }

    @Test("a failed mandatory row fails the review whatever the rate")
    func mandatory() throws {
        let review = try Self.complete(
            items: [true] + Array(repeating: false, count: 9),
            ratings: ["partially_achieving"] + Array(repeating: "exceeding", count: 9))
        #expect(review["kpi_pass_count"] == 9)
        #expect(review["kpi_passed"] == false)
    }

    @Test("unrated rows count in the total and do not pass")
    func unrated() throws {
        let review = try Self.complete(
            items: [false, false, false, false], ratings: ["achieving", "achieving", "achieving", nil])
        #expect(review["kpi_pass_count"] == 3)
        #expect(review["kpi_total_count"] == 4)
        #expect(review["kpi_passed"] == true)
        let mandatoryUnrated = try Self.complete(
            items: [true, false, false, false], ratings: [nil, "achieving", "achieving", "achieving"])
        #expect(mandatoryUnrated["kpi_passed"] == false)
    }

    @Test("a template with no items, and a person with no template: no rows, total 0, not passed")
    func noItems() throws {
        let empty = try Self.complete(items: [], ratings: [])
        #expect(empty["kpi_total_count"] == 0)
        #expect(empty["kpi_pass_count"] == 0)
        #expect(empty["kpi_passed"] == false)
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let detail = try org.review("S", in: cycle)
        #expect(detail["kpi_ratings"] == [])
        #expect(try org.complete(detail, ratings: [])["review"]?["kpi_passed"] == false)
    }
}
