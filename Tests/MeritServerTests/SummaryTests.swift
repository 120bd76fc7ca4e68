import MeritJSON
import MeritTestSupport
import Testing

/// A body of one paragraph.
func body(_ text: String) -> JSON {
    ["type": "doc", "content": [["type": "paragraph", "content": [["type": "text", "text": .string(text)]]]]]
}

/// `PerformanceOrganization` with an observation and an objective about E, for summaries.
final class SummaryOrganization {
    let org: PerformanceOrganization
    let observation: String
    let objective: String

    init(workflow: Bool = false) throws {
        org = try PerformanceOrganization()
        observation = try #require(
            try org.result(
                "observations.create",
                ["employee_id": org.id("E"), "text": "Led the review", "observed_on": "2026-03-01"])[
                    "id"]?.stringValue)
        objective = try #require(
            try org.result("objectives.create", ["employee_id": org.id("E"), "title": "Ship search"])["id"]?.stringValue
        )
        if workflow {
            _ = try org.result("organization.update", ["settings": ["summary_review_workflow": true]])
        }
    }

    /// A draft summary of `employee` by M, from `start` to `end`.
    func summary(
        _ employee: String = "E", start: String = "2026-01-01", end: String = "2026-03-31", as actor: String = "M"
    )
        throws -> String
    {
        try #require(
            try org.result(
                "summaries.create",
                [
                    "employee_id": org.id(employee), "period_start": .string(start), "period_end": .string(end),
                    "body": body("Draft"),
                ],
                as: actor)["id"]?.stringValue)
    }

    /// The summary's status as the admin key reads it.
    func status(_ id: String) throws -> JSON? { try org.result("summaries.get", ["id": .string(id)])["status"] }
}

@Suite("summaries: create, validation and the seed's error table")
struct SummaryCreationTests {
    @Test("create answers the draft in the seed's shape, the manager of record by default, the body exactly as sent")
    func create() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let sent: JSON = [
            "type": "doc",
            "content": [
                ["type": "heading", "attrs": ["level": 2], "content": [["type": "text", "text": "Strengths"]]],
                [
                    "type": "paragraph",
                    "content": [
                        [
                            "type": "text", "text": "Led Q1",
                            "marks": [["type": "bold"], ["type": "link", "attrs": ["href": "https://x.example"]]],
                        ]
                    ],
                ],
                ["type": "bullet_list", "content": [["type": "list_item", "content": [["type": "paragraph"]]]]],
                ["type": "paragraph", "content": []], ["type": "horizontal_rule"],
            ],
        ]
        let summary = try org.result(
            "summaries.create",
            [
                "employee_id": org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31", "body": sent,
                "included_observation_ids": [.string(fixture.observation)],
                "included_objective_ids": [.string(fixture.objective)],
            ], as: "M")
        #expect(
            summary.objectValue?.keys == [
                "id", "employee_id", "manager_id", "period_start", "period_end", "body", "status",
                "included_observation_ids", "included_objective_ids", "shared_at", "approved_at", "created_at",
                "updated_at",
            ])
        #expect(summary["status"] == "draft")
        #expect(summary["manager_id"] == org.id("M"))
        #expect(summary["body"] == sent)
        #expect(summary["body"]?.jsonText == sent.jsonText)
        #expect(summary["shared_at"] == .null && summary["approved_at"] == .null)
        #expect(summary["id"]?.stringValue?.hasPrefix("sum_") == true)
        let read = try org.result("summaries.get", ["id": try #require(summary["id"])])
        #expect(read == summary)
        // An integration may name the manager; without one, the employee's manager of record.
        let byKey = try org.result(
            "summaries.create",
            ["employee_id": org.id("G"), "period_start": "2026-01-01", "period_end": "2026-03-31", "body": body("x")])
        #expect(byKey["manager_id"] == org.id("N"))
        let named = try org.result(
            "summaries.create",
            [
                "employee_id": org.id("G"), "manager_id": org.id("H"), "period_start": "2026-01-01",
                "period_end": "2026-03-31", "body": body("x"),
            ])
        #expect(named["manager_id"] == org.id("H"))
    }

    @Test(
        "manager_id names someone who could write the summary (not the employee, an employee, a lead, or someone without the employee in scope): 422, nothing created",
        arguments: [("G", "G"), ("G", "S"), ("G", "L"), ("G", "M"), ("E", "N"), ("E", "H2")])
    func managerMustBeAnAuthor(employee: String, manager: String) throws {
        let org = try PerformanceOrganization()
        let error = try org.error(
            "summaries.create",
            [
                "employee_id": org.id(employee), "manager_id": org.id(manager), "period_start": "2026-01-01",
                "period_end": "2026-03-31", "body": body("x"),
            ])
        #expect(error["data"]?["code"] == "unprocessable")
        #expect(error["data"]?["details"]?[0]?["field"] == "manager_id")
        #expect(error["message"]?.stringValue?.hasPrefix("manager_id \(org.people[manager]!) is ") == true)
        #expect(try org.result("summaries.list")["data"] == [])
    }

    @Test(
        "every validation rule of the seed: 400 naming the field, and nothing created",
        arguments: [
            ("missing period_start", "period_start"), ("missing body", "body"), ("bad date", "period_end"),
            ("end before start", "period_end"), ("future start", "period_start"), ("future end", "period_end"),
            ("body not a doc", "body.type"), ("unknown node", "body.content[0].type"),
            ("deep bad mark", "body.content[1].content[0].marks[0].type"), ("unknown member", "body.content[0].style"),
            ("heading level", "body.content[0].attrs.level"), ("body too large", "body"),
            ("201 observations", "included_observation_ids"),
            ("malformed observation id", "included_observation_ids[0]"),
            ("unknown param", "status"),
        ])
    func invalid(situation: String, field: String) throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        var params: JSONObject = [
            "employee_id": org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31", "body": body("x"),
        ]
        switch situation {
        case "missing period_start": params["period_start"] = nil
        case "missing body": params["body"] = nil
        case "bad date": params["period_end"] = "2026-02-30"
        case "end before start": params["period_end"] = "2025-12-31"
        case "future start": params["period_start"] = "2026-04-16"
        case "future end": params["period_end"] = "2026-06-30"
        case "body not a doc": params["body"] = ["type": "paragraph"]
        case "unknown node": params["body"] = ["type": "doc", "content": [["type": "table"]]]
        case "deep bad mark":
            params["body"] = [
                "type": "doc",
                "content": [
                    ["type": "paragraph"],
                    [
                        "type": "paragraph",
                        "content": [["type": "text", "text": "x", "marks": [["type": "superscript"]]]],
                    ],
                ],
            ]
        case "unknown member": params["body"] = ["type": "doc", "content": [["type": "paragraph", "style": "bold"]]]
        case "heading level":
            params["body"] = ["type": "doc", "content": [["type": "heading", "attrs": ["level": 7]]]]
        case "body too large":
            let chunk = String(repeating: "x", count: 1000)
            let paragraphs = (0..<263).map { _ in
                JSON.object(["type": "paragraph", "content": [["type": "text", "text": .string(chunk)]]])
            }
            params["body"] = ["type": "doc", "content": .array(paragraphs)]
        case "201 observations":
            params["included_observation_ids"] = .array(Array(repeating: .string(fixture.observation), count: 201))
        case "malformed observation id": params["included_observation_ids"] = ["obs-1"]
        default: params["status"] = "shared"
        }
        let error = try org.error("summaries.create", params, as: "M")
        #expect(error["data"]?["status"] == 400)
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field), "\(error.jsonText.prefix(400))")
        #expect(try org.result("summaries.list")["data"] == [])
    }

    @Test("a body of exactly 262 144 bytes of compact JSON is accepted; one more is not")
    func sizeLimit() throws {
        let fixture = try SummaryOrganization()
        func sized(_ bytes: Int) -> JSON {
            let empty = body("").jsonText.utf8.count
            return body(String(repeating: "a", count: bytes - empty))
        }
        #expect(sized(262_144).jsonText.utf8.count == 262_144)
        var params: JSONObject = [
            "employee_id": fixture.org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31",
            "body": sized(262_144),
        ]
        #expect(fixture.org.outcome("summaries.create", params, as: "M") == "ok")
        params["body"] = sized(262_145)
        #expect(fixture.org.outcome("summaries.create", params, as: "M") == "validation_error")
    }

    @Test(
        "the seed's error table: 401, 403 without the scope, 404 outside the organization or scope, 422 for references",
        arguments: [
            ("unauthenticated", "authentication_required", 401),
            ("key without summaries:write", "permission_denied", 403),
            ("lead", "permission_denied", 403), ("out of scope", "not_found", 404),
            ("about oneself", "permission_denied", 403),
            ("no such employee", "unprocessable", 422), ("no such observation", "unprocessable", 422),
            ("no such objective", "unprocessable", 422), ("no such manager", "unprocessable", 422),
        ])
    func errorTable(situation: String, code: String, status: Int) throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        var params: JSONObject = [
            "employee_id": org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31", "body": body("x"),
        ]
        var actor: String? = "M"
        let nobody = "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"
        switch situation {
        case "unauthenticated": _ = org.session.call("initialize", ["api_key": "mk_not_a_key"])
        case "key without summaries:write":
            let key = try org.result("keys.create", ["name": "reader", "scopes": ["summaries:read", "act_as"]])["key"]
            _ = try org.session.result("initialize", ["api_key": try #require(key)])
        case "lead": actor = "L"
        case "out of scope": params["employee_id"] = org.id("G")
        case "about oneself": (params["employee_id"], actor) = (org.id("M"), "M")
        case "no such employee": (params["employee_id"], actor) = (.string(nobody), nil)
        case "no such observation": params["included_observation_ids"] = ["obs_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]
        case "no such objective":
            params["included_objective_ids"] = [.string(fixture.objective), "obj_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]
        default: params["manager_id"] = .string(nobody)
        }
        let response = org.call("summaries.create", params, as: actor)
        #expect(response["error"]?["data"]?["code"] == .string(code), "\(response.jsonText)")
        #expect(response["error"]?["data"]?["status"] == .int(Int64(status)))
        if code == "unprocessable" {
            let field = response["error"]?["data"]?["details"]?[0]?["field"]?.stringValue ?? ""
            #expect(
                ["employee_id", "manager_id", "included_observation_ids[0]", "included_objective_ids[1]"].contains(
                    field))
        }
        _ = try org.session.result("initialize", ["api_key": .string(org.session.apiKey)])
        #expect(try org.result("summaries.list")["data"] == [])
    }
}

@Suite("summaries: update and the lifecycle")
struct SummaryLifecycleTests {
    @Test("update changes the body, the period and the cited ids while draft or pending_review; never the people")
    func update() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let id = try fixture.summary()
        let updated = try org.result(
            "summaries.update",
            [
                "id": .string(id), "body": body("Better"), "period_end": "2026-03-30",
                "included_observation_ids": [.string(fixture.observation)],
            ], as: "M")
        #expect(updated["body"] == body("Better"))
        #expect(updated["period_end"] == "2026-03-30")
        #expect(updated["included_observation_ids"] == [.string(fixture.observation)])
        for fixed in ["employee_id", "manager_id"] {
            let error = try org.error("summaries.update", ["id": .string(id), .init(fixed): org.id("F")], as: "M")
            #expect(error["data"]?["code"] == "validation_error")
            #expect(error["data"]?["details"]?[0]?["field"] == .string(fixed))
        }
        let bad = try org.error("summaries.update", ["id": .string(id), "period_start": "2026-04-01"], as: "M")
        #expect(bad["data"]?["details"]?[0]?["field"] == "period_end")
        // A date in the future is a 400 before anything else is looked at: the same for someone who cannot see
        // the summary, and for a summary that no longer accepts updates.
        for actor in ["M", "N"] {
            let future = try org.error("summaries.update", ["id": .string(id), "period_end": "2026-04-16"], as: actor)
            #expect(future["data"]?["code"] == "validation_error")
            #expect(future["data"]?["details"]?[0]?["field"] == "period_end")
        }
        // An update cannot clear a member that cannot be null: null is refused, not read as absent.
        for member in ["body", "period_start", "period_end", "included_observation_ids"] {
            let null = try org.error("summaries.update", ["id": .string(id), .init(member): .null], as: "M")
            #expect(null["data"]?["code"] == "validation_error")
            #expect(null["data"]?["details"]?[0]?["field"] == .string(member))
            #expect(null["message"] == .string("\(member) cannot be null; leave it out to keep the current value."))
        }
        #expect(try org.result("summaries.get", ["id": .string(id)]) == updated)
        _ = try org.result("summaries.submit", ["id": .string(id)], as: "M")
        #expect(org.outcome("summaries.update", ["id": .string(id), "body": body("Still")], as: "M") == "ok")
    }

    /// The transition table of CONTRACT §7: for each action and starting status, whether it is allowed.
    static let table: [(action: String, workflow: Bool, allowed: [String])] = [
        ("submit", false, ["draft"]), ("submit", true, ["draft"]),
        ("approve", false, ["draft", "pending_review"]), ("approve", true, ["pending_review"]),
        ("share", false, ["draft", "approved"]), ("share", true, ["approved"]),
        ("archive", false, ["draft", "pending_review", "approved", "shared"]),
        ("archive", true, ["draft", "pending_review", "approved", "shared"]),
        ("update", false, ["draft", "pending_review"]), ("update", true, ["draft", "pending_review"]),
        ("feedback", false, ["shared"]), ("feedback", true, ["shared"]),
    ]

    static let cases: [(String, Bool, String)] = table.flatMap { row in
        ["draft", "pending_review", "approved", "shared", "archived"].map { (row.action, row.workflow, $0) }
    }

    /// A summary brought to `status` (the workflow switched on only afterwards, so every status is reachable);
    /// `afterSharing` archives a shared summary rather than a draft.
    static func summary(in status: String, workflow: Bool, afterSharing: Bool = false) throws -> (
        SummaryOrganization, String
    ) {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let id = try fixture.summary()
        let path: [String] =
            switch status {
            case "pending_review": ["submit"]
            case "approved": ["submit", "approve"]
            case "shared": ["submit", "approve", "share"]
            case "archived": afterSharing ? ["share", "archive"] : ["archive"]
            default: []
            }
        for action in path { _ = try org.result("summaries.\(action)", ["id": .string(id)], as: "M") }
        if workflow { _ = try org.result("organization.update", ["settings": ["summary_review_workflow": true]]) }
        #expect(try fixture.status(id) == .string(status))
        return (fixture, id)
    }

    @Test(
        "the whole transition table, allowed and refused (409), with and without the review workflow", arguments: cases)
    func transition(action: String, workflow: Bool, from: String) throws {
        // The employee sees their summary only once it has been shared: before, feedback is not_found to them.
        if action == "feedback" && from != "shared" && from != "archived" {
            let (fixture, id) = try Self.summary(in: from, workflow: workflow)
            #expect(
                fixture.org.outcome("summaries.feedback", ["id": .string(id), "kind": "acknowledgment"], as: "E")
                    == "not_found")
            return
        }
        let (fixture, id) = try Self.summary(in: from, workflow: workflow, afterSharing: action == "feedback")
        let org = fixture.org
        let allowed = try #require(Self.table.first { $0.action == action && $0.workflow == workflow }).allowed
            .contains(from)
        let before = try org.result("summaries.get", ["id": .string(id)])
        let response: JSON
        switch action {
        case "update": response = org.call("summaries.update", ["id": .string(id), "body": body("Edited")], as: "M")
        case "feedback":
            response = org.call("summaries.feedback", ["id": .string(id), "kind": "acknowledgment"], as: "E")
        default: response = org.call("summaries.\(action)", ["id": .string(id)], as: "M")
        }
        if allowed {
            #expect(response["result"] != nil, "\(response.jsonText)")
            let expected = [
                "submit": "pending_review", "approve": "approved", "share": "shared", "archive": "archived",
            ]
            if let status = expected[action] { #expect(try fixture.status(id) == .string(status)) }
        } else {
            #expect(response["error"]?["data"]?["code"] == "conflict", "\(response.jsonText)")
            #expect(response["error"]?["data"]?["status"] == 409)
            #expect(try org.result("summaries.get", ["id": .string(id)]) == before)
        }
    }

    @Test("approve sets approved_at, share sets shared_at and notifies the employee with the message")
    func timestamps() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let id = try fixture.summary()
        let approved = try org.result("summaries.approve", ["id": .string(id)], as: "M")
        #expect(approved["approved_at"] == "2026-04-15T09:00:00.000Z")
        #expect(approved["shared_at"] == .null)
        let long = try org.error(
            "summaries.share", ["id": .string(id), "message": .string(String(repeating: "x", count: 1001))], as: "M")
        #expect(long["data"]?["details"]?[0]?["field"] == "message")
        let control = try org.error("summaries.share", ["id": .string(id), "message": "Line one\u{07}two"], as: "M")
        #expect(control["data"]?["details"]?[0]?["field"] == "message")
        #expect(try fixture.status(id) == "approved")
        let shared = try org.result(
            "summaries.share", ["id": .string(id), "message": "Happy to chat tomorrow."], as: "M")
        #expect(shared["status"] == "shared")
        #expect(shared["shared_at"] == "2026-04-15T09:00:00.000Z")
        let notification = try #require(try org.result("notifications.list", as: "E")["data"]?[0])
        #expect(notification["kind"] == "summary_shared")
        #expect(notification["subject_id"] == .string(id))
        #expect(notification["message"]?.stringValue?.contains("Happy to chat tomorrow.") == true)
        // Locked once shared.
        #expect(org.outcome("summaries.update", ["id": .string(id), "body": body("x")], as: "M") == "conflict")
        // notify_employee false shares silently.
        let quiet = try fixture.summary("F")
        _ = try org.result("summaries.share", ["id": .string(quiet), "notify_employee": false], as: "M")
        #expect(try org.result("notifications.list", as: "F")["data"] == [])
    }

    @Test(
        "the employee reads their summary only once shared, and alone posts feedback; a clarification notifies the manager"
    )
    func employee() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let id = try fixture.summary()
        #expect(org.outcome("summaries.get", ["id": .string(id)], as: "E") == "not_found")
        #expect(try org.result("summaries.list", as: "E")["data"] == [])
        #expect(
            org.outcome("summaries.feedback", ["id": .string(id), "kind": "acknowledgment"], as: "E") == "not_found")
        _ = try org.result("summaries.share", ["id": .string(id)], as: "M")
        #expect(org.outcome("summaries.get", ["id": .string(id)], as: "E") == "ok")
        #expect(try org.result("summaries.list", as: "E")["data"]?.arrayValue?.count == 1)
        // Others may not post feedback, nor may the employee change it.
        #expect(
            org.outcome("summaries.feedback", ["id": .string(id), "kind": "acknowledgment"], as: "M")
                == "permission_denied")
        #expect(
            org.outcome("summaries.feedback", ["id": .string(id), "kind": "acknowledgment"], as: "F") == "not_found")
        #expect(org.outcome("summaries.archive", ["id": .string(id)], as: "E") == "permission_denied")
        let bad = try org.error("summaries.feedback", ["id": .string(id), "kind": "question"], as: "E")
        #expect(bad["data"]?["details"]?[0]?["field"] == "kind")
        let tooLong = try org.error(
            "summaries.feedback",
            ["id": .string(id), "kind": "acknowledgment", "comment": .string(String(repeating: "y", count: 2001))],
            as: "E")
        #expect(tooLong["data"]?["details"]?[0]?["field"] == "comment")
        let thanks = try org.result(
            "summaries.feedback", ["id": .string(id), "kind": "acknowledgment", "comment": "Thanks"], as: "E")
        #expect(thanks.objectValue?.keys == ["summary", "feedback"])
        #expect(thanks["feedback"]?.objectValue?.keys == ["id", "kind", "comment", "author_id", "created_at"])
        #expect(thanks["feedback"]?["author_id"] == org.id("E"))
        #expect(thanks["summary"]?["status"] == "shared")
        #expect(try org.result("notifications.list", as: "M")["data"] == [])
        let question = try org.result(
            "summaries.feedback",
            ["id": .string(id), "kind": "clarification_request", "comment": "What about goal 2?"], as: "E")
        #expect(question["feedback"]?["kind"] == "clarification_request")
        let notification = try #require(try org.result("notifications.list", as: "M")["data"]?[0])
        #expect(notification["kind"] == "summary_clarification_requested")
        #expect(notification["subject_id"] == .string(id))
        #expect(notification["message"]?.stringValue?.contains("What about goal 2?") == true)
    }
}
