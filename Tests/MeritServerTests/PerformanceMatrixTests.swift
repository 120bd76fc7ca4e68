import MeritJSON
import MeritTestSupport
import Testing

/// One row of the Performance API's permission matrix: a method, who runs it, about whom ("self", "in" scope or
/// "out" of it), what a key with every scope gets, and what a key lacking the method's scope gets.
struct PerformanceMatrixRow: CustomTestStringConvertible, Sendable {
    var method: String
    var actor: String
    var target: String
    var expected: String
    var scope: String
    var withoutScope: String

    var testDescription: String {
        "\(method) by \(actor) on \(target) → \(expected) (without \(scope): \(withoutScope))"
    }
}

/// Who is in and out of each actor's scope, in `PerformanceOrganization`.
let performanceTargets: [String: [String: String]] = [
    "E": ["self": "E", "out": "F"], "L": ["self": "L", "in": "E", "out": "G"],
    "M": ["self": "M", "in": "E", "out": "G"],
    "H": ["self": "H", "in": "E", "out": "H2"], "X": ["self": "X", "in": "E"], "A": ["self": "A", "in": "E"],
]

let performanceMatrix: [PerformanceMatrixRow] = {
    var rows: [PerformanceMatrixRow] = []
    let actors = ["E", "L", "M", "H", "X", "A"]
    /// Add a row for every actor and target, `expected` deciding the outcome.
    func add(_ method: String, _ scope: String, _ expected: (_ actor: String, _ target: String) -> String) {
        for actor in actors {
            for target in ["self", "in", "out"] where performanceTargets[actor]?[target] != nil {
                let outcome = expected(actor, target)
                let without = outcome == "ok" ? "permission_denied" : outcome
                rows.append(
                    PerformanceMatrixRow(
                        method: method, actor: actor, target: target, expected: outcome, scope: scope,
                        withoutScope: without))
            }
        }
    }
    let manages = ["X", "A"]
    let updates = ["L", "M", "H", "X", "A"]
    /// Hidden when out of scope, else `rule`.
    func scoped(_ rule: @escaping (String, String) -> String) -> (String, String) -> String {
        { actor, target in target == "out" ? "not_found" : rule(actor, target) }
    }
    add("performance.cycles.list", "view:performance") { _, _ in "ok" }
    add("performance.cycles.get", "view:performance") { _, _ in "ok" }
    add("performance.cycles.create", "manage:performance") { actor, _ in
        manages.contains(actor) ? "ok" : "permission_denied"
    }
    add("performance.cycles.update", "manage:performance") { actor, _ in
        manages.contains(actor) ? "ok" : "permission_denied"
    }
    add("performance.reviews.list", "view:performance") { _, _ in "ok" }
    add("performance.goals.current", "view:performance") { _, _ in "ok" }
    add("performance.action_items", "view:performance") { _, _ in "ok" }
    add("performance.feedback.requests.list", "view:performance") { _, _ in "ok" }
    add("performance.reviews.get", "view:performance", scoped { _, _ in "ok" })
    add("performance.reviews.history", "view:performance", scoped { _, _ in "ok" })
    for method in [
        "performance.reviews.create", "performance.feedback.requests.create",
        "performance.feedback.requests.create_bulk",
    ] {
        add(method, "update:performance", scoped { actor, _ in updates.contains(actor) ? "ok" : "permission_denied" })
    }
    // The subject of a review may not change it outside self_assessment, nor record goal outcomes, whatever their role.
    for method in ["performance.reviews.update", "performance.reviews.update_previous_goals"] {
        add(
            method, "update:performance",
            scoped { actor, target in
                target == "self" || !updates.contains(actor) ? "permission_denied" : "ok"
            })
    }
    add(
        "performance.reviews.delete", "manage:performance",
        scoped { actor, _ in manages.contains(actor) ? "ok" : "permission_denied" })
    // Only the assigned reviewer submits: "self" is a request assigned to the actor, the others one assigned to the target.
    add("performance.feedback.submit", "view:performance") { _, target in target == "self" ? "ok" : "permission_denied"
    }
    // The summary: managers and above about someone in their scope.
    add(
        "performance.feedback.summary", "view:performance",
        scoped { actor, _ in
            ["M", "H", "X", "A"].contains(actor) ? "ok" : "permission_denied"
        })
    // A draft cycle is invisible without manage:performance: deleting one is not_found to everyone else, and to a
    // key lacking the scope.
    for actor in actors {
        let allowed = manages.contains(actor)
        rows.append(
            PerformanceMatrixRow(
                method: "performance.cycles.delete", actor: actor, target: "self",
                expected: allowed ? "ok" : "not_found",
                scope: "manage:performance", withoutScope: "not_found"))
    }
    return rows
}()

@Suite("the Performance API's permission matrix")
struct PerformanceMatrixTests {
    /// Run `row` in a fresh organization, with the admin key or a key lacking the row's scope.
    static func run(_ row: PerformanceMatrixRow, lackingScope: Bool) throws -> String {
        let org = try PerformanceOrganization()
        let target = try #require(performanceTargets[row.actor]?[row.target])
        let open = try org.cycle("Open", start: "2026-01-01", end: "2026-03-31")
        let draft = try org.cycle("Draft", start: "2026-04-01", end: "2026-06-30", status: "draft")
        var params: JSONObject = [:]
        switch row.method {
        case "performance.cycles.get", "performance.cycles.update":
            params["id"] = .string(open)
            if row.method == "performance.cycles.update" { params["name"] = "Renamed" }
        case "performance.cycles.delete": params["id"] = .string(draft)
        case "performance.cycles.create":
            params = ["type": "quarterly", "name": "New", "period_start": "2026-07-01", "period_end": "2026-09-30"]
        case "performance.reviews.create":
            params = ["cycle_id": .string(open), "user_id": org.id(target), "reviewer_id": org.id("S")]
        case "performance.reviews.get", "performance.reviews.update", "performance.reviews.delete",
            "performance.reviews.update_previous_goals":
            params["id"] = try #require(try org.review(target, in: open, reviewer: "S")["review"]?["id"])
            if row.method == "performance.reviews.update" { params["strengths"] = "Clear" }
            if row.method == "performance.reviews.update_previous_goals" { params["outcomes"] = [] }
        case "performance.reviews.history", "performance.feedback.summary": params["user_id"] = org.id(target)
        case "performance.feedback.requests.create":
            params = ["cycle_id": .string(open), "subject_id": org.id(target), "reviewer_id": org.id("S")]
        case "performance.feedback.requests.create_bulk":
            params = ["cycle_id": .string(open), "subject_id": org.id(target)]
        case "performance.feedback.submit":
            let reviewer = row.target == "self" ? row.actor : target
            let request = try #require(
                try org.result(
                    "performance.feedback.requests.create",
                    ["cycle_id": .string(open), "subject_id": org.id("S"), "reviewer_id": org.id(reviewer)])["id"])
            params = FeedbackTests.answers(request.stringValue ?? "")
        default: break
        }
        if lackingScope { try org.initializeWithKeyLacking(row.scope) }
        return org.outcome(row.method, params, as: row.actor)
    }

    @Test("with a key that has every scope", arguments: performanceMatrix)
    func fullKey(row: PerformanceMatrixRow) throws {
        #expect(try Self.run(row, lackingScope: false) == row.expected)
    }

    @Test("with a key lacking the method's scope", arguments: performanceMatrix)
    func limitedKey(row: PerformanceMatrixRow) throws {
        #expect(try Self.run(row, lackingScope: true) == row.withoutScope)
    }

    @Test("the matrix covers every Performance method")
    func coverage() {
        let methods = Set(performanceMatrix.map(\.method))
        #expect(methods.count == 19)
        for role in ["E", "L", "M", "H", "X", "A"] {
            #expect(performanceMatrix.contains { $0.actor == role && $0.method == "performance.reviews.update" })
        }
    }
}
