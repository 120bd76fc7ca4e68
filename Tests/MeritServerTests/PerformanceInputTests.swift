import MeritJSON
import MeritTestSupport
import Testing

/// Bad input for every Performance method: a `validation_error` naming the field, and nothing changed.
@Suite("the Performance API's input checks")
struct PerformanceInputTests {
    /// Each method with valid params and, per case, the member to break and the bad value.
    static let cases: [(method: String, field: String, bad: JSON)] = [
        ("performance.cycles.list", "cursor", "x"),
        ("performance.cycles.create", "period_start", "2026-1-1"),
        ("performance.cycles.create", "due_date", "2026-13-01"),
        ("performance.cycles.get", "id", "rev_01ARYZ6S41ZZZZZZZZZZZZZZZZ"),
        ("performance.cycles.update", "id", "cyc_01ARYZ6S41ZZZZZZZZZZZZZZZ"),
        ("performance.cycles.update", "period_end", 20_260_331),
        ("performance.cycles.update", "name", ""),
        ("performance.cycles.delete", "id", .null),
        ("performance.reviews.list", "cycle_id", "Q1"),
        ("performance.reviews.list", "status", "closed"),
        ("performance.reviews.create", "cycle_id", "cyc_lower0000000000000000000"),
        ("performance.reviews.create", "reviewer_id", 42),
        ("performance.reviews.get", "id", "review-abc"),
        ("performance.reviews.update", "kpi_ratings", "all achieving"),
        ("performance.reviews.update", "goals", ["goal"]),
        ("performance.reviews.update", "discussion_topics", .string("bell \u{7}")),
        ("performance.reviews.delete", "id", true),
        ("performance.reviews.update_previous_goals", "outcomes", .null),
        ("performance.reviews.update_previous_goals", "outcomes", [["goal_id": "goal-old", "status": "completed"]]),
        ("performance.reviews.history", "user_id", "user-xyz"),
        ("performance.goals.current", "user_id", "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"),
        ("performance.action_items", "limit", 5),
        ("performance.feedback.requests.list", "status", "pending"),
        ("performance.feedback.requests.create", "due_date", "tomorrow"),
        ("performance.feedback.requests.create", "subject_id", "emp"),
        ("performance.feedback.requests.create_bulk", "cycle_id", .null),
        ("performance.feedback.requests.create_bulk", "peers", ["emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]),
        ("performance.feedback.submit", "request_id", "req-abc"),
        ("performance.feedback.submit", "development_rating", "Achieving"),
        ("performance.feedback.summary", "cycle_id", "cycle-abc"),
        ("performance.feedback.summary", "anonymous", false),
    ]

    /// Valid params of `method` in `org`, with `open` an open cycle, `review` a review of E in it and `request` a
    /// request for F's feedback about E.
    static func params(_ method: String, _ org: PerformanceOrganization, open: String, review: String, request: String)
        -> JSONObject
    {
        switch method {
        case "performance.cycles.create":
            return ["type": "quarterly", "name": "Q", "period_start": "2026-07-01", "period_end": "2026-09-30"]
        case "performance.cycles.get", "performance.cycles.update", "performance.cycles.delete":
            return ["id": .string(open)]
        case "performance.reviews.create":
            return ["cycle_id": .string(open), "user_id": org.id("F"), "reviewer_id": org.id("M")]
        case "performance.reviews.get", "performance.reviews.update", "performance.reviews.delete":
            return ["id": .string(review)]
        case "performance.reviews.update_previous_goals": return ["id": .string(review), "outcomes": []]
        case "performance.reviews.history", "performance.feedback.summary": return ["user_id": org.id("E")]
        case "performance.feedback.requests.create":
            return ["cycle_id": .string(open), "subject_id": org.id("E"), "reviewer_id": org.id("L")]
        case "performance.feedback.requests.create_bulk": return ["cycle_id": .string(open), "subject_id": org.id("F")]
        case "performance.feedback.submit": return FeedbackTests.answers(request)
        default: return [:]
        }
    }

    @Test("each bad field is a validation_error naming it, and changes nothing", arguments: 0..<cases.count)
    func badInput(index: Int) throws {
        let (method, field, bad) = Self.cases[index]
        let org = try PerformanceOrganization()
        let open = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let review = try #require(try org.review("E", in: open)["review"]?["id"]?.stringValue)
        let request = try #require(
            try org.result(
                "performance.feedback.requests.create",
                ["cycle_id": .string(open), "subject_id": org.id("E"), "reviewer_id": org.id("F")])["id"]?.stringValue)
        let before = org.reads(reviews: [review], cycles: [open])
        var params = Self.params(method, org, open: open, review: review, request: request)
        params[field] = bad
        let actor = method == "performance.feedback.submit" ? "F" : "M"
        let asAdmin = method.hasPrefix("performance.cycles.") && method != "performance.cycles.list"
        let error = try org.error(method, params, as: asAdmin ? nil : actor)
        #expect(error["data"]?["code"] == "validation_error", "\(error.jsonText)")
        let named = error["data"]?["details"]?[0]?["field"]?.stringValue ?? ""
        #expect(named == field || named.hasPrefix(field + "["), "\(error.jsonText)")
        #expect(error["message"]?.stringValue?.contains(field) == true)
        #expect(org.reads(reviews: [review], cycles: [open]) == before)
    }
}
