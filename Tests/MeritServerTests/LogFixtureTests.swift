import Foundation
import MeritJSON
import MeritLog
import MeritRPC
import MeritServer
import MeritTestSupport
import Testing

/// A log written by an earlier version must replay forever: the fixture is a real data directory, checked in,
/// made on 2026-11-22 with `merit init --seed 7` and three changes (two keys created, one revoked).
@Suite("the checked-in log fixture replays")
struct LogFixtureTests {
    static let fixture = Repository.root.appendingPathComponent("Tests/MeritServerTests/Fixtures/log-2026-11-22")

    @Test("log-2026-11-22 replays to the state it was written with")
    func replays() throws {
        let copy = TemporaryDirectory()
        let data = copy.path("data")
        try FileManager.default.copyItem(atPath: Self.fixture.path, toPath: data)
        let server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p"),
            dataDirectory: data)
        defer { server.close() }
        #expect(server.organizationName == "Fixture Org")
        var dispatcher = Dispatcher(handler: server)
        var bytes = Array(#"{"jsonrpc":"2.0","id":1,"method":"keys.list"}"#.utf8)
        bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        var writer = JSONWriter()
        dispatcher.flush(into: &writer)
        let keys = try #require(try JSONParser.parse(writer.bytes.dropLast().map { $0 })["result"]?["data"]?.arrayValue)
        #expect(keys.map { $0["name"] } == ["admin", #"warehose "ünïcode" ✓"#, "temp"])
        #expect(keys[0]["id"] == "key_01KP85WTM0KT2C5MS6W02NQQQQ")
        #expect(keys[1]["scopes"] == ["events:read", "summaries:read"])
        #expect(keys[1]["revoked_at"] == .null)
        #expect(keys[2]["id"] == "key_01KP87KRE0HGTFF7HZDP6C65SC")
        #expect(keys[2]["created_at"] == "2026-04-15T09:30:00.000Z")
        #expect(keys[2]["revoked_at"] == "2026-04-15T10:00:00.000Z")
    }
}
