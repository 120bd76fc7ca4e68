import MeritJSON
import MeritTestSupport
import Testing

/// A member named twice is refused, never "last one wins": a proxy that checked the first value and merit that used
/// the second must never disagree about what was asked.
@Suite("repeated member names")
struct RepeatedMemberTests {
    @Test(
        "a repeated member of the request object is -32600, addressed to the id when it is not the id itself",
        arguments: [
            (#"{"jsonrpc":"2.0","id":1,"id":2,"method":"$/ping"}"#, JSON.null, "id"),
            (#"{"jsonrpc":"2.0","id":7,"method":"$/ping","method":"people.create"}"#, 7, "method"),
            (#"{"jsonrpc":"2.0","id":"a","method":"$/ping","params":{},"params":{"x":1}}"#, "a", "params"),
            (#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":3,"method":"$/ping"}"#, 3, "jsonrpc"),
            (#"{"jsonrpc":"2.0","id":4,"method":"$/ping","extra":1,"extra":2}"#, 4, "extra"),
        ] as [(String, JSON, String)])
    func requestObject(line: String, id: JSON, member: String) throws {
        let session = try InProcessSession()
        let response = try #require(session.send(lines: [line]).first)
        #expect(response["id"] == id)
        #expect(response["error"]?["code"] == -32600)
        #expect(response["error"]?["data"]?["code"] == "invalid_request")
        #expect(response["error"]?["message"]?.stringValue?.contains("\"\(member)\" twice") == true)
    }

    @Test(
        "a repeated member anywhere inside params is a validation_error naming it, and changes nothing",
        arguments: [
            (
                #"{"jsonrpc":"2.0","id":1,"method":"people.create","params":{"name":"Ada","email":"a@b.co","#
                    + #""role":"employee","name":"Eve"}}"#, "name"
            ),
            (
                #"{"jsonrpc":"2.0","id":1,"method":"templates.create","params":{"name":"T","items":[{"area":"a","#
                    + #""label":"l","is_mandatory":true},{"area":"a","label":"l","label":"m","is_mandatory":true}]}}"#,
                "items[1].label"
            ),
            (
                #"{"jsonrpc":"2.0","id":1,"method":"organization.update","params":{"settings":"#
                    + #"{"feedback_min_responses":2,"feedback_min_responses":9}}}"#,
                "settings.feedback_min_responses"
            ),
            (
                #"{"jsonrpc":"2.0","id":1,"method":"people.create","params":{"name":"Ada","email":"a@b.co","#
                    + #""role":"employee","_meta":{"actor":"emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ","#
                    + #""actor":"emp_01ARYZ6S41ZZZZZZZZZZZZZZZY"}}}"#,
                "_meta.actor"
            ),
        ])
    func params(line: String, field: String) throws {
        let session = try InProcessSession()
        let before = try session.result("organization.get")
        let response = try #require(session.send(lines: [line]).first)
        let error = try #require(response["error"], "\(response)")
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(error["message"]?.stringValue?.hasPrefix(field + " appears more than once") == true)
        #expect(try session.result("people.list")["data"] == [])
        #expect(try session.result("templates.list")["data"] == [])
        #expect(try session.result("organization.get") == before)
    }

    @Test("authentication still comes first, and the same member in different objects is fine")
    func order() throws {
        let unauthenticated = try InProcessSession(authenticated: false)
        let line = #"{"jsonrpc":"2.0","id":1,"method":"people.list","params":{"role":"lead","role":"head"}}"#
        #expect(unauthenticated.send(lines: [line]).first?["error"]?["data"]?["code"] == "authentication_required")
        let session = try InProcessSession()
        let created = try session.result(
            "templates.create",
            [
                "name": "T",
                "items": [
                    ["area": "a", "label": "l", "is_mandatory": true],
                    ["area": "a", "label": "m", "is_mandatory": false],
                ],
            ])
        #expect(created["items"]?.arrayValue?.count == 2)
    }
}
