import MeritJSON
import MeritTestSupport
import Testing

@Suite("summaries.list: sorts, filters, expansion and cursors")
struct SummaryListTests {
    /// Summaries of E, F and G over several periods, in several statuses.
    static func populated() throws -> (SummaryOrganization, [String: String]) {
        let fixture = try SummaryOrganization()
        var ids: [String: String] = [:]
        let periods = [("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-06-30"), ("2025-07-01", "2025-09-30")]
        for person in ["E", "F", "G"] {
            for (index, (start, end)) in periods.enumerated() {
                let manager = person == "G" ? "N" : "M"
                ids["\(person)\(index)"] = try fixture.summary(person, start: start, end: end, as: manager)
            }
        }
        let org = fixture.org
        _ = try org.result("summaries.share", ["id": .string(ids["E0"]!)], as: "M")
        _ = try org.result("summaries.submit", ["id": .string(ids["F1"]!)], as: "M")
        _ = try org.result("summaries.archive", ["id": .string(ids["G2"]!)], as: "N")
        return (fixture, ids)
    }

    static func ids(_ result: JSON) -> [String] {
        result["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    @Test("the default is -period_end without archived summaries; each sort orders as it says, ties by id")
    func sorts() throws {
        let (fixture, ids) = try Self.populated()
        let org = fixture.org
        let all = try org.result("summaries.list")
        #expect(Self.ids(all).count == 8)
        #expect(!Self.ids(all).contains(ids["G2"]!))
        let ends = all["data"]?.arrayValue?.map { $0["period_end"]?.stringValue ?? "" } ?? []
        #expect(ends == ends.sorted(by: >))
        let ascending = try org.result("summaries.list", ["sort": "period_end"])
        #expect((ascending["data"]?.arrayValue?.map { $0["period_end"]?.stringValue ?? "" } ?? []) == ends.sorted())
        let created = Self.ids(try org.result("summaries.list", ["sort": "created_at"]))
        #expect(created == created.sorted())
        #expect(Self.ids(try org.result("summaries.list", ["sort": "-created_at"])) == created.reversed())
        #expect(org.outcome("summaries.list", ["sort": "name"]) == "validation_error")
    }

    @Test("filters: employee, manager, one or several statuses, archived only when named, period bounds")
    func filters() throws {
        let (fixture, ids) = try Self.populated()
        let org = fixture.org
        func list(_ filter: JSON) throws -> Set<String> {
            Set(Self.ids(try org.result("summaries.list", ["filter": filter])))
        }
        #expect(try list(["employee_id": org.id("F")]) == [ids["F0"]!, ids["F1"]!, ids["F2"]!])
        #expect(try list(["manager_id": org.id("N")]) == [ids["G0"]!, ids["G1"]!])
        #expect(try list(["status": "shared"]) == [ids["E0"]!])
        #expect(try list(["status": ["shared", "pending_review"]]) == [ids["E0"]!, ids["F1"]!])
        #expect(try list(["status": "archived"]) == [ids["G2"]!])
        #expect(try list(["period_start": ["gte": "2025-04-01"]]).count == 5)
        #expect(try list(["period_end": ["lte": "2025-03-31"]]) == [ids["E0"]!, ids["F0"]!, ids["G0"]!])
        #expect(
            try list(["period_end": ["gte": "2025-06-30", "lte": "2025-06-30"], "employee_id": org.id("E")]) == [
                ids["E1"]!
            ])
        for bad: JSON in [
            ["status": "done"], ["period_end": ["gt": "2025-01-01"]], ["period_start": ["gte": "soon"]], ["team": "x"],
        ] {
            #expect(org.outcome("summaries.list", ["filter": bad]) == "validation_error", "\(bad.jsonText)")
        }
    }

    @Test("lists are scoped: a manager their people and what they wrote, an employee their shared summaries only")
    func scoped() throws {
        let (fixture, ids) = try Self.populated()
        let org = fixture.org
        #expect(Set(Self.ids(try org.result("summaries.list", as: "N"))) == [ids["G0"]!, ids["G1"]!])
        #expect(Self.ids(try org.result("summaries.list", as: "M")).count == 6)
        #expect(Self.ids(try org.result("summaries.list", as: "E")) == [ids["E0"]!])
        #expect(Self.ids(try org.result("summaries.list", as: "F")) == [])
        #expect(Self.ids(try org.result("summaries.list", ["filter": ["employee_id": org.id("G")]], as: "M")) == [])
        #expect(org.outcome("summaries.get", ["id": .string(ids["G0"]!)], as: "M") == "not_found")
    }

    @Test("expand adds the objects beside the ids it keeps, on list and get")
    func expand() throws {
        let fixture = try SummaryOrganization()
        let org = fixture.org
        let id = try #require(
            try org.result(
                "summaries.create",
                [
                    "employee_id": org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31",
                    "body": body("x"),
                    "included_observation_ids": [.string(fixture.observation)],
                    "included_objective_ids": [.string(fixture.objective)],
                ], as: "M")["id"])
        let expanded = try org.result(
            "summaries.get", ["id": id, "expand": ["employee", "manager", "observations", "objectives"]], as: "M")
        #expect(expanded["employee_id"] == org.id("E"))
        #expect(expanded["employee"]?["name"] == "Person E")
        #expect(expanded["manager"]?["id"] == org.id("M"))
        #expect(expanded["included_observation_ids"] == [.string(fixture.observation)])
        #expect(expanded["observations"]?[0]?["id"] == .string(fixture.observation))
        #expect(expanded["objectives"]?[0]?["title"] == "Ship search")
        let listed = try org.result("summaries.list", ["expand": ["manager"]], as: "M")
        #expect(listed["data"]?[0]?["manager"]?["name"] == "Person M")
        #expect(listed["data"]?[0]?["employee"] == nil)
        #expect(org.outcome("summaries.get", ["id": id, "expand": ["reviews"]]) == "validation_error")
        // The employee sees their shared summary, but not the observations (private to managers).
        _ = try org.result("summaries.share", ["id": id], as: "M")
        let own = try org.result("summaries.get", ["id": id, "expand": ["observations", "objectives"]], as: "E")
        #expect(own["observations"] == [])
        #expect(own["objectives"]?.arrayValue?.count == 1)
    }

    @Test("every list answers the same from a snapshot, whose indexes are what indexing afresh gives")
    func fromSnapshot() throws {
        let (fixture, _) = try Self.populated()
        let org = fixture.org
        let queries: [JSONObject] = [
            [:], ["sort": "period_end"], ["sort": "created_at"], ["sort": "-created_at"],
            ["filter": ["status": ["draft", "shared", "archived"]]], ["filter": ["period_end": ["gte": "2025-06-30"]]],
        ]
        func lists() throws -> [[String]] {
            try queries.map { Self.ids(try org.result("summaries.list", $0)) }
        }
        let before = try lists()
        #expect(before.allSatisfy { !$0.isEmpty })
        try org.session.server.compactForTesting()
        try org.session.crashAndRestart()
        #expect(org.session.server.stateIndexesAreConsistent)
        #expect(try lists() == before)
    }

    @Test("limit and cursor: pages of limit, a cursor of another query or made by hand is refused")
    func paging() throws {
        let (fixture, _) = try Self.populated()
        let org = fixture.org
        var seen: [String] = []
        var cursor: JSON = .null
        var pages = 0
        repeat {
            var params: JSONObject = ["limit": 3]
            if !cursor.isNull { params["cursor"] = cursor }
            let page = try org.result("summaries.list", params)
            seen += Self.ids(page)
            cursor = page["next_cursor"] ?? .null
            pages += 1
        } while !cursor.isNull && pages < 10
        #expect(pages == 3)
        #expect(seen == Self.ids(try org.result("summaries.list")))
        let first = try org.result("summaries.list", ["limit": 3])
        let other = try org.error(
            "summaries.list", ["limit": 3, "sort": "created_at", "cursor": try #require(first["next_cursor"])])
        #expect(other["data"]?["details"]?[0]?["field"] == "cursor")
        #expect(org.outcome("summaries.list", ["cursor": "s1.00"]) == "validation_error")
        #expect(org.outcome("summaries.list", ["limit": 0]) == "validation_error")
        #expect(org.outcome("summaries.list", ["limit": 101]) == "validation_error")
    }

    @Test(
        "a cursor walk sees every summary present at its start exactly once, whatever is created and changed meanwhile",
        arguments: ["-period_end", "period_end", "created_at", "-created_at"], [nil, "M"])
    func walkWhileChanging(sort: String, actor: String?) throws {
        var random = SplitMixRandom(seed: UInt64(sort.utf8.count) &* 7919)
        let fixture = try SummaryOrganization()
        let org = fixture.org
        // The admin key lists everyone's; M, a manager, those of the people below them (merged from their lists).
        let people = actor == nil ? ["E", "F", "L", "G"] : ["E", "F", "L"]
        func create() throws -> String {
            let person = people[Int(random.next() % UInt64(people.count))]
            let month = 1 + Int(random.next() % 12)
            let start = "2025-\(month < 10 ? "0" : "")\(month)-01"
            let end = "2025-\(month < 10 ? "0" : "")\(month)-\(month == 2 ? 28 : 30)"
            return try fixture.summary(person, start: start, end: end, as: person == "G" ? "N" : "M")
        }
        var present: [String] = []
        for _ in 0..<60 { present.append(try create()) }
        var seen: [String] = []
        var cursor: JSON = .null
        for _ in 0..<100 {
            var params: JSONObject = ["limit": 7, "sort": .string(sort)]
            if !cursor.isNull { params["cursor"] = cursor }
            let page = try org.result("summaries.list", params, as: actor)
            seen += SummaryListTests.ids(page)
            cursor = page["next_cursor"] ?? .null
            if cursor.isNull { break }
            // Between pages: create some, move the periods of others (backwards and forwards), submit some.
            for _ in 0..<3 {
                switch random.next() % 3 {
                case 0: present.append(try create())
                case 1:
                    let id = present[Int(random.next() % UInt64(present.count))]
                    let month = 1 + Int(random.next() % 12)
                    let end = "2025-\(month < 10 ? "0" : "")\(month)-28"
                    _ = org.call(
                        "summaries.update",
                        ["id": .string(id), "period_start": "2025-01-01", "period_end": .string(end)], as: "M")
                default:
                    let id = present[Int(random.next() % UInt64(present.count))]
                    _ = org.call("summaries.submit", ["id": .string(id)], as: "M")
                }
            }
        }
        #expect(cursor.isNull, "the walk ended")
        let counts = Dictionary(seen.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.values.allSatisfy { $0 == 1 }, "returned twice: \(counts.filter { $0.value > 1 }.keys)")
        let first60 = Set(present.prefix(60))
        #expect(first60.isSubset(of: Set(seen)), "skipped: \(first60.subtracting(seen))")
    }
}

/// A reproducible generator for the property tests.
struct SplitMixRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
