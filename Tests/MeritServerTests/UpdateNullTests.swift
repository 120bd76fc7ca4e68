import MeritJSON
import MeritTestSupport
import Testing

/// `null` in an update clears what may be empty and is refused for everything else (Protocol/README.md, "`null`
/// in updates"): never silently read as "absent".
@Suite("null in updates")
struct UpdateNullTests {
    /// Each update method with a member it may not clear (`settings.x` is sent nested).
    static let members: [(method: String, member: String)] = [
        ("organization.update", "name"), ("organization.update", "settings"),
        ("organization.update", "settings.feedback_min_responses"), ("people.update", "name"),
        ("people.update", "email"), ("people.update", "role"), ("people.update", "is_admin"),
        ("templates.update", "name"), ("templates.update", "items"), ("performance.cycles.update", "name"),
        ("performance.cycles.update", "period_start"), ("performance.cycles.update", "status"),
        ("performance.reviews.update", "status"), ("performance.reviews.update", "kpi_ratings"),
        ("performance.reviews.update", "goals"),
    ]

    @Test(
        "null for a member that cannot be cleared is a validation_error naming it, and changes nothing",
        arguments: members)
    func refusedNull(method: String, member: String) throws {
        let org = try PerformanceOrganization()
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        let review = try org.review("E", in: cycle)
        var params: JSONObject
        let read: (String, JSONObject)
        switch method {
        case "organization.update": (params, read) = ([:], ("organization.get", [:]))
        case "people.update": (params, read) = (["id": org.id("E")], ("people.get", ["id": org.id("E")]))
        case "templates.update":
            (params, read) = (["id": .string(org.template)], ("templates.get", ["id": .string(org.template)]))
        case "performance.cycles.update":
            (params, read) = (["id": .string(cycle)], ("performance.cycles.get", ["id": .string(cycle)]))
        default:
            let id = try #require(review["review"]?["id"])
            (params, read) = (["id": id], ("performance.reviews.get", ["id": id]))
        }
        let before = try org.result(read.0, read.1)
        if member.hasPrefix("settings.") {
            params["settings"] = ["feedback_min_responses": .null]
        } else {
            params[member] = .null
        }
        let error = try org.error(method, params)
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(member))
        #expect(error["message"] == .string("\(member) cannot be null; leave it out to keep the current value."))
        #expect(try org.result(read.0, read.1) == before)
    }

    @Test("null clears what may be empty: a person's manager and squad, a cycle's due date, a review's text")
    func clears() throws {
        let org = try PerformanceOrganization()
        let person = try org.result("people.update", ["id": org.id("E"), "manager_id": .null, "squad": .null])
        #expect(person["manager_id"] == .null)
        #expect(person["squad"] == .null)
        let cycle = try org.cycle("Q1", start: "2026-01-01", end: "2026-03-31")
        _ = try org.result("performance.cycles.update", ["id": .string(cycle), "due_date": "2026-04-30"])
        let cleared = try org.result("performance.cycles.update", ["id": .string(cycle), "due_date": .null])
        #expect(cleared["due_date"] == .null)
        let review = try org.review("F", in: cycle)
        let id = try #require(review["review"]?["id"])
        _ = try org.result("performance.reviews.update", ["id": id, "strengths": "Calm"])
        let text = try org.result("performance.reviews.update", ["id": id, "strengths": .null])
        #expect(text["review"]?["strengths"] == .null)
    }
}
