import MeritJSON
import MeritTestSupport
import Testing

@Suite("performance.cycles")
struct CycleTests {
    @Test("create makes a draft with the fields given; get shows it with zero progress")
    func create() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.result(
            "performance.cycles.create",
            [
                "type": "quarterly", "name": " Q1 2026 Review ", "period_start": "2026-01-01",
                "period_end": "2026-03-31",
                "due_date": "2026-04-15",
            ])
        #expect(cycle["status"] == "draft")
        #expect(cycle["name"] == "Q1 2026 Review")
        #expect(cycle["type"] == "quarterly")
        #expect(cycle["due_date"] == "2026-04-15")
        #expect(
            cycle.objectValue?.keys == [
                "id", "type", "name", "period_start", "period_end", "due_date", "status", "created_at", "updated_at",
            ])
        let detail = try org.result("performance.cycles.get", ["id": try #require(cycle["id"])])
        #expect(detail["cycle"] == cycle)
        #expect(
            detail["stats"] == [
                "total": 0, "completed": 0, "draft": 0, "self_assessment": 0, "in_review": 0, "ready_for_review": 0,
            ])
    }

    @Test(
        "bad create input names the field and creates nothing",
        arguments: [
            (["type": "monthly", "name": "C", "period_start": "2026-01-01", "period_end": "2026-03-31"], "type"),
            (["type": "quarterly", "name": "  ", "period_start": "2026-01-01", "period_end": "2026-03-31"], "name"),
            (
                ["type": "quarterly", "name": "C", "period_start": "2026-02-30", "period_end": "2026-03-31"],
                "period_start"
            ),
            (
                ["type": "quarterly", "name": "C", "period_start": "2026-03-31", "period_end": "2026-01-01"],
                "period_end"
            ),
            (
                [
                    "type": "quarterly", "name": "C", "period_start": "2026-01-01", "period_end": "2026-03-31",
                    "due_date": "2026-03-30",
                ],
                "due_date"
            ),
            (["type": "quarterly", "name": "C", "period_start": "2026-01-01"], "period_end"),
            (
                [
                    "type": "quarterly", "name": "C", "period_start": "2026-01-01", "period_end": "2026-03-31",
                    "status": "open",
                ],
                "status"
            ),
        ] as [(JSONObject, String)])
    func badCreate(params: JSONObject, field: String) throws {
        let org = try PerformanceOrganization()
        let error = try org.error("performance.cycles.create", params)
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(try org.result("performance.cycles.list")["cycles"] == [])
    }

    @Test("a draft cycle is invisible without manage:performance, in every method; executives and admins see it")
    func draftsInvisible() throws {
        let org = try PerformanceOrganization()
        let draft = try org.cycle("Draft", start: "2026-01-01", end: "2026-03-31", status: "draft")
        let open = try org.cycle("Open", start: "2025-10-01", end: "2025-12-31")
        for actor in ["M", "E", "L", "H"] {
            #expect(org.outcome("performance.cycles.get", ["id": .string(draft)], as: actor) == "not_found")
            #expect(
                org.outcome("performance.cycles.update", ["id": .string(draft), "name": "x"], as: actor) == "not_found")
            #expect(org.outcome("performance.cycles.delete", ["id": .string(draft)], as: actor) == "not_found")
            #expect(
                org.outcome(
                    "performance.reviews.create",
                    ["cycle_id": .string(draft), "user_id": org.id("E"), "reviewer_id": org.id("M")], as: actor)
                    == "not_found")
            #expect(org.outcome("performance.reviews.list", ["cycle_id": .string(draft)], as: actor) == "not_found")
            let listed = try org.result("performance.cycles.list", as: actor)["cycles"]?.arrayValue ?? []
            #expect(listed.map { $0["id"] } == [.string(open)])
            // Visible but not theirs to change: permission_denied.
            #expect(
                org.outcome("performance.cycles.update", ["id": .string(open), "name": "x"], as: actor)
                    == "permission_denied")
        }
        for actor in ["X", "A"] {
            #expect(org.outcome("performance.cycles.get", ["id": .string(draft)], as: actor) == "ok")
            #expect(try org.result("performance.cycles.list", as: actor)["cycles"]?.arrayValue?.count == 2)
        }
        // Most recent period first.
        #expect(try org.result("performance.cycles.list")["cycles"]?[0]?["id"] == .string(draft))
    }

    @Test(
        "status moves only draft → open → closed and closed → open; anything else is a validation_error",
        arguments: [
            ("draft", "open", true), ("draft", "closed", false), ("open", "closed", true), ("open", "draft", false),
            ("closed", "open", true), ("closed", "draft", false), ("open", "open", true), ("draft", "archived", false),
        ])
    func transitions(from: String, to: String, allowed: Bool) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31", status: from)
        let response = org.call("performance.cycles.update", ["id": .string(cycle), "status": .string(to)])
        let after = try org.result("performance.cycles.get", ["id": .string(cycle)])["cycle"]?["status"]
        if allowed {
            #expect(response["result"]?["status"] == .string(to))
            #expect(after == .string(to))
        } else {
            #expect(response["error"]?["data"]?["code"] == "validation_error")
            #expect(response["error"]?["data"]?["details"]?[0]?["field"] == "status")
            #expect(after == .string(from))
        }
    }

    @Test("update changes name and dates, checks the period against what it keeps, and clears the due date")
    func update() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let updated = try org.result(
            "performance.cycles.update",
            ["id": .string(cycle), "name": "Q1", "period_end": "2026-04-30", "due_date": "2026-05-15"])
        #expect(updated["name"] == "Q1")
        #expect(updated["period_end"] == "2026-04-30")
        #expect(updated["due_date"] == "2026-05-15")
        let early = try org.error("performance.cycles.update", ["id": .string(cycle), "period_end": "2025-12-31"])
        #expect(early["data"]?["details"]?[0]?["field"] == "period_end")
        #expect(early["message"]?.stringValue?.contains("2025-12-31") == true)
        #expect(
            try org.result("performance.cycles.update", ["id": .string(cycle), "due_date": .null])["due_date"] == .null)
        #expect(
            try org.result("performance.cycles.get", ["id": .string(cycle)])["cycle"]?["period_end"] == "2026-04-30")
        #expect(
            org.outcome("performance.cycles.update", ["id": .string(cycle), "type": "annual"]) == "validation_error")
    }

    @Test("only a draft cycle is deleted; anything else is 400 and stays")
    func delete() throws {
        let org = try PerformanceOrganization()
        let draft = try org.cycle("D", start: "2026-01-01", end: "2026-03-31", status: "draft")
        let open = try org.cycle("O", start: "2026-01-01", end: "2026-03-31")
        let closed = try org.cycle("C", start: "2026-01-01", end: "2026-03-31", status: "closed")
        #expect(
            try org.result("performance.cycles.delete", ["id": .string(draft)]) == [
                "id": .string(draft), "deleted": true,
            ])
        #expect(org.outcome("performance.cycles.get", ["id": .string(draft)]) == "not_found")
        #expect(org.outcome("performance.cycles.delete", ["id": .string(draft)]) == "not_found")
        for cycle in [open, closed] {
            let error = try org.error("performance.cycles.delete", ["id": .string(cycle)])
            #expect(error["data"]?["status"] == 400)
            #expect(error["data"]?["code"] == "validation_error")
            #expect(org.outcome("performance.cycles.get", ["id": .string(cycle)]) == "ok")
        }
    }

    @Test("stats count the reviews of the cycle by status, as far as the reader sees")
    func stats() throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("C", start: "2026-01-01", end: "2026-03-31")
        let e = PerformanceOrganization.ids(try org.review("E", in: cycle)).review
        _ = try org.review("F", in: cycle)
        _ = try org.review("G", in: cycle, reviewer: "N")
        _ = try org.result("performance.reviews.update", ["id": .string(e), "status": "in_review"])
        let all = try org.result("performance.cycles.get", ["id": .string(cycle)])["stats"]
        #expect(
            all == [
                "total": 3, "completed": 0, "draft": 2, "self_assessment": 0, "in_review": 1, "ready_for_review": 0,
            ])
        let managerN = try org.result("performance.cycles.get", ["id": .string(cycle)], as: "N")["stats"]
        #expect(managerN?["total"] == 1)
        #expect(managerN?["draft"] == 1)
        #expect(try org.result("performance.cycles.get", ["id": .string(cycle)], as: "E")["stats"]?["in_review"] == 1)
    }
}
