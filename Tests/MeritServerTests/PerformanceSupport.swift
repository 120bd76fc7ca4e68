import MeritDomain
import MeritJSON
import MeritServer
import MeritTestSupport
import Testing

/// The organization the Performance API tests run in, through the real dispatcher:
///
///     executive X ── head H ─┬─ manager M ─┬─ lead L (squad core)
///                            │             ├─ employee E (squad core)
///                            │             └─ employee F (squad core)
///                            └─ manager N ── employee G (squad edge)
///     head H2 (no manager);  admin A (an employee with is_admin);  employee S (no squad, no manager)
///
/// Everyone but S and A has the template T: four items, the first two mandatory.
final class PerformanceOrganization {
    let session: InProcessSession
    var people: [String: String] = [:]
    var template = ""
    var templateItems: [String] = []

    init(clock: String = "2026-04-15T09:00:00Z") throws {
        session = try InProcessSession(
            configuration: ServerConfiguration(frozenClock: Timestamp(rfc3339: clock), seed: 7))
        template =
            try session.result(
                "templates.create",
                [
                    "name": "Engineering",
                    "items": [
                        ["area": "performance", "label": "Delivery", "is_mandatory": true],
                        ["area": "quality", "label": "Quality", "is_mandatory": true],
                        ["area": "craft", "label": "Reviews", "is_mandatory": false],
                        ["area": "team", "label": "Mentoring", "is_mandatory": false],
                    ],
                ])["id"]?.stringValue ?? ""
        templateItems =
            try session.result("templates.get", ["id": .string(template)])["items"]?.arrayValue?.compactMap {
                $0["id"]?.stringValue
            } ?? []
        try add("X", "executive")
        try add("H", "head", manager: "X")
        try add("H2", "head")
        try add("M", "manager", manager: "H")
        try add("N", "manager", manager: "H")
        try add("L", "lead", manager: "M", squad: "core")
        try add("E", "employee", manager: "M", squad: "core")
        try add("F", "employee", manager: "M", squad: "core")
        try add("G", "employee", manager: "N", squad: "edge")
        try add("A", "employee", admin: true, template: false)
        try add("S", "employee", template: false)
    }

    /// Add a person to the directory.
    func add(
        _ name: String, _ role: String, manager: String? = nil, squad: String? = nil, admin: Bool = false,
        template: Bool = true
    ) throws {
        var params: JSONObject = [
            "name": .string("Person \(name)"), "email": .string("\(name.lowercased())@acme.example"),
            "role": .string(role), "is_admin": .bool(admin),
        ]
        if let manager { params["manager_id"] = .string(people[manager]!) }
        if let squad { params["squad"] = .string(squad) }
        if template { params["review_template_id"] = .string(self.template) }
        people[name] = try #require(try session.result("people.create", .object(params))["id"]?.stringValue)
    }

    /// A person's id.
    func id(_ name: String) -> JSON { .string(people[name] ?? name) }

    /// The response to `method` with `params`, run as `actor` (a name; the admin key acting as nobody when `nil`).
    func call(_ method: String, _ params: JSONObject = [:], as actor: String? = nil) -> JSON {
        var params = params
        if let actor { params["_meta"] = ["actor": id(actor)] }
        return session.call(method, .object(params))
    }

    /// The result of `method`, or a failed test naming its error.
    func result(_ method: String, _ params: JSONObject = [:], as actor: String? = nil) throws -> JSON {
        let response = call(method, params, as: actor)
        return try #require(response["result"], "\(method) as \(actor ?? "admin") failed: \(response.jsonText)")
    }

    /// Re-open the session with a new key holding every scope but `scope`.
    func initializeWithKeyLacking(_ scope: String) throws {
        let scopes = [
            "view:performance", "update:performance", "manage:performance", "summaries:read", "summaries:write",
            "directory:read", "directory:write", "keys:manage", "events:read", "act_as",
        ].filter { $0 != scope }
        let key = try #require(
            try result("keys.create", ["name": "limited", "scopes": .array(scopes.map(JSON.string))])["key"])
        _ = try session.result("initialize", ["api_key": key])
    }

    /// The `data.code` of the error `method` answers, or "ok".
    func outcome(_ method: String, _ params: JSONObject = [:], as actor: String? = nil) -> String {
        let response = call(method, params, as: actor)
        if response["result"] != nil { return "ok" }
        return response["error"]?["data"]?["code"]?.stringValue ?? "no answer"
    }

    /// The error `method` answers.
    func error(_ method: String, _ params: JSONObject = [:], as actor: String? = nil) throws -> JSON {
        let response = call(method, params, as: actor)
        return try #require(response["error"], "\(method) succeeded: \(response.jsonText)")
    }

    /// A cycle, opened unless `status` says otherwise.
    func cycle(
        _ name: String, type: String = "quarterly", start: String, end: String, status: String? = "open"
    ) throws -> String {
        let id = try #require(
            try result(
                "performance.cycles.create",
                [
                    "type": .string(type), "name": .string(name), "period_start": .string(start),
                    "period_end": .string(end),
                ])["id"]?.stringValue)
        if let status, status != "draft" {
            _ = try result("performance.cycles.update", ["id": .string(id), "status": "open"])
            if status == "closed" {
                _ = try result("performance.cycles.update", ["id": .string(id), "status": "closed"])
            }
        }
        return id
    }

    /// A review of `user` in `cycle`, reviewed by `reviewer` (created by the admin key).
    func review(_ user: String, in cycle: String, reviewer: String = "M") throws -> JSON {
        try result(
            "performance.reviews.create",
            ["cycle_id": .string(cycle), "user_id": id(user), "reviewer_id": id(reviewer)])
    }

    /// The review's id and its KPI rows' ids, from a `reviews.get`-shaped answer.
    static func ids(_ detail: JSON) -> (review: String, rows: [String]) {
        (
            detail["review"]?["id"]?.stringValue ?? "",
            detail["kpi_ratings"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        )
    }

    /// Rate every row of `review` with `ratings` (in row order; `nil` leaves it unrated) and complete it.
    func complete(_ detail: JSON, ratings: [String?], goals: [JSON] = [], as actor: String = "M") throws -> JSON {
        let (review, rows) = Self.ids(detail)
        let edits: [JSON] = zip(rows, ratings).map { row, rating in
            ["id": .string(row), "rating": rating.map(JSON.string) ?? .null]
        }
        var params: JSONObject = ["id": .string(review), "kpi_ratings": .array(edits), "status": "completed"]
        if !goals.isEmpty { params["goals"] = .array(goals) }
        return try result("performance.reviews.update", params, as: actor)
    }

    /// Every read method's answers (results or errors, without the request ids), for comparing before and after a
    /// restart.
    func reads(reviews: [String], cycles: [String]) -> [JSON] {
        readResponses(reviews: reviews, cycles: cycles).map { $0["result"] ?? $0["error"] ?? .null }
    }

    private func readResponses(reviews: [String], cycles: [String]) -> [JSON] {
        var answers: [JSON] = []
        answers.append(call("performance.cycles.list"))
        for cycle in cycles { answers.append(call("performance.cycles.get", ["id": .string(cycle)])) }
        for review in reviews { answers.append(call("performance.reviews.get", ["id": .string(review)])) }
        answers.append(call("performance.reviews.list"))
        for name in people.keys.sorted() {
            answers.append(call("performance.reviews.history", ["user_id": id(name)]))
            answers.append(call("performance.feedback.summary", ["user_id": id(name)]))
            answers.append(call("performance.action_items", as: name))
            answers.append(call("performance.goals.current", as: name))
            answers.append(call("performance.feedback.requests.list", as: name))
            answers.append(call("notifications.list", as: name))
            answers.append(call("performance.reviews.list", as: name))
        }
        return answers
    }
}
