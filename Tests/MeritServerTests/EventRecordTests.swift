import Foundation
import MeritDomain
import MeritJSON
import MeritLog
import MeritRPC
import MeritTestSupport
import Testing

@testable import MeritServer

/// The log's records: binary transactions (type 2) written now, JSON transactions (type 1) written before and
/// still read, and the errors that name what cannot be read.
@Suite("event records")
struct EventRecordTests {
    static let fixtures = Repository.root.appendingPathComponent("Tests/MeritServerTests/Fixtures")

    /// A copy of a checked-in data directory, served with `key`.
    static func serve(fixture: String, key: String, in copy: TemporaryDirectory) throws -> Server {
        let data = copy.path("data")
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(fixture).path, toPath: data)
        return try Server(configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: data)
    }

    static func result(_ server: Server, _ method: String, _ params: JSON? = nil) throws -> JSON {
        var dispatcher = Dispatcher(handler: server)
        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request["params"] = params }
        var line = JSONWriter()
        line.write(.object(request))
        var bytes = line.bytes
        bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        var writer = JSONWriter()
        dispatcher.flush(into: &writer)
        let response = try JSONParser.parse(Array(writer.bytes.dropLast()))
        return try #require(response["result"], "\(method) failed: \(response.jsonText)")
    }

    @Test("log-binary-2026-11-22 (binary records of every directory event) replays to exactly what it answered")
    func binaryFixture() throws {
        let copy = TemporaryDirectory()
        let server = try Self.serve(
            fixture: "log-binary-2026-11-22", key: "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p", in: copy)
        defer { server.close() }
        let expected = try String(
            contentsOf: Self.fixtures.appendingPathComponent("log-binary-2026-11-22.expected.jsonl"), encoding: .utf8)
        var checked = 0
        for line in expected.split(separator: "\n") {
            let entry = try JSONParser.parse(String(line))
            let method = try #require(entry["method"]?.stringValue)
            #expect(try Self.result(server, method) == entry["result"], "\(method)")
            checked += 1
        }
        #expect(checked == 6)
    }

    @Test("a directory written with JSON records takes binary ones after them, and replays both")
    func upgradedLog() throws {
        let copy = TemporaryDirectory()
        let key = "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p"
        var server = try Self.serve(fixture: "log-2026-11-22", key: key, in: copy)
        _ = try Self.result(server, "keys.create", ["name": "after the upgrade", "scopes": ["events:read"]])
        server.close()
        var types: [UInt16] = []
        let (log, _) = try WriteAheadLog.open(
            directory: copy.path("data"), snapshot: { _, _ in }, replay: { types.append($0.type) })
        log.close()
        #expect(types == [1, 1, 1, 1, 2])
        server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: copy.path("data"))
        defer { server.close() }
        let names = try Self.result(server, "keys.list")["data"]?.arrayValue?.map { $0["name"] }
        #expect(names == ["admin", #"warehose "ünïcode" ✓"#, "temp", "after the upgrade"])
    }

    /// A session whose log then receives a record of `type` with `payload`, written as the log frames records (so
    /// its checksum is right and only its contents are wrong); returns why the next start fails.
    static func startFailure(afterAppending payload: [UInt8], type: UInt16 = 2) throws -> String {
        let session = try InProcessSession()
        session.server.close()
        let (log, _) = try WriteAheadLog.open(
            directory: session.directory, fileSystem: session.fileSystem, snapshot: { _, _ in }, replay: { _ in })
        try log.append(type: type, payload: payload)
        try log.commit()
        log.close()
        do {
            try session.crashAndRestart()
        } catch {
            return "\(error)"
        }
        Issue.record("the start succeeded")
        return ""
    }

    @Test("a binary record that cannot be read stops the start with a message saying why")
    func unreadableRecords() throws {
        // One event: person.updated (code 6), then the schema version.
        let futureVersion = try Self.startFailure(afterAppending: [1, 6, 9] + [UInt8](repeating: 0, count: 16))
        #expect(futureVersion.contains("schema version 9"), "\(futureVersion)")
        #expect(futureVersion.contains("upgrade merit"), "\(futureVersion)")
        // An event with a well-formed envelope (id "0", no actor) of a type this build does not know.
        let unknownType = try Self.startFailure(
            afterAppending: [1, 99, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0])
        #expect(unknownType.contains("unknown event type code 99"), "\(unknownType)")
        // A person whose id claims 200 bytes that are not there.
        let truncated = try Self.startFailure(
            afterAppending: [1, 6, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0, 200, 1])
        #expect(truncated.contains("person: the data ends too soon"), "\(truncated)")
        // A person whose id is not one.
        let badID = try Self.startFailure(
            afterAppending: [1, 6, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0, 1, 0x30, 1, 0x41])
        #expect(badID.contains("person: expected an id of the form emp_<ULID> at byte"), "\(badID)")
        // A person whose name is the byte 0xFF, which is not UTF-8.
        let personID = [30] + Array("emp_01KXYZ0000000000000000000A".utf8)
        let notUTF8 = try Self.startFailure(
            afterAppending: [1, 6, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0] + personID + [1, 0xFF])
        #expect(notUTF8.contains("person: a string is not UTF-8"), "\(notUTF8)")
        let trailing = try Self.startFailure(afterAppending: [0, 7])
        #expect(trailing.contains("data follows the last event"), "\(trailing)")
        let unknownRecordType = try Self.startFailure(afterAppending: [0], type: 7)
        #expect(unknownRecordType.contains("unknown type 7"), "\(unknownRecordType)")
    }
}

/// The decoders never trust what they read: random and mutated payloads are refused with an error (or, by chance,
/// read as something valid), never a crash. A record's checksum makes such payloads unlikely; this makes them
/// harmless.
@Suite("event decoding is robust")
struct EventDecodingRobustnessTests {
    /// The payloads of real records: a person, a template and a key, each a transaction of its own.
    static func validPayloads() throws -> [[UInt8]] {
        let session = try InProcessSession()
        _ = try session.result("people.create", ["name": "Ann", "email": "ann@acme.example", "role": "manager"])
        _ = try session.result(
            "templates.create", ["name": "T", "items": [["area": "a", "label": "b", "is_mandatory": true]]])
        _ = try session.result("keys.create", ["name": "k", "scopes": ["events:read"]])
        session.server.close()
        var payloads: [[UInt8]] = []
        let (log, _) = try WriteAheadLog.open(
            directory: session.directory, fileSystem: session.fileSystem, snapshot: { _, _ in },
            replay: { payloads.append(Array($0.payload)) })
        log.close()
        return Array(payloads.dropFirst())
    }

    @Test("mutated and random payloads are errors, not crashes")
    func mutations() throws {
        let payloads = try Self.validPayloads()
        var random = Xorshift(state: 0x9E37_79B9_7F4A_7C15)
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = payloads[round % payloads.count]
            switch round % 4 {
            case 0: bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            case 1: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            case 2:
                for _ in 0..<8 {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            default: bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            if (try? bytes.withUnsafeBytes { try EventCodec.decodeBinaryTransaction($0) }) != nil { decoded += 1 }
            _ = try? bytes.withUnsafeBytes { try EventCodec.decodeTransaction($0) }
        }
        // Most mutations must be caught; some (a changed letter of a name) are still valid records.
        #expect(decoded < 20_000)
    }
}

/// A small deterministic generator, so that a failure reproduces.
struct Xorshift {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// Resources written straight to bytes must be exactly what writing their JSON tree gives.
@Suite("resources written directly")
struct DirectResourceWritingTests {
    @Test("a person written directly is byte for byte its JSON tree written, whatever its fields hold")
    func personBytes() {
        let manager = ID<Person>("emp_01KXYZ0000000000000000000A")!
        let names = [
            "Ada", "", "Zoë \"Z\" O'Neil\\", "line\nbreak\ttab\u{1}", "\u{2028}\u{2029}", "日本語の名前 🚀",
            String(repeating: "long name ", count: 200),
        ]
        var cases: [Person] = []
        for (index, name) in names.enumerated() {
            for role in Person.Role.allCases {
                cases.append(
                    Person(
                        id: ID(ULID(milliseconds: 1_790_000_000_000, randomHigh: 7, randomLow: UInt64(index))),
                        name: name, email: "\(name)@example.org", role: role,
                        managerID: index.isMultiple(of: 2) ? manager : nil,
                        squad: index.isMultiple(of: 3) ? nil : "squad \(name)",
                        reviewTemplateID: index.isMultiple(of: 2) ? nil : "tpl_\(index)", isAdmin: index % 4 == 1,
                        createdAt: Timestamp(milliseconds: Int64(index) * 86_399_999),
                        updatedAt: Timestamp(milliseconds: 253_402_300_799_999 - Int64(index))))
            }
        }
        // Far outside the writable years, the text form is longer than 24 bytes.
        var distant = cases[0]
        distant.createdAt = Timestamp(milliseconds: -62_167_219_200_001)
        distant.updatedAt = Timestamp(milliseconds: 253_402_300_800_000)
        cases.append(distant)
        for person in cases {
            var direct = JSONWriter()
            person.write(to: &direct)
            var tree = JSONWriter()
            tree.write(person.json)
            #expect(direct.bytes == tree.bytes, "\(person.name.debugDescription)")
        }
    }
}
