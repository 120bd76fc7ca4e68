import Foundation
import MeritJSON
import MeritTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Durability as a user meets it: the real binary, killed, restarted, raced and damaged.
@Suite("storage through the binary")
struct StorageTests {
    static func keyCreate(_ id: Int, name: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"keys.create","params":{"name":"\#(name)","scopes":["events:read"]}}"#
    }

    static func keyNames(_ merit: SpawnedMerit) throws -> Set<String> {
        let response = try #require(merit.call("keys.list", .object([:]), id: "list"))
        let keys = try #require(response["result"]?["data"]?.arrayValue, "keys.list failed: \(response)")
        return Set(keys.compactMap { $0["name"]?.stringValue })
    }

    @Test("kill -9 at random moments never loses an acknowledged change nor shows a half-written one")
    func crashLoop() throws {
        let data = try TestDataDirectory()
        var generator = SystemRandomNumberGenerator()
        var sent: Set<String> = []
        var acknowledged: Set<String> = []
        for round in 0..<50 {
            let merit = try SpawnedMerit.serve(data, authenticated: true)
            let present = try Self.keyNames(merit)
            #expect(acknowledged.isSubset(of: present), "round \(round): acknowledged keys were lost")
            #expect(present.subtracting(["admin"]).isSubset(of: sent), "round \(round): a key nobody created appeared")
            // Pipeline writes, 64 in flight, and kill after a random number of acknowledgements.
            let killAfter = Int.random(in: 0..<150, using: &generator)
            var next = 0
            func send() {
                let name = "r\(round)-\(next)"
                sent.insert(name)
                merit.send(Self.keyCreate(next, name: name))
                next += 1
            }
            for _ in 0..<64 { send() }
            var received = 0
            while received < killAfter {
                guard let response = merit.nextMessage() else { break }
                let name = try #require(response["result"]?["name"]?.stringValue, "a write failed: \(response)")
                acknowledged.insert(name)
                received += 1
                send()
            }
            kill(merit.process.processIdentifier, SIGKILL)
            _ = merit.waitForExit(closingInput: false)
        }
        let merit = try SpawnedMerit.serve(data, authenticated: true)
        let present = try Self.keyNames(merit)
        #expect(acknowledged.isSubset(of: present))
        #expect(acknowledged.count > 100)
        let verify = try runMerit(["verify", "--data", data.path])
        #expect(merit.waitForExit() == 0)
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test("a second merit serve on the same directory exits at once, naming the holder's pid")
    func secondProcess() throws {
        let data = try TestDataDirectory()
        let first = try SpawnedMerit.serve(data)
        #expect(first.call("$/ping")?["result"] != nil)
        let second = try SpawnedMerit.serve(data)
        let status = second.waitForExit(closingInput: false, timeout: 10)
        #expect(status == 1)
        #expect(second.standardError.contains("pid \(first.process.processIdentifier)"), "\(second.standardError)")
        #expect(first.call("$/ping")?["result"] != nil)
        #expect(first.waitForExit() == 0)
    }

    @Test("two processes started together: exactly one serves", arguments: 0..<5)
    func race(round: Int) throws {
        let data = try TestDataDirectory()
        let one = try SpawnedMerit.serve(data, authenticated: true)
        let two = try SpawnedMerit.serve(data, authenticated: true)
        one.send(Self.keyCreate(1, name: "one"))
        two.send(Self.keyCreate(1, name: "two"))
        let answers = [one.nextMessage(timeout: 10), two.nextMessage(timeout: 10)]
        let served = answers.filter { $0?["result"] != nil }.count
        #expect(served == 1)
        let statuses = [one.waitForExit(), two.waitForExit()]
        #expect(statuses.sorted { ($0 ?? 99) < ($1 ?? 99) } == [0, 1])
        let check = try SpawnedMerit.serve(data, authenticated: true)
        #expect(try Self.keyNames(check).intersection(["one", "two"]).count == 1)
        #expect(check.waitForExit() == 0)
    }

    static func segments(_ data: TestDataDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasSuffix(".seg") }.sorted()
    }

    static func listing(_ path: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = path + "/" + name
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[name] = try Data(contentsOf: URL(fileURLWithPath: full))
            }
        }
        return result
    }

    @Test("verify reports a healthy directory and changes nothing")
    func verifyHealthy() throws {
        let data = try TestDataDirectory()
        let before = try Self.listing(data.path)
        let result = try runMerit(["verify", "--data", data.path])
        #expect(result.status == 0)
        #expect(result.output.contains("healthy"))
        #expect(try Self.listing(data.path) == before)
    }

    @Test("a torn tail is reported by verify, cut off at start with a copy kept, and nothing is lost")
    func tornTail() throws {
        let data = try TestDataDirectory()
        let segment = data.path + "/" + (try #require(try Self.segments(data).last))
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data([0x13, 0x37, 0x00, 0x00, 0x42]))
        handle.closeFile()
        let before = try Self.listing(data.path)
        let verify = try runMerit(["verify", "--data", data.path])
        #expect(verify.status == 0)
        #expect(verify.output.lowercased().contains("torn"), "\(verify.output)")
        #expect(try Self.listing(data.path) == before, "verify changed the directory")
        let merit = try SpawnedMerit.serve(data, authenticated: true)
        #expect(try Self.keyNames(merit) == ["admin"])
        #expect(merit.waitForExit() == 0)
        let aside = (try? FileManager.default.contentsOfDirectory(atPath: data.path + "/aside")) ?? []
        #expect(!aside.isEmpty, "no copy of the torn tail was kept")
        #expect(try runMerit(["verify", "--data", data.path]).status == 0)
    }

    @Test("damage before the tail stops the start naming file and offset; repair keeps the valid prefix")
    func damage() throws {
        let data = try TestDataDirectory()
        let writer = try SpawnedMerit.serve(data, authenticated: true)
        for index in 0..<5 {
            writer.send(Self.keyCreate(index, name: "k\(index)"))
            _ = writer.nextMessage()
        }
        #expect(writer.waitForExit() == 0)
        let name = try #require(try Self.segments(data).last)
        let path = data.path + "/" + name
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // Flip a byte in the middle of the records (the file ends in zeros laid down ahead of them): inside a record
        // that valid records follow.
        let recordsEnd = (bytes.lastIndex { $0 != 0 } ?? 0) + 1
        #expect(recordsEnd < bytes.count, "the segment has zeros laid down ahead of its records")
        let offset = recordsEnd / 2
        bytes[offset] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))

        let verify = try runMerit(["verify", "--data", data.path])
        #expect(verify.status == 1)
        #expect(verify.output.contains(name), "\(verify.output)")
        let serve = try runMerit(["serve", "--data", data.path])
        #expect(serve.status == 1)
        #expect(serve.error.contains(name) && serve.error.contains("offset"), "\(serve.error)")

        let repair = try runMerit(["repair", "--data", data.path])
        #expect(repair.status == 0, "\(repair.error)")
        #expect(try runMerit(["verify", "--data", data.path]).status == 0)
        let merit = try SpawnedMerit.serve(data, authenticated: true)
        let names = try Self.keyNames(merit)
        #expect(names.contains("admin"))
        #expect(names.count < 6)
        #expect(merit.waitForExit() == 0)
    }

    @Test("compact writes a snapshot; a restart after it sees everything")
    func compact() throws {
        let data = try TestDataDirectory()
        let writer = try SpawnedMerit.serve(data, authenticated: true)
        for index in 0..<20 {
            writer.send(Self.keyCreate(index, name: "c\(index)"))
        }
        for _ in 0..<20 { _ = writer.nextMessage() }
        #expect(writer.waitForExit() == 0)
        let result = try runMerit(["compact", "--data", data.path])
        #expect(result.status == 0, "\(result.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path)
        #expect(files.contains { $0.hasSuffix(".snap") })
        let merit = try SpawnedMerit.serve(data, authenticated: true)
        #expect(try Self.keyNames(merit).count == 21)
        #expect(merit.waitForExit() == 0)
    }

    @Test("the event feed through the binary: a watermark taken before merit compact continues exactly after it")
    func feedAcrossCompaction() throws {
        let data = try TestDataDirectory()
        func page(_ merit: SpawnedMerit, after: Int64) throws -> (types: [String], next: Int64) {
            let response = try #require(merit.call("events.list", ["after": .int(after), "limit": 100], id: "feed"))
            let events = try #require(response["result"]?["data"]?.arrayValue, "events.list failed: \(response)")
            let sequences = events.compactMap { $0["sequence"]?.intValue }
            #expect(sequences == Array((after + 1)..<(after + 1 + Int64(sequences.count))))
            return (events.compactMap { $0["type"]?.stringValue }, response["result"]?["next_after"]?.intValue ?? -1)
        }
        let first = try SpawnedMerit.serve(data, authenticated: true)
        for index in 0..<5 { first.send(Self.keyCreate(index, name: "before\(index)")) }
        for _ in 0..<5 { _ = first.nextMessage() }
        let before = try page(first, after: 0)
        #expect(before.types == ["organization.created", "key.created"] + Array(repeating: "key.created", count: 5))
        #expect(first.waitForExit() == 0)
        let compacted = try runMerit(["compact", "--data", data.path])
        #expect(compacted.status == 0, "\(compacted.error)")
        let second = try SpawnedMerit.serve(data, authenticated: true)
        for index in 5..<8 { second.send(Self.keyCreate(index, name: "after\(index)")) }
        for _ in 5..<8 { _ = second.nextMessage() }
        let after = try page(second, after: before.next)
        #expect(after.types == ["key.created", "key.created", "key.created"])
        #expect(after.next == before.next + 3)
        // And from the start, the whole history is still there.
        #expect(try page(second, after: 0).types.count == 10)
        #expect(second.waitForExit() == 0)
    }

    @Test("summaries through the binary: every list and every body answers the same after merit compact")
    func summariesAcrossCompaction() throws {
        let data = try TestDataDirectory()
        let first = try SpawnedMerit.serve(data, authenticated: true)
        func result(_ merit: SpawnedMerit, _ method: String, _ params: JSONObject) throws -> JSON {
            let response = try #require(merit.call(method, .object(params), id: "c"))
            return try #require(response["result"], "\(method) failed: \(response)")
        }
        let manager = try result(
            first, "people.create", ["name": "Mia", "email": "mia@example.org", "role": "manager"])["id"]
        var ids: [JSON] = []
        for employee in 0..<3 {
            let person = try result(
                first, "people.create",
                [
                    "name": .string("E\(employee)"), "email": .string("e\(employee)@example.org"),
                    "role": "employee", "manager_id": manager ?? .null,
                ])["id"]
            // Periods out of creation order, bodies of different lengths, and every status but the default.
            for week in [3, 1, 4, 2] {
                let end = "2026-0\(week + 1)-1\(employee)"
                let text = String(repeating: "Week \(week) of E\(employee). ", count: week * 5)
                let body: JSON = [
                    "type": "doc",
                    "content": [["type": "paragraph", "content": [["type": "text", "text": .string(text)]]]],
                ]
                let summary = try result(
                    first, "summaries.create",
                    [
                        "employee_id": person ?? .null, "period_start": .string("2026-0\(week)-01"),
                        "period_end": .string(end), "body": body,
                    ])
                ids.append(summary["id"] ?? .null)
                let moves = [[], ["summaries.submit"], ["summaries.submit", "summaries.approve", "summaries.share"]]
                for method in moves[(employee + week) % 3] {
                    _ = try result(first, method, ["id": summary["id"] ?? .null])
                }
                if week == 4 && employee == 1 {
                    _ = try result(first, "summaries.archive", ["id": summary["id"] ?? .null])
                }
            }
        }
        let queries: [JSONObject] = [
            [:], ["sort": "period_end"], ["sort": "-created_at"], ["filter": ["status": ["draft", "shared"]]],
            ["filter": ["status": ["archived"]]], ["filter": ["manager_id": manager ?? .null]],
            ["filter": ["period_end": ["gte": "2026-03-01"]]], ["limit": 2],
        ]
        func answers(_ merit: SpawnedMerit) throws -> [JSON] {
            try queries.map { try result(merit, "summaries.list", $0) }
                + ids.map { try result(merit, "summaries.get", ["id": $0]) }
        }
        let before = try answers(first)
        #expect(before[0]["data"]?.arrayValue?.count == 11)
        #expect(before[4]["data"]?.arrayValue?.count == 1)
        #expect(first.waitForExit() == 0)
        let compacted = try runMerit(["compact", "--data", data.path])
        #expect(compacted.status == 0, "\(compacted.error)")
        let second = try SpawnedMerit.serve(data, authenticated: true)
        #expect(try answers(second) == before)
        #expect(second.waitForExit() == 0)
    }

    @Test("init refuses a directory that already holds an organization")
    func initTwice() throws {
        let data = try TestDataDirectory()
        let again = try runMerit(["init", "--org", "Other", "--data", data.path])
        #expect(again.status == 1)
        #expect(again.error.contains("already holds the organization 'Acme'"), "\(again.error)")
    }

    @Test("serve refuses a directory without an organization, saying how to create one")
    func serveWithoutOrganization() throws {
        let empty = TemporaryDirectory()
        let result = try runMerit(["serve", "--data", empty.path("missing")])
        #expect(result.status == 1)
        #expect(result.error.contains("merit init --org NAME"))
    }
}
