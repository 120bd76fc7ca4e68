import MeritJSON
import MeritTestSupport
import Testing

/// The organization every matrix row runs in:
///
///     head H ─┬─ manager M ─┬─ lead L (squad alpha)
///             │             └─ employee E (squad alpha)
///             └─ manager M2 ── employee O (squad beta)
///     executive X;  admin A (an employee with is_admin)
final class MatrixOrganization {
    let session: InProcessSession
    var people: [String: String] = [:]
    var observations: [String: String] = [:]
    var objectives: [String: String] = [:]
    var template = ""
    /// Keys with every scope but one, by the scope left out; the admin key has them all.
    var keysWithout: [String: String] = [:]

    init() throws {
        session = try InProcessSession()
        func add(_ name: String, _ role: String, manager: String? = nil, squad: String? = nil, admin: Bool = false)
            throws
        {
            var params: JSONObject = [
                "name": .string(name), "email": .string("\(name.lowercased())@acme.example"), "role": .string(role),
                "is_admin": .bool(admin),
            ]
            if let manager { params["manager_id"] = .string(people[manager]!) }
            if let squad { params["squad"] = .string(squad) }
            people[name] = try session.result("people.create", .object(params))["id"]?.stringValue
        }
        try add("H", "head")
        try add("M", "manager", manager: "H")
        try add("M2", "manager", manager: "H")
        try add("L", "lead", manager: "M", squad: "alpha")
        try add("E", "employee", manager: "M", squad: "alpha")
        try add("O", "employee", manager: "M2", squad: "beta")
        try add("X", "executive")
        try add("A", "employee", admin: true)
        template =
            try session.result(
                "templates.create",
                ["name": "Engineering", "items": [["area": "performance", "label": "Delivery", "is_mandatory": true]]])[
                "id"]?.stringValue ?? ""
        for name in people.keys {
            let employee = JSON.string(people[name]!)
            observations[name] = try session.result(
                "observations.create",
                ["employee_id": employee, "text": .string("About \(name)"), "observed_on": "2026-04-01"])["id"]?
                .stringValue
            objectives[name] = try session.result(
                "objectives.create", ["employee_id": employee, "title": .string("Grow \(name)")])[
                    "id"]?.stringValue
        }
        let all = [
            "view:performance", "update:performance", "manage:performance", "summaries:read", "summaries:write",
            "directory:read", "directory:write", "keys:manage", "events:read", "act_as",
        ]
        for missing in ["view:performance", "update:performance", "directory:read", "directory:write", "keys:manage"] {
            let scopes = all.filter { $0 != missing }.map(JSON.string)
            keysWithout[missing] = try session.result(
                "keys.create", ["name": .string("without \(missing)"), "scopes": .array(scopes)])[
                    "key"]?.stringValue
        }
    }

    /// The params of `method` aimed at `target` (a person's name).
    func params(_ method: String, target: String) -> JSONObject {
        let person = JSON.string(people[target] ?? "")
        switch method {
        case "people.get": return ["id": person]
        case "people.update": return ["id": person, "name": .string(target)]
        case "people.create":
            return [
                "name": "New", "email": .string("new\(Int.random(in: 0..<1_000_000))@acme.example"), "role": "employee",
            ]
        case "people.list", "templates.list", "observations.list", "objectives.list", "keys.list", "notifications.list",
            "organization.get":
            return [:]
        case "templates.create": return ["name": "T", "items": [["area": "a", "label": "b", "is_mandatory": false]]]
        case "templates.update": return ["id": .string(template), "name": "Renamed"]
        case "templates.get": return ["id": .string(template)]
        case "observations.create", "objectives.create":
            return method == "observations.create"
                ? ["employee_id": person, "text": "Noted", "observed_on": "2026-04-02"]
                : ["employee_id": person, "title": "Goal"]
        case "observations.get": return ["id": .string(observations[target] ?? "")]
        case "objectives.get": return ["id": .string(objectives[target] ?? "")]
        case "organization.update": return ["settings": ["feedback_min_responses": 2]]
        case "keys.create": return ["name": "made in the matrix", "scopes": ["events:read"]]
        case "notifications.mark_read": return ["ids": []]
        default: return [:]
        }
    }

    /// Run `method` as `actor`, with the admin key or a key lacking `missingScope`; the outcome's `data.code`
    /// or "ok".
    func outcome(_ method: String, actor: String, target: String, missingScope: String?) throws -> String {
        let key = missingScope.map { keysWithout[$0]! } ?? session.apiKey
        _ = try session.result("initialize", ["api_key": .string(key)])
        var params = params(method, target: target)
        params["_meta"] = ["actor": .string(people[actor]!)]
        let response = session.call(method, .object(params))
        if response["result"] != nil { return "ok" }
        return response["error"]?["data"]?["code"]?.stringValue ?? "no answer: \(response)"
    }
}

/// One row of the matrix: a method, who runs it, at whom, and what must happen with a key that has every scope.
struct MatrixRow: CustomTestStringConvertible, Sendable {
    var method: String
    var actor: String
    var target: String
    var expected: String
    /// The scope the method needs; the same row is also run with a key lacking it.
    var scope: String?
    var testDescription: String { "\(method) by \(actor) on \(target) → \(expected)" }
}

/// The table. Targets: the actor themself, someone in their scope, someone out of it (as the roles allow).
let matrix: [MatrixRow] = {
    var rows: [MatrixRow] = []
    func add(_ method: String, _ scope: String?, _ cells: [(String, String, String)]) {
        for (actor, target, expected) in cells {
            rows.append(MatrixRow(method: method, actor: actor, target: target, expected: expected, scope: scope))
        }
    }
    let everyone = ["E", "L", "M", "H", "X", "A"]
    // The directory: everyone reads it; only admins (directory:write) change it.
    add("people.get", "directory:read", everyone.flatMap { [($0, $0, "ok"), ($0, "O", "ok")] })
    add("people.list", "directory:read", everyone.map { ($0, $0, "ok") })
    add(
        "people.update", "directory:write",
        everyone.map { ($0, "E", $0 == "A" ? "ok" : "permission_denied") } + [("A", "A", "ok")])
    add("people.create", "directory:write", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("templates.get", "directory:read", everyone.map { ($0, $0, "ok") })
    add("templates.list", "directory:read", everyone.map { ($0, $0, "ok") })
    add("templates.create", "directory:write", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("templates.update", "directory:write", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("organization.get", nil, everyone.map { ($0, $0, "ok") })
    add("organization.update", "directory:write", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("keys.list", "keys:manage", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("keys.create", "keys:manage", everyone.map { ($0, $0, $0 == "A" ? "ok" : "permission_denied") })
    add("notifications.list", nil, everyone.map { ($0, $0, "ok") })
    add("notifications.mark_read", nil, everyone.map { ($0, $0, "ok") })
    // Observations and objectives: written by the employee's managers, executives and admins, never about oneself;
    // someone out of the actor's scope is not found.
    for method in ["observations.create", "objectives.create"] {
        add(
            method, "update:performance",
            [
                ("E", "E", "permission_denied"), ("E", "O", "not_found"),
                ("L", "L", "permission_denied"), ("L", "E", "permission_denied"), ("L", "O", "not_found"),
                ("M", "M", "permission_denied"), ("M", "E", "ok"), ("M", "L", "ok"), ("M", "O", "not_found"),
                ("H", "H", "permission_denied"), ("H", "E", "ok"), ("H", "O", "ok"), ("H", "X", "not_found"),
                ("X", "X", "permission_denied"), ("X", "E", "ok"), ("X", "H", "ok"),
                ("A", "A", "permission_denied"), ("A", "E", "ok"), ("A", "X", "ok"),
            ])
    }
    // Reading them: the managers above the employee, executives and admins; objectives also the employee.
    add(
        "observations.get", "view:performance",
        [
            ("E", "E", "not_found"), ("E", "O", "not_found"), ("L", "E", "not_found"), ("L", "L", "not_found"),
            ("M", "E", "ok"), ("M", "M", "not_found"), ("M", "O", "not_found"), ("H", "O", "ok"),
            ("H", "H", "not_found"),
            ("H", "X", "not_found"), ("X", "E", "ok"), ("X", "H", "ok"), ("A", "E", "ok"), ("A", "X", "ok"),
        ])
    add(
        "objectives.get", "view:performance",
        [
            ("E", "E", "ok"), ("E", "O", "not_found"), ("L", "L", "ok"), ("L", "E", "not_found"), ("M", "E", "ok"),
            ("M", "M", "ok"), ("M", "O", "not_found"), ("H", "O", "ok"), ("H", "X", "not_found"), ("X", "E", "ok"),
            ("A", "X", "ok"),
        ])
    add("observations.list", "view:performance", everyone.map { ($0, $0, "ok") })
    add("objectives.list", "view:performance", everyone.map { ($0, $0, "ok") })
    return rows
}()

@Suite("the permission matrix", .serialized)
struct PermissionMatrixTests {
    nonisolated(unsafe) static var organization: MatrixOrganization?
    // nonisolated(unsafe): the suite is .serialized, so only one test touches the shared organization at a time.

    static func shared() throws -> MatrixOrganization {
        if let organization { return organization }
        let made = try MatrixOrganization()
        organization = made
        return made
    }

    @Test("with a key that has every scope", arguments: matrix)
    func fullKey(row: MatrixRow) throws {
        let outcome = try Self.shared().outcome(row.method, actor: row.actor, target: row.target, missingScope: nil)
        #expect(outcome == row.expected)
    }

    @Test(
        "with a key lacking the method's scope: what succeeded is denied, what was hidden stays hidden",
        arguments: matrix.filter { $0.scope != nil })
    func keyWithoutScope(row: MatrixRow) throws {
        let scope = try #require(row.scope)
        let expected = row.expected == "ok" ? "permission_denied" : row.expected
        let outcome = try Self.shared().outcome(row.method, actor: row.actor, target: row.target, missingScope: scope)
        #expect(outcome == expected)
    }
}
