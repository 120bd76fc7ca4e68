import MeritJSON
import MeritTestSupport
import Testing

@Suite("performance.reviews: previous reviews, annual aggregation, goal outcomes, history and current goals")
struct PreviousReviewTests {
    /// E's completed reviews in 2025's quarters (and one quarter of 2026), an annual 2025 cycle, and a Q1 2026 cycle.
    final class Year {
        let org: PerformanceOrganization
        var quarters: [String] = []
        var reviews: [String] = []
        var annual = ""
        var q1 = ""
        var goalIDs: [String] = []

        /// `ratings[q]` rates the four rows of quarter `q`'s review.
        init(ratings: [[String?]], withAnnual: Bool = true) throws {
            org = try PerformanceOrganization()
            let periods = [
                ("Q1 2025", "2025-01-01", "2025-03-31"), ("Q2 2025", "2025-04-01", "2025-06-30"),
                ("Q3 2025", "2025-07-01", "2025-09-30"), ("Q4 2025", "2025-10-01", "2025-12-31"),
            ]
            for (offset, rating) in ratings.enumerated() {
                let (name, start, end) = periods[offset]
                let cycle = try org.cycle(name, start: start, end: end)
                quarters.append(cycle)
                let detail = try org.review("E", in: cycle)
                let done = try org.complete(
                    detail, ratings: rating,
                    goals: [["goal": .string("Goal of \(name)")], ["goal": .string("Second goal of \(name)")]])
                reviews.append(PerformanceOrganization.ids(done).review)
                goalIDs += done["goals"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            if withAnnual {
                annual = try org.cycle("FY 2025", type: "annual", start: "2025-01-01", end: "2025-12-31")
            }
            q1 = try org.cycle("Q1 2026", start: "2026-01-01", end: "2026-03-31")
        }
    }

    @Test("a quarterly review's previous_reviews is the latest completed review of an earlier cycle, at most one")
    func quarterly() throws {
        let year = try Year(ratings: [
            ["achieving", "achieving", nil, nil], ["exceeding", "achieving", "achieving", "achieving"],
        ])
        let org = year.org
        let detail = try org.review("E", in: year.q1)
        let previous = try #require(detail["previous_reviews"]?.arrayValue)
        #expect(previous.count == 1)
        #expect(previous.first?["review"]?["id"] == .string(year.reviews[1]))
        #expect(previous.first?["review"]?["cycle_name"] == "Q2 2025")
        #expect(previous.first?.objectValue?.keys == ["review", "kpi_ratings", "goals"])
        #expect(previous.first?["kpi_ratings"]?[0]?["template_item_id"] == .string(org.templateItems[0]))
        #expect(previous.first?["kpi_ratings"]?[0]?["rating"] == "exceeding")
        #expect(
            previous.first?["goals"]?.arrayValue?.map { $0["goal"] } == ["Goal of Q2 2025", "Second goal of Q2 2025"])
        #expect(detail["kpi_aggregation"] == .null)
        // The first quarter has nothing before it.
        let first = try org.result("performance.reviews.get", ["id": .string(year.reviews[0])])
        #expect(first["previous_reviews"] == [])
    }

    @Test("an annual review lists every completed quarterly review inside its period and aggregates their ratings")
    func annual() throws {
        let year = try Year(ratings: [
            ["achieving", "exceeding", nil, "not_achieving"], ["achieving", "achieving", "partially_achieving", nil],
            ["exceeding", "exceeding", "partially_achieving", nil], ["exceeding", "achieving", nil, nil],
        ])
        let org = year.org
        // A quarterly cycle outside the annual period, and one overlapping its edge, are left out.
        let outside = try org.cycle("Q4 2024", start: "2024-10-01", end: "2024-12-31")
        _ = try org.complete(
            try org.review("E", in: outside), ratings: ["exceeding", "exceeding", "exceeding", "exceeding"])
        let edge = try org.cycle("Dec-Jan", start: "2025-12-01", end: "2026-01-31")
        _ = try org.complete(try org.review("E", in: edge), ratings: ["not_achieving", nil, nil, nil])
        let detail = try org.review("E", in: year.annual)
        let previous = try #require(detail["previous_reviews"]?.arrayValue)
        #expect(previous.map { $0["review"]?["id"] } == year.reviews.map(JSON.string))
        let aggregation = try #require(detail["kpi_aggregation"]?.objectValue)
        let items = org.templateItems
        #expect(aggregation.keys == [items[0], items[1], items[2], items[3]])
        // Item 0: achieving ×2, exceeding ×2: a tie goes to the higher rating.
        #expect(aggregation[items[0]] == ["ratings": ["achieving": 2, "exceeding": 2], "most_common": "exceeding"])
        #expect(aggregation[items[1]] == ["ratings": ["achieving": 2, "exceeding": 2], "most_common": "exceeding"])
        // Unrated rows are not counted.
        #expect(aggregation[items[2]] == ["ratings": ["partially_achieving": 2], "most_common": "partially_achieving"])
        #expect(aggregation[items[3]] == ["ratings": ["not_achieving": 1], "most_common": "not_achieving"])
    }

    @Test("an annual review with no quarterly review in its period: no previous reviews and an empty aggregation")
    func annualAlone() throws {
        let org = try PerformanceOrganization()
        let annual = try org.cycle("FY 2025", type: "annual", start: "2025-01-01", end: "2025-12-31")
        let detail = try org.review("E", in: annual)
        #expect(detail["previous_reviews"] == [])
        #expect(detail["kpi_aggregation"] == .object(JSONObject()))
    }

    @Test("goal outcomes are recorded only for goals of this review's previous_reviews")
    func outcomes() throws {
        let year = try Year(ratings: [["achieving", "achieving", nil, nil], ["achieving", "achieving", nil, nil]])
        let org = year.org
        let current = PerformanceOrganization.ids(try org.review("E", in: year.q1)).review
        // Q2's goals are previous; Q1's are not.
        let (q2First, q2Second, q1First) = (year.goalIDs[2], year.goalIDs[3], year.goalIDs[0])
        let before = try org.result("performance.reviews.get", ["id": .string(year.reviews[0])])
        let refused = try org.error(
            "performance.reviews.update_previous_goals",
            [
                "id": .string(current),
                "outcomes": [
                    ["goal_id": .string(q2First), "status": "completed"],
                    ["goal_id": .string(q1First), "status": "completed"],
                ],
            ],
            as: "M")
        #expect(refused["data"]?["code"] == "validation_error")
        #expect(refused["data"]?["details"]?[0]?["field"] == "outcomes[1].goal_id")
        #expect(try org.result("performance.reviews.get", ["id": .string(year.reviews[0])]) == before)
        #expect(
            try org.result("performance.reviews.get", ["id": .string(year.reviews[1])])["goals"]?[0]?["status"] == .null
        )
        let bad = try org.error(
            "performance.reviews.update_previous_goals",
            ["id": .string(current), "outcomes": [["goal_id": .string(q2First), "status": "done"]]], as: "M")
        #expect(bad["data"]?["details"]?[0]?["field"] == "outcomes[0].status")
        let recorded = try org.result(
            "performance.reviews.update_previous_goals",
            [
                "id": .string(current),
                "outcomes": [
                    ["goal_id": .string(q2First), "status": "completed"],
                    ["goal_id": .string(q2Second), "status": "not_completed"],
                ],
            ],
            as: "M")
        #expect(
            recorded.objectValue?.keys == ["review", "kpi_ratings", "goals", "previous_reviews", "kpi_aggregation"])
        #expect(
            recorded["previous_reviews"]?[0]?["goals"]?.arrayValue?.map { $0["status"] } == [
                "completed", "not_completed",
            ])
        let q2 = try org.result("performance.reviews.get", ["id": .string(year.reviews[1])])
        #expect(q2["goals"]?.arrayValue?.map { $0["status"] } == ["completed", "not_completed"])
        // The subject may not record outcomes.
        _ = try org.result(
            "performance.reviews.update", ["id": .string(current), "status": "self_assessment"], as: "M")
        #expect(
            org.outcome(
                "performance.reviews.update_previous_goals",
                ["id": .string(current), "outcomes": [["goal_id": .string(q2First), "status": "not_completed"]]],
                as: "E")
                == "permission_denied")
        // History counts the outcomes.
        let history = try #require(
            try org.result("performance.reviews.history", ["user_id": org.id("E")], as: "M")["history"]?.arrayValue)
        #expect(history.map { $0["review_id"] } == year.reviews.map(JSON.string))
        #expect(history[1]["goal_count"] == 2)
        #expect(history[1]["goals_completed"] == 1)
        #expect(history[1]["goals_not_completed"] == 1)
        #expect(history[0]["goals_completed"] == 0)
    }

    @Test("history: completed reviews oldest first, with KPI figures and kpi_passed as 1 or 0; scoped")
    func history() throws {
        let year = try Year(ratings: [
            ["achieving", "achieving", "achieving", nil], ["not_achieving", "achieving", "achieving", "achieving"],
        ])
        let org = year.org
        // A review not yet completed is not in the history.
        _ = try org.review("E", in: year.q1)
        let history = try #require(
            try org.result("performance.reviews.history", ["user_id": org.id("E")])["history"]?.arrayValue)
        #expect(history.count == 2)
        #expect(
            history[0].objectValue?.keys == [
                "review_id", "cycle_id", "cycle_name", "cycle_type", "period_start", "period_end", "completed_at",
                "kpi_pass_count", "kpi_total_count", "kpi_passed", "goal_count", "goals_completed",
                "goals_not_completed",
            ])
        #expect(history[0]["cycle_name"] == "Q1 2025")
        #expect(history[0]["period_start"] == "2025-01-01")
        #expect(history[0]["kpi_pass_count"] == 3)
        #expect(history[0]["kpi_total_count"] == 4)
        #expect(history[0]["kpi_passed"] == 1)
        #expect(history[1]["kpi_passed"] == 0)
        #expect(history[0]["completed_at"] == "2026-04-15T09:00:00.000Z")
        #expect(org.outcome("performance.reviews.history", ["user_id": org.id("E")], as: "E") == "ok")
        #expect(org.outcome("performance.reviews.history", ["user_id": org.id("E")], as: "F") == "not_found")
        #expect(org.outcome("performance.reviews.history", ["user_id": org.id("E")], as: "N") == "not_found")
        #expect(
            org.outcome("performance.reviews.history", ["user_id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]) == "unprocessable"
        )
        #expect(try org.result("performance.reviews.history", ["user_id": org.id("F")])["history"] == [])
    }

    @Test("goals.current: the acting person's latest completed review's goals, or the seed's empty answer")
    func currentGoals() throws {
        let org = try PerformanceOrganization()
        #expect(try org.result("performance.goals.current", as: "E") == ["goals": [], "cycle_name": ""])
        let year = try Year(ratings: [["achieving", "achieving", nil, nil], ["achieving", "achieving", nil, nil]])
        let current = try year.org.result("performance.goals.current", as: "E")
        #expect(current["cycle_name"] == "Q2 2025")
        let goals = try #require(current["goals"]?.arrayValue)
        #expect(goals.map { $0["goal"] } == ["Goal of Q2 2025", "Second goal of Q2 2025"])
        #expect(
            goals[0].objectValue?.keys == [
                "id", "review_id", "goal", "success_measures", "support_needed", "status", "sort_order",
            ])
        #expect(goals[0]["review_id"] == .string(year.reviews[1]))
        #expect(year.org.outcome("performance.goals.current") == "permission_denied")
    }
}
