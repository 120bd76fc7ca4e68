import Dispatch
import MeritDomain
import MeritJSON
import MeritRPC
import MeritServer
import MeritTestSupport
import Testing

/// Groups sealed while earlier ones are still being made durable, as `merit serve` does under load: each group is
/// served on top of the changes of the groups before it, and a failed commit takes back exactly what rests on it.
@Suite("pipelined group commit")
struct PipelinedCommitTests {
    static func create(_ session: InProcessSession, _ name: String) -> String {
        session.requestLine(
            "people.create",
            ["name": .string(name), "email": .string("\(name)@acme.example"), "role": "employee"])
    }

    static func get(_ session: InProcessSession, _ id: JSON?) -> String {
        session.requestLine("people.get", ["id": id ?? .null])
    }

    static func code(_ response: JSON?) -> String? { response?["error"]?["data"]?["code"]?.stringValue }

    @Test("groups sealed before the ones ahead are durable see their changes, commit in order, and survive a crash")
    func inOrder() throws {
        let session = try InProcessSession()
        session.receive(Self.create(session, "Ada"))
        let first = session.seal()
        session.receive(Self.create(session, "Bob"))
        let second = session.seal()
        let ada = try #require(session.written(first).first?["result"]?["id"])
        // Served before Ada's commit was written, on top of it.
        session.receive(Self.get(session, ada))
        let third = session.seal()
        let bob = try #require(session.written(second).first?["result"]?["id"])
        #expect(session.written(third).first?["result"]?["name"] == "Ada")
        try session.crashAndRestart()
        #expect(session.call("people.get", ["id": ada])["result"]?["name"] == "Ada")
        #expect(session.call("people.get", ["id": bob])["result"]?["name"] == "Bob")
        #expect(session.server.stateIndexesAreConsistent)
    }

    @Test("a failed commit takes back its group and every group served on top of it, and keeps the ones before")
    func failureTakesBackLaterGroups() throws {
        let session = try InProcessSession()
        _ = session.send(lines: [session.requestLine("events.subscribe")])
        session.receive(Self.create(session, "Ada"))
        let first = session.seal()
        session.receive(Self.create(session, "Bob"))
        let second = session.seal()
        // A read of a change not yet durable, then a change of its own.
        session.receive(session.requestLine("people.list", ["limit": 100]))
        session.receive(Self.create(session, "Cy"))
        let third = session.seal()

        let firstOutput = session.written(first)
        let ada = try #require(firstOutput.first?["result"]?["id"])
        #expect(firstOutput.contains { $0["method"] == "event" })
        let failAt = session.fileSystem.synchronizeCount + 1
        session.fileSystem.failSynchronize = { count in count == failAt ? 5 : nil }
        let secondOutput = session.written(second)
        #expect(Self.code(secondOutput.first) == "storage_unavailable")
        // The read saw Bob, who is lost: it fails too, as does the change after it.
        let thirdOutput = session.written(third)
        #expect(thirdOutput.count == 2)
        #expect(thirdOutput.allSatisfy { Self.code($0) == "storage_unavailable" })
        // A subscriber never sees an event whose change was rolled back.
        #expect(!(secondOutput + thirdOutput).contains { $0["method"] == "event" })
        session.fileSystem.failSynchronize = nil

        // In memory exactly what is durable: Ada, and neither Bob nor Cy.
        let names = try session.result("people.list", ["limit": 100])["data"]?.arrayValue?.compactMap {
            $0["name"]?.stringValue
        }
        #expect(names?.contains("Ada") == true)
        #expect(names?.contains("Bob") == false)
        #expect(names?.contains("Cy") == false)
        #expect(session.server.stateIndexesAreConsistent)
        let later = session.call("people.create", ["name": "Di", "email": "di@acme.example", "role": "employee"])
        #expect(Self.code(later) == "storage_unavailable")
        try session.crashAndRestart()
        #expect(session.call("people.get", ["id": ada])["result"]?["name"] == "Ada")
        let after = try session.result("people.list", ["limit": 100])["data"]?.arrayValue?.compactMap {
            $0["name"]?.stringValue
        }
        #expect(after == names)
    }

    @Test("a failure learnt while a group is served fails that group whole; the next group reads what is durable")
    func failureDuringGroup() throws {
        let session = try InProcessSession()
        session.receive(Self.create(session, "Ada"))
        let first = session.seal()
        // Served on top of Ada's change, before its commit fails.
        session.receive(session.requestLine("people.list", ["limit": 100]))
        let failAt = session.fileSystem.synchronizeCount + 1
        session.fileSystem.failSynchronize = { count in count == failAt ? 5 : nil }
        #expect(Self.code(session.written(first).first) == "storage_unavailable")
        session.fileSystem.failSynchronize = nil
        // The same group goes on after the rollback: it fails whole, since its first answer saw Ada.
        session.receive(session.requestLine("people.list", ["limit": 100]))
        let second = session.written(session.seal())
        #expect(second.count == 2)
        #expect(second.allSatisfy { Self.code($0) == "storage_unavailable" })
        // A group begun after the rollback reads the durable state.
        let names = try session.result("people.list", ["limit": 100])["data"]?.arrayValue?.compactMap {
            $0["name"]?.stringValue
        }
        #expect(names?.contains("Ada") == false)
        #expect(session.server.stateIndexesAreConsistent)
    }

    /// Hands a sealed group to another thread, which writes it as the connection's response writer would.
    final class Handover: @unchecked Sendable {
        // @unchecked: the session is used by the other thread only while the test's thread waits in `seal()`.
        let session: InProcessSession
        let group: OutgoingGroup
        var output: [JSON] = []
        init(_ session: InProcessSession, _ group: OutgoingGroup) {
            self.session = session
            self.group = group
        }
    }

    @Test("a group that makes a snapshot due waits for the group in flight, and its failed commit is still undone")
    func snapshotDueWhileInFlight() throws {
        var configuration = ServerConfiguration(frozenClock: Timestamp(rfc3339: "2026-04-15T09:00:00Z"), seed: 1)
        // One create stays under it; a hundred more go over, so the second group's seal takes a snapshot.
        configuration.snapshotThresholdBytes = 8000
        let session = try InProcessSession(configuration: configuration)
        session.receive(Self.create(session, "Ada"))
        let handover = Handover(session, session.seal())
        for index in 0..<100 { session.receive(Self.create(session, "Bob\(index)")) }
        // Ada's group syncs once; the next sync, the second group's, fails.
        let failAt = session.fileSystem.synchronizeCount + 2
        session.fileSystem.failSynchronize = { count in count == failAt ? 5 : nil }
        let written = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
            handover.output = handover.session.written(handover.group)
            written.signal()
        }
        // Waits in the seal for Ada's group, then makes this one durable itself, and fails.
        let second = session.seal()
        written.wait()
        session.fileSystem.failSynchronize = nil
        #expect(handover.output.first?["result"]?["name"] == "Ada")
        let answers = session.written(second)
        #expect(answers.count == 100)
        #expect(answers.allSatisfy { Self.code($0) == "storage_unavailable" })
        let names = try session.result("people.list", ["limit": 100])["data"]?.arrayValue?.compactMap {
            $0["name"]?.stringValue
        }
        #expect(names?.contains("Ada") == true)
        #expect(names?.contains { $0.hasPrefix("Bob") } == false)
        #expect(session.server.stateIndexesAreConsistent)
        try session.crashAndRestart()
        let after = try session.result("people.list", ["limit": 100])["data"]?.arrayValue?.compactMap {
            $0["name"]?.stringValue
        }
        #expect(after == names)
    }
}
