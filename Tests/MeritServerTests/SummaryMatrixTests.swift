import MeritJSON
import MeritTestSupport
import Testing

/// The Summaries API's permission matrix: every method × every role × self / in scope / out of scope × a key with
/// every scope and one lacking the method's.
let summaryMatrix: [PerformanceMatrixRow] = {
    var rows: [PerformanceMatrixRow] = []
    let writers = ["M", "H", "X", "A"]
    func add(
        _ method: String, _ scope: String, targets: [String] = ["self", "in", "out"],
        _ expected: (_ actor: String, _ target: String) -> String
    ) {
        for actor in ["E", "L", "M", "H", "X", "A"] {
            for target in targets where performanceTargets[actor]?[target] != nil {
                let outcome = target == "out" ? "not_found" : expected(actor, target)
                rows.append(
                    PerformanceMatrixRow(
                        method: method, actor: actor, target: target, expected: outcome, scope: scope,
                        withoutScope: outcome == "ok" ? "permission_denied" : outcome))
            }
        }
    }
    add("summaries.list", "summaries:read", targets: ["self"]) { _, _ in "ok" }
    // A draft about oneself is not_found to one; the others see it when in scope.
    add("summaries.get", "summaries:read") { _, target in target == "self" ? "not_found" : "ok" }
    // Nobody writes a summary about themself.
    add("summaries.create", "summaries:write") { actor, target in
        writers.contains(actor) && target != "self" ? "ok" : "permission_denied"
    }
    for method in ["summaries.update", "summaries.submit", "summaries.approve", "summaries.share", "summaries.archive"]
    {
        add(method, "summaries:write") { actor, target in
            target == "self" ? "not_found" : writers.contains(actor) ? "ok" : "permission_denied"
        }
    }
    // On a shared summary: only its employee posts feedback.
    add("summaries.feedback", "summaries:read") { _, target in target == "self" ? "ok" : "permission_denied" }
    return rows
}()

@Suite("the Summaries API's permission matrix")
struct SummaryMatrixTests {
    static func run(_ row: PerformanceMatrixRow, lackingScope: Bool) throws -> String {
        let org = try PerformanceOrganization()
        let target = try #require(performanceTargets[row.actor]?[row.target])
        var params: JSONObject = [:]
        if row.method == "summaries.create" {
            params = [
                "employee_id": org.id(target), "period_start": "2026-01-01", "period_end": "2026-03-31",
                "body": body("x"),
            ]
        } else if row.method != "summaries.list" {
            // Written by an executive who is none of the actors, so that no actor reads it as its author.
            try org.add("W", "executive")
            let id = try #require(
                try org.result(
                    "summaries.create",
                    [
                        "employee_id": org.id(target), "manager_id": org.id("W"), "period_start": "2026-01-01",
                        "period_end": "2026-03-31", "body": body("x"),
                    ])["id"])
            params["id"] = id
            if row.method == "summaries.feedback" {
                _ = try org.result("summaries.share", ["id": id])
                params["kind"] = "acknowledgment"
            }
            if row.method == "summaries.update" { params["body"] = body("y") }
        }
        if lackingScope { try org.initializeWithKeyLacking(row.scope) }
        return org.outcome(row.method, params, as: row.actor)
    }

    @Test("with a key that has every scope", arguments: summaryMatrix)
    func fullKey(row: PerformanceMatrixRow) throws {
        #expect(try Self.run(row, lackingScope: false) == row.expected)
    }

    @Test("with a key lacking the method's scope", arguments: summaryMatrix)
    func limitedKey(row: PerformanceMatrixRow) throws {
        #expect(try Self.run(row, lackingScope: true) == row.withoutScope)
    }

    @Test("the matrix covers every Summaries method")
    func coverage() {
        #expect(Set(summaryMatrix.map(\.method)).count == 9)
    }
}
