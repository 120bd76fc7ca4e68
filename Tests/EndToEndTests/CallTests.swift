import Foundation
import MeritJSON
import MeritTestSupport
import Testing

@Suite("merit call")
struct CallTests {
    @Test("one request from the shell: the result as JSON on stdout, the change durable")
    func success() throws {
        let data = try TestDataDirectory()
        let environment = ["MERIT_API_KEY": data.apiKey]
        let created = try runMerit(
            [
                "call", "people.create", #"{"name":"Ada","email":"ada@example.org","role":"manager"}"#, "--data",
                data.path,
            ],
            environment: environment)
        #expect(created.status == 0, "\(created.error)")
        let person = try JSONParser.parse(created.output)
        #expect(person["name"] == "Ada")
        #expect(created.error.isEmpty)
        let listed = try runMerit(["call", "people.list", "--data", data.path, "--pretty"], environment: environment)
        #expect(listed.status == 0)
        #expect(listed.output.contains("\n  \"data\": [\n"))
        #expect(try JSONParser.parse(listed.output)["data"]?[0]?["id"] == person["id"])
        // No params is the same as {}.
        #expect(try runMerit(["call", "$/ping", "--data", data.path]).output == "{}\n")
    }

    @Test(
        "errors go to stderr with an exit status for their kind",
        arguments: [
            (["people.create", #"{"name":"Ada","email":"not-an-email","role":"manager"}"#], true, Int32(65), "email"),
            (["people.get", #"{"id":"emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"}"#], true, 66, "not_found"),
            (["people.lst"], true, 66, "method_not_found"),
            (["people.list"], false, 77, "MERIT_API_KEY"),
            (["keys.revoke", #"{"id":"key_01ARYZ6S41ZZZZZZZZZZZZZZZZ"}"#], true, 66, "not_found"),
            (["people.list", "[1]"], true, 64, "PARAMS-JSON must be a JSON object"),
            ([], true, 64, "METHOD is required"),
            (["people.list", "{}", "extra"], true, 64, "unexpected argument 'extra'"),
        ] as [([String], Bool, Int32, String)])
    func failures(arguments: [String], withKey: Bool, status: Int32, message: String) throws {
        let data = try TestDataDirectory()
        let result = try runMerit(
            ["call"] + arguments + ["--data", data.path], environment: withKey ? ["MERIT_API_KEY": data.apiKey] : [:])
        #expect(result.status == status, "\(result.error)")
        #expect(result.output.isEmpty)
        #expect(result.error.contains(message), "\(result.error)")
    }

    @Test("a directory that holds nothing is refused with status 1")
    func missing() throws {
        let directory = TemporaryDirectory()
        let result = try runMerit(["call", "people.list", "--data", directory.path("nothing")])
        #expect(result.status == 1)
        #expect(result.error.contains("is not a data directory"))
    }
}
