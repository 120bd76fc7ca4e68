import MeritJSON
import MeritTestSupport
import Testing

@Suite("the directory")
struct DirectoryTests {
    static func person(_ session: InProcessSession, _ name: String, role: String = "employee", manager: String? = nil)
        throws -> String
    {
        var params: JSONObject = [
            "name": .string(name), "email": .string("\(name)@acme.example"), "role": .string(role),
        ]
        if let manager { params["manager_id"] = .string(manager) }
        return try #require(try session.result("people.create", .object(params))["id"]?.stringValue)
    }

    @Test(
        "bad people.create input names the field and changes nothing",
        arguments: [
            (JSON.object(["email": "a@b.co", "role": "employee"]), "validation_error", "name"),
            (["name": "  ", "email": "a@b.co", "role": "employee"], "validation_error", "name"),
            (["name": 7, "email": "a@b.co", "role": "employee"], "validation_error", "name"),
            (["name": "Ada", "email": "not-an-email", "role": "employee"], "validation_error", "email"),
            (["name": "Ada", "email": "a@b", "role": "employee"], "validation_error", "email"),
            (["name": "Ada", "email": "a b@c.org", "role": "employee"], "validation_error", "email"),
            (["name": "Ada", "email": "a@b.co", "role": "boss"], "validation_error", "role"),
            (
                ["name": "Ada", "email": "a@b.co", "role": "employee", "is_admin": "yes"], "validation_error",
                "is_admin"
            ),
            (["name": "Ada", "email": "a@b.co", "role": "employee", "nickname": "A"], "validation_error", "nickname"),
            (
                ["name": "Ada", "email": "a@b.co", "role": "employee", "manager_id": "boss"], "validation_error",
                "manager_id"
            ),
            (
                ["name": "Ada", "email": "a@b.co", "role": "employee", "manager_id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"],
                "unprocessable", "manager_id"
            ),
            (
                [
                    "name": "Ada", "email": "a@b.co", "role": "employee",
                    "review_template_id": "tpl_01ARYZ6S41ZZZZZZZZZZZZZZZZ",
                ],
                "unprocessable", "review_template_id"
            ),
        ] as [(JSON, String, String)])
    func badCreate(params: JSON, code: String, field: String) throws {
        let session = try InProcessSession()
        let error = try #require(session.call("people.create", params)["error"])
        #expect(error["data"]?["code"] == .string(code))
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(error["message"]?.stringValue?.contains(field) == true)
        #expect(try session.result("people.list")["data"]?.arrayValue?.isEmpty == true)
    }

    @Test("a duplicate email is a conflict, whatever its case, and changes nothing")
    func duplicateEmail() throws {
        let session = try InProcessSession()
        _ = try Self.person(session, "ada")
        let error = session.call("people.create", ["name": "Other", "email": "ADA@acme.example", "role": "lead"])[
            "error"]
        #expect(error?["data"]?["code"] == "conflict")
        #expect(error?["message"]?.stringValue?.hasPrefix("email") == true)
        #expect(try session.result("people.list")["data"]?.arrayValue?.count == 1)
    }

    @Test("a manager chain cannot loop: itself, two people, three people")
    func cycles() throws {
        let session = try InProcessSession()
        let top = try Self.person(session, "top", role: "head")
        let middle = try Self.person(session, "middle", role: "manager", manager: top)
        let bottom = try Self.person(session, "bottom", manager: middle)
        for (id, manager) in [(top, top), (top, middle), (top, bottom), (middle, bottom)] {
            let error = session.call("people.update", ["id": .string(id), "manager_id": .string(manager)])["error"]
            #expect(error?["data"]?["code"] == "validation_error")
            #expect(error?["data"]?["details"]?[0]?["field"] == "manager_id")
        }
        #expect(try session.result("people.get", ["id": .string(top)])["manager_id"] == .null)
        #expect(try session.result("people.get", ["id": .string(bottom)])["manager_id"] == .string(middle))
        // Moving someone to another branch is fine, and so is clearing a manager.
        #expect(session.call("people.update", ["id": .string(bottom), "manager_id": .string(top)])["result"] != nil)
        #expect(
            try session.result("people.update", ["id": .string(middle), "manager_id": .null])["manager_id"] == .null)
    }

    @Test("people.list filters by role, squad and manager, and pages with a cursor")
    func list() throws {
        let session = try InProcessSession()
        let boss = try Self.person(session, "boss", role: "manager")
        for index in 0..<7 {
            _ = try session.result(
                "people.create",
                [
                    "name": .string("p\(index)"), "email": .string("p\(index)@acme.example"), "role": "employee",
                    "squad": .string(index % 2 == 0 ? "even" : "odd"), "manager_id": index < 3 ? .string(boss) : .null,
                ])
        }
        #expect(try session.result("people.list", ["role": "manager"])["data"]?.arrayValue?.count == 1)
        #expect(try session.result("people.list", ["squad": "even"])["data"]?.arrayValue?.count == 4)
        #expect(try session.result("people.list", ["manager_id": .string(boss)])["data"]?.arrayValue?.count == 3)
        var seen: [JSON] = []
        var cursor: JSON = .null
        repeat {
            var params: JSONObject = ["limit": 3]
            if !cursor.isNull { params["cursor"] = cursor }
            let page = try session.result("people.list", .object(params))
            seen += page["data"]?.arrayValue ?? []
            cursor = page["next_cursor"] ?? .null
        } while !cursor.isNull
        #expect(seen.count == 8)
        #expect(Set(seen.compactMap { $0["id"]?.stringValue }).count == 8)
        // Filters combined, paged two at a time: every match once, in id order.
        func all(_ filters: JSONObject) throws -> [String] {
            var ids: [String] = []
            var cursor: JSON = .null
            repeat {
                var params = filters
                params["limit"] = 2
                if !cursor.isNull { params["cursor"] = cursor }
                let page = try session.result("people.list", .object(params))
                ids += page["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                cursor = page["next_cursor"] ?? .null
            } while !cursor.isNull
            #expect(ids == ids.sorted(), "\(filters)")
            return ids
        }
        #expect(try all(["squad": "even", "role": "employee"]).count == 4)
        #expect(try all(["squad": "odd", "manager_id": .string(boss)]).count == 1)
        #expect(try all(["role": "employee"]).count == 7)
        #expect(try all([:]) == seen.compactMap { $0["id"]?.stringValue })
        #expect(session.call("people.list", ["limit": 0])["error"]?["data"]?["details"]?[0]?["field"] == "limit")
        #expect(session.call("people.list", ["cursor": "x"])["error"]?["data"]?["details"]?[0]?["field"] == "cursor")
    }

    @Test("templates: items get ids and default sort orders; an update keeps named items' ids")
    func templates() throws {
        let session = try InProcessSession()
        let created = try session.result(
            "templates.create",
            [
                "name": "Eng",
                "items": [
                    ["area": "performance", "label": "Delivery", "is_mandatory": true],
                    ["area": "growth", "label": "Learning", "is_mandatory": false, "sort_order": 9],
                ],
            ])
        let items = try #require(created["items"]?.arrayValue)
        #expect(items.map { $0["sort_order"] } == [0, 9])
        let keptID = try #require(items[0]["id"])
        let updated = try session.result(
            "templates.update",
            [
                "id": try #require(created["id"]),
                "items": [
                    ["id": keptID, "area": "performance", "label": "Delivery v2", "is_mandatory": true],
                    ["area": "craft", "label": "Code", "is_mandatory": false],
                ],
            ])
        #expect(updated["items"]?[0]?["id"] == keptID)
        #expect(updated["items"]?[1]?["id"] != items[1]["id"])
        // A template may have no items yet (its reviews then have no KPI rows, and do not pass).
        #expect(try session.result("templates.create", ["name": "Empty", "items": []])["items"] == [])
        for (params, field) in [
            (
                JSON.object(["name": "X", "items": [["area": "", "label": "L", "is_mandatory": true]]]), "items[0].area"
            ),
            (["name": "X", "items": [["area": "a", "label": "L"]]], "items[0].is_mandatory"),
            (
                ["name": "X", "items": [["area": "a", "label": "L", "is_mandatory": true, "weight": 2]]],
                "items[0].weight"
            ),
        ] as [(JSON, String)] {
            let error = session.call("templates.create", params)["error"]
            #expect(error?["data"]?["details"]?[0]?["field"] == .string(field), "\(params)")
        }
        let foreign = session.call(
            "templates.update",
            [
                "id": try #require(created["id"]),
                "items": [["id": "tpi_01ARYZ6S41ZZZZZZZZZZZZZZZZ", "area": "a", "label": "b", "is_mandatory": true]],
            ])
        #expect(foreign["error"]?["data"]?["details"]?[0]?["field"] == "items[0].id")
        #expect(try session.result("templates.list")["data"]?.arrayValue?.count == 2)
    }

    @Test("observations and objectives check their fields")
    func records() throws {
        let session = try InProcessSession()
        let employee = JSON.string(try Self.person(session, "e"))
        for (params, field) in [
            (JSON.object(["employee_id": employee, "text": "", "observed_on": "2026-04-01"]), "text"),
            (["employee_id": employee, "text": "ok", "observed_on": "2026-04-31"], "observed_on"),
            (["employee_id": employee, "text": "ok", "observed_on": "2027-01-01"], "observed_on"),
            (["employee_id": "nobody", "text": "ok", "observed_on": "2026-04-01"], "employee_id"),
        ] as [(JSON, String)] {
            #expect(
                session.call("observations.create", params)["error"]?["data"]?["details"]?[0]?["field"]
                    == .string(field))
        }
        let missing = session.call(
            "observations.create",
            ["employee_id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ", "text": "ok", "observed_on": "2026-04-01"])
        #expect(missing["error"]?["data"]?["code"] == "not_found")
        #expect(
            session.call("objectives.create", ["employee_id": employee, "title": "t", "status": "done"])["error"]?[
                "data"]?["details"]?[0]?["field"] == "status")
        let objective = try session.result(
            "objectives.create", ["employee_id": employee, "title": "Ship", "due_date": "2026-06-30"])
        #expect(objective["status"] == "not_started")
        #expect(objective["due_date"] == "2026-06-30")
        #expect(try session.result("observations.list")["data"]?.arrayValue?.isEmpty == true)
    }

    @Test("_meta.actor needs act_as, a well-formed id and a person of the organization")
    func actor() throws {
        let session = try InProcessSession()
        let person = JSON.string(try Self.person(session, "e"))
        #expect(
            session.call("organization.get", ["_meta": ["actor": "nobody"]])["error"]?["data"]?["details"]?[0]?["field"]
                == "_meta.actor")
        #expect(
            session.call("organization.get", ["_meta": ["actor": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]])["error"]?["data"]?[
                "code"] == "unprocessable")
        let key = try session.result("keys.create", ["name": "no act_as", "scopes": ["directory:read"]])
        _ = try session.result("initialize", ["api_key": try #require(key["key"])])
        #expect(
            session.call("people.list", ["_meta": ["actor": person]])["error"]?["data"]?["code"] == "permission_denied")
        #expect(session.call("people.list")["result"] != nil)
    }

    @Test("notifications need an acting person")
    func notifications() throws {
        let session = try InProcessSession()
        let person = JSON.string(try Self.person(session, "e"))
        #expect(session.call("notifications.list")["error"]?["data"]?["code"] == "permission_denied")
        #expect(try session.result("notifications.list", ["_meta": ["actor": person]])["data"] == [])
        let missing = session.call(
            "notifications.mark_read", ["ids": ["ntf_01ARYZ6S41ZZZZZZZZZZZZZZZZ"], "_meta": ["actor": person]])
        #expect(missing["error"]?["data"]?["code"] == "not_found")
        #expect(
            session.call("notifications.mark_read", ["ids": ["x"], "_meta": ["actor": person]])["error"]?["data"]?[
                "details"]?[0]?["field"] == "ids[0]")
    }

    @Test("organization.update changes settings, checks them, and records nothing when nothing changes")
    func organizationUpdate() throws {
        let session = try InProcessSession()
        let updated = try session.result(
            "organization.update", ["settings": ["feedback_min_responses": 3, "summary_review_workflow": true]])
        #expect(updated["settings"] == ["feedback_min_responses": 3, "summary_review_workflow": true])
        #expect(
            session.call("organization.update", ["settings": ["feedback_min_responses": 0]])["error"]?["data"]?[
                "details"]?[0]?["field"] == "settings.feedback_min_responses")
        #expect(
            session.call("organization.update", ["settings": ["colour": "red"]])["error"]?["data"]?["details"]?[0]?[
                "field"] == "settings.colour")
        #expect(try session.result("organization.get")["settings"]?["feedback_min_responses"] == 3)
    }

    @Test("everything survives a crash and restart, through replay and through a snapshot")
    func restart() throws {
        let session = try InProcessSession()
        let manager = try Self.person(session, "m", role: "manager")
        let employee = try Self.person(session, "e", manager: manager)
        let template = try session.result(
            "templates.create", ["name": "T", "items": [["area": "a", "label": "b", "is_mandatory": true]]])
        _ = try session.result(
            "people.update",
            ["id": .string(employee), "review_template_id": try #require(template["id"]), "squad": "core"])
        _ = try session.result(
            "observations.create",
            ["employee_id": .string(employee), "text": "Great demo", "observed_on": "2026-04-10"])
        _ = try session.result("objectives.create", ["employee_id": .string(employee), "title": "Ship"])
        _ = try session.result("organization.update", ["name": "Acme Renamed"])
        func snapshotOfState() throws -> [JSON] {
            try [
                "people.list", "templates.list", "observations.list", "objectives.list", "organization.get",
                "keys.list",
            ].map {
                try session.result($0)
            }
        }
        let before = try snapshotOfState()
        try session.crashAndRestart()
        #expect(try snapshotOfState() == before)
        #expect(try session.result("people.list", ["manager_id": .string(manager)])["data"]?.arrayValue?.count == 1)
        #expect(try session.result("people.list", ["squad": "core"])["data"]?.arrayValue?.count == 1)
        try session.server.compactForTesting()
        try session.crashAndRestart()
        let after = try snapshotOfState()
        for (old, new) in zip(before, after) where old != new {
            Issue.record("after a snapshot, \(new.jsonText) differs from \(old.jsonText)")
        }
    }
}
