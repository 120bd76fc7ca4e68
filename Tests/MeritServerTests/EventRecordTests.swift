import Foundation
import MeritDomain
import MeritJSON
import MeritLog
import MeritRPC
import MeritTestSupport
import Testing

@testable import MeritServer

/// The log's records: binary transactions with binary ids (type 3) written now, binary transactions with text ids
/// (type 2) and JSON transactions (type 1) written before and still read, and the errors that name what cannot be
/// read.
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

    @Test(
        "log-binary-ids-2026-11-23 (the same events in records of type 3) replays to exactly what the type-2 log did",
        arguments: ["log-binary-2026-11-22", "log-binary-ids-2026-11-23"])
    func binaryFixtures(fixture: String) throws {
        let copy = TemporaryDirectory()
        let server = try Self.serve(fixture: fixture, key: "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p", in: copy)
        defer { server.close() }
        let expected = try String(
            contentsOf: Self.fixtures.appendingPathComponent("log-binary-2026-11-22.expected.jsonl"), encoding: .utf8)
        for line in expected.split(separator: "\n") {
            let entry = try JSONParser.parse(String(line))
            let method = try #require(entry["method"]?.stringValue)
            #expect(try Self.result(server, method) == entry["result"], "\(method)")
        }
    }

    @Test("snapshot-json-2026-12-05 (a snapshot of format 1, JSON, and a log after it) starts to the same answers")
    func jsonSnapshotFixture() throws {
        let copy = TemporaryDirectory()
        let server = try Self.serve(
            fixture: "snapshot-json-2026-12-05", key: "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p", in: copy)
        defer { server.close() }
        let expected = try String(
            contentsOf: Self.fixtures.appendingPathComponent("snapshot-json-2026-12-05.expected.jsonl"),
            encoding: .utf8)
        for line in expected.split(separator: "\n") {
            let entry = try JSONParser.parse(String(line))
            let method = try #require(entry["method"]?.stringValue)
            #expect(try Self.result(server, method) == entry["result"], "\(method)")
        }
        // The state came from the snapshot: the segment it covers is not in the fixture.
        let names = try FileManager.default.contentsOfDirectory(atPath: copy.path("data"))
        #expect(!names.contains("log-00000000000000000001.seg"))
        // A snapshot written now is of format 2, and starts to the same answers.
        try server.compactForTesting()
        server.close()
        let again = try Server(
            configuration: ServerConfiguration(environmentAPIKey: "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p"),
            dataDirectory: copy.path("data"))
        defer { again.close() }
        for line in expected.split(separator: "\n") {
            let entry = try JSONParser.parse(String(line))
            let method = try #require(entry["method"]?.stringValue)
            #expect(try Self.result(again, method) == entry["result"], "\(method) after a snapshot of format 2")
        }
    }

    @Test("summaries-tree-2026-12-05 (bodies stored as trees) answers byte for byte as the build that wrote it did")
    func summaryTreeFixture() throws {
        // The fixture holds a snapshot and the log after it, written by the build before bodies were kept as their
        // compact JSON: summaries in both, of schema version 1. A snapshot of this build must answer the same.
        let key = "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p"
        let copy = TemporaryDirectory()
        let expected = try String(
            contentsOf: Self.fixtures.appendingPathComponent("summaries-tree-2026-12-05.expected.jsonl"),
            encoding: .utf8)
        func check(_ server: Server, _ when: String) throws {
            for line in expected.split(separator: "\n") {
                let entry = try JSONParser.parse(String(line))
                let method = try #require(entry["method"]?.stringValue)
                let result = try Self.result(server, method, entry["params"])
                #expect(result.jsonText == entry["result"]?.jsonText, "\(method) \(when)")
            }
        }
        var server = try Self.serve(fixture: "summaries-tree-2026-12-05", key: key, in: copy)
        try check(server, "from the fixture")
        try server.compactForTesting()
        server.close()
        server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: copy.path("data"))
        try check(server, "from a snapshot of this build")
        // A change written now is read back after the earlier ones.
        let edited: JSON = [
            "type": "doc", "content": [["content": [["text": "Now", "type": "text"]], "type": "paragraph"]],
        ]
        let summary = try Self.result(
            server, "summaries.update", ["id": "sum_01M92PX0M09BTNEA9BF0XHNJBP", "body": edited])
        server.close()
        server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: copy.path("data"))
        defer { server.close() }
        let read = try Self.result(server, "summaries.get", ["id": "sum_01M92PX0M09BTNEA9BF0XHNJBP"])
        #expect(read.jsonText == summary.jsonText)
        #expect(read["body"]?.jsonText == edited.jsonText)
    }

    /// The records of a fixture's log.
    static func records(of fixture: String) throws -> [(type: UInt16, payload: [UInt8])] {
        let copy = TemporaryDirectory()
        let data = copy.path("data")
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent(fixture).path, toPath: data)
        return try records(ofDirectory: data)
    }

    /// The type-2 log's transactions, encoded as records of type 3: the same events, ids, times and actors.
    static func reencodedBinaryFixture() throws -> [[UInt8]] {
        try records(of: "log-binary-2026-11-22").map { record in
            #expect(record.type == EventCodec.textIDTransactionRecordType)
            let events = try record.payload.withUnsafeBytes {
                try EventCodec.decodeBinaryTransaction($0, binaryIDs: false)
            }
            let actor: Principal? = events[0].actorID.map { text in
                ID<Person>(text).map { Principal(keyID: ID(high: 0, low: 0), scopes: [], personID: $0) }
                    ?? Principal(keyID: ID(text)!, scopes: [], personID: nil)
            }
            var ids = events.map(\.id).makeIterator()
            let writer = EventCodec.encodeBinaryTransaction(
                events.map(\.change), firstSequence: events[0].sequence, createdAt: events[0].createdAt, actor: actor,
                newID: { ids.next()! })
            return writer.bytes
        }
    }

    @Test("records of type 3 hold exactly the events of type 2: every id, time, actor and field")
    func binaryIDsRoundTrip() throws {
        let old = try Self.records(of: "log-binary-2026-11-22")
        let new = try Self.records(of: "log-binary-ids-2026-11-23")
        #expect(new.map(\.type).allSatisfy { $0 == EventCodec.binaryTransactionRecordType })
        #expect(new.map(\.payload) == (try Self.reencodedBinaryFixture()))
        #expect(old.count == new.count)
        for (before, after) in zip(old, new) {
            let oldEvents = try before.payload.withUnsafeBytes {
                try EventCodec.decodeBinaryTransaction($0, binaryIDs: false)
            }
            let newEvents = try after.payload.withUnsafeBytes { try EventCodec.decodeBinaryTransaction($0) }
            #expect(oldEvents == newEvents)
        }
    }

    /// Writes `log-binary-ids-2026-11-23` from `log-binary-2026-11-22`; run with `MERIT_WRITE_FIXTURES=1`. The
    /// checked-in fixture must never change after that: it is what a log written on that day holds.
    @Test(
        "(maintenance) write the type-3 fixture",
        .enabled(if: ProcessInfo.processInfo.environment["MERIT_WRITE_FIXTURES"] != nil))
    func writeBinaryIDsFixture() throws {
        let target = Self.fixtures.appendingPathComponent("log-binary-ids-2026-11-23").path
        try? FileManager.default.removeItem(atPath: target)
        let (log, _) = try WriteAheadLog.open(directory: target, snapshot: { _, _ in }, replay: { _ in })
        for payload in try Self.reencodedBinaryFixture() {
            try log.append(type: EventCodec.binaryTransactionRecordType, payload: payload)
            try log.commit()
        }
        log.close()
        try FileManager.default.removeItem(atPath: target + "/LOCK")
    }

    @Test("a directory written with binary records of type 2 takes type 3 after them, and replays both")
    func upgradedBinaryLog() throws {
        let copy = TemporaryDirectory()
        let key = "mk_7jnhdj9t2e2cbgwas50s0y757tkb131p"
        var server = try Self.serve(fixture: "log-binary-2026-11-22", key: key, in: copy)
        let created = try Self.result(
            server, "people.create", ["name": "Nia New", "email": "nia@fixture.example", "role": "employee"])
        let before = try Self.result(server, "people.list")
        server.close()
        let types = try Self.records(ofDirectory: copy.path("data")).map(\.type)
        #expect(Set(types.dropLast()) == [2])
        #expect(types.last == 3)
        server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: copy.path("data"))
        defer { server.close() }
        #expect(try Self.result(server, "people.list") == before)
        #expect(before["data"]?.arrayValue?.contains(created) == true)
    }

    @Test("replay, which reads only what the state keeps, builds exactly the state that applying events does")
    func replayMatchesApply() throws {
        let session = try InProcessSession()
        var ids: [String] = []
        for index in 0..<6 {
            let person = try session.result(
                "people.create",
                [
                    "name": .string("Person \(index) with a long name"), "email": .string("p\(index)@long.example.org"),
                    "role": index == 0 ? "manager" : "employee", "squad": .string("squad-\(index % 2)-long-name"),
                ])
            ids.append(try #require(person["id"]?.stringValue))
        }
        let updates: [JSONObject] = [
            ["name": "Renamed only"], ["email": "NEW@long.example.org"], ["squad": "squad-0-long-name"],
            ["squad": .null], ["manager_id": .string(ids[0])], ["role": "lead", "name": "Person 5 with a long name"],
        ]
        for (index, update) in updates.enumerated() {
            var params = update
            params["id"] = .string(ids[index])
            _ = try session.result("people.update", .object(params))
        }
        session.server.close()
        var replayed = State()
        var applied = State()
        let (log, _) = try WriteAheadLog.open(
            directory: session.directory, fileSystem: session.fileSystem, snapshot: { _, _ in },
            replay: { record in
                try EventCodec.replayBinaryTransaction(record.payload) { replayed.apply($0, sequence: $1) }
                for event in try EventCodec.decodeBinaryTransaction(record.payload) { applied.apply(event) }
            })
        log.close()
        #expect(replayed.people == applied.people)
        #expect(replayed.people.count == 6)
        #expect(replayed.indexesAreConsistent)
        #expect(replayed.keys == applied.keys)
        #expect(replayed.lastEventSequence == applied.lastEventSequence)
        #expect(replayed.organization == applied.organization)
    }

    static func records(ofDirectory data: String) throws -> [(type: UInt16, payload: [UInt8])] {
        var records: [(type: UInt16, payload: [UInt8])] = []
        let (log, _) = try WriteAheadLog.open(
            directory: data, snapshot: { _, _ in }, replay: { records.append(($0.type, Array($0.payload))) })
        log.close()
        return records
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
        #expect(types == [1, 1, 1, 1, 3])
        server = try Server(
            configuration: ServerConfiguration(environmentAPIKey: key), dataDirectory: copy.path("data"))
        defer { server.close() }
        let names = try Self.result(server, "keys.list")["data"]?.arrayValue?.map { $0["name"] }
        #expect(names == ["admin", #"warehose "ünïcode" ✓"#, "temp", "after the upgrade"])
    }

    /// A session that makes `recordsBefore` people, whose log then receives a record of `type` with `payload`,
    /// written as the log frames records (so its checksum is right and only its contents are wrong); returns why
    /// the next start fails.
    static func startFailure(afterAppending payload: [UInt8], type: UInt16 = 2, recordsBefore: Int = 0) throws -> String
    {
        let session = try InProcessSession()
        for index in 0..<recordsBefore {
            _ = try session.result(
                "people.create",
                ["name": .string("P \(index)"), "email": .string("p\(index)@acme.example"), "role": "employee"])
        }
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
        #expect(truncated.contains("person.updated: the data ends too soon"), "\(truncated)")
        // A person whose id is not one.
        let badID = try Self.startFailure(
            afterAppending: [1, 6, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0, 1, 0x30, 1, 0x41])
        #expect(badID.contains("person.updated: expected an id of the form emp_<ULID> at byte"), "\(badID)")
        // A person whose name is the byte 0xFF, which is not UTF-8.
        let personID = [30] + Array("emp_01KXYZ0000000000000000000A".utf8)
        let notUTF8 = try Self.startFailure(
            afterAppending: [1, 6, 1] + [UInt8](repeating: 0, count: 16) + [1, 0x30, 0] + personID + [1, 0xFF])
        #expect(notUTF8.contains("person.updated: a string is not UTF-8"), "\(notUTF8)")
        // The same in records of type 3, whose ids are 16 bytes and whose actor is a tagged id.
        let header: [UInt8] = [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 7, count: 16)
        let unknownType3 = try Self.startFailure(afterAppending: [1, 99, 1] + header + [0], type: 3)
        #expect(unknownType3.contains("unknown event type code 99"), "\(unknownType3)")
        let badActor = try Self.startFailure(afterAppending: [1, 6, 1] + header + [3], type: 3)
        #expect(badActor.contains("event: unknown actor tag 3"), "\(badActor)")
        let truncated3 = try Self.startFailure(
            afterAppending: [1, 6, 1] + header + [1] + [UInt8](repeating: 9, count: 16) + [1, 2, 3], type: 3)
        #expect(truncated3.contains("person.updated: the data ends too soon"), "\(truncated3)")
        let notUTF8In3 = try Self.startFailure(
            afterAppending: [1, 6, 1] + header + [0] + [UInt8](repeating: 9, count: 16) + [1, 0xFF], type: 3)
        #expect(notUTF8In3.contains("person.updated: a string is not UTF-8"), "\(notUTF8In3)")
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
            _ = try? bytes.withUnsafeBytes { try EventCodec.decodeBinaryTransaction($0, binaryIDs: false) }
            var state = State()
            _ = try? bytes.withUnsafeBytes {
                try EventCodec.replayBinaryTransaction($0) { state.apply($0, sequence: $1) }
            }
            _ = try? bytes.withUnsafeBytes {
                try EventCodec.replayBinaryTransaction($0, binaryIDs: false) { state.apply($0, sequence: $1) }
            }
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
                        reviewTemplateID: index.isMultiple(of: 2)
                            ? nil : ID(ULID(milliseconds: 5, randomHigh: 0, randomLow: UInt64(index))),
                        isAdmin: index % 4 == 1,
                        createdAt: Timestamp(milliseconds: Int64(index) * 86_399_999),
                        updatedAt: Timestamp(milliseconds: 253_402_300_799_999 - Int64(index))))
            }
        }
        // Far outside the writable years, the text form is longer than 24 bytes.
        var distant = cases[0]
        distant.createdAt = Timestamp(milliseconds: -62_167_219_200_001)
        distant.updatedAt = Timestamp(milliseconds: 253_402_300_800_000)
        cases.append(distant)
        // The same instant twice (a new person), whose text is formatted once and copied, at every length.
        for index in cases.indices where index.isMultiple(of: 3) { cases[index].updatedAt = cases[index].createdAt }
        var distantNew = distant
        distantNew.updatedAt = distant.createdAt
        cases.append(distantNew)
        for person in cases {
            var direct = JSONWriter()
            person.write(to: &direct)
            var tree = JSONWriter()
            tree.write(person.json)
            #expect(direct.bytes == tree.bytes, "\(person.name.debugDescription)")
        }
    }
}
