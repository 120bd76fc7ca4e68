import MeritDomain
import MeritJSON
import MeritTestSupport
import Testing

@testable import MeritServer

/// Replay applies changes on a second thread while the first decodes: the state must be exactly what applying them
/// in order on one thread gives, whatever the length, and a failure must stop it without hanging.
@Suite("replay pipeline")
struct ReplayPipelineTests {
    static let time = Timestamp(milliseconds: 1_776_243_600_000)

    /// `count` changes over 50 people: creations, then updates that rename them and move them between squads, so
    /// that most changes replace a person (handed back to be freed) and some move an index.
    static func changes(_ count: Int) -> [Change] {
        var generator = IDGenerator(seed: 3, stream: 0)
        let ids: [ID<Person>] = (0..<50).map { _ in generator.id(at: time) }
        return (0..<count).map { index in
            let person = Person(
                id: ids[index % 50], name: "Person \(index % 50), version \(index)",
                email: "person\(index % 50)@pipeline.example.org", role: index % 7 == 0 ? .lead : .employee,
                managerID: nil, squad: index % 3 == 0 ? "squad-\(index % 4)" : nil, reviewTemplateID: nil,
                isAdmin: false, createdAt: time, updatedAt: Timestamp(milliseconds: time.milliseconds + Int64(index)))
            return Change(index < 50 ? .personCreated : .personUpdated, person)
        }
    }

    @Test(
        "the state is what applying the changes in order gives, for lengths around the batch and the ring",
        arguments: [
            0, 1, 49, ReplayPipeline.batchSize - 1, ReplayPipeline.batchSize, ReplayPipeline.batchSize + 1,
            ReplayPipeline.batchSize * ReplayPipeline.depth, ReplayPipeline.batchSize * ReplayPipeline.depth + 7,
            20_000,
        ])
    func sameState(count: Int) {
        let changes = Self.changes(count)
        var expected = State()
        for (offset, change) in changes.enumerated() { expected.apply(change, sequence: Int64(offset + 1)) }
        let pipeline = ReplayPipeline()
        for (offset, change) in changes.enumerated() { pipeline.add(change, sequence: Int64(offset + 1)) }
        let state = pipeline.finish()
        #expect(state.people == expected.people)
        #expect(state.indexesAreConsistent)
        #expect(state.lastEventSequence == Int64(count))
    }

    @Test("a finished pipeline is freed where the producer lets go of it, not later on the worker")
    func freedByProducer() {
        for _ in 0..<20 {
            weak var released: ReplayPipeline?
            do {
                let pipeline = ReplayPipeline()
                released = pipeline
                for (offset, change) in Self.changes(ReplayPipeline.batchSize * 3).enumerated() {
                    pipeline.add(change, sequence: Int64(offset + 1))
                }
                #expect(pipeline.finish().people.count == 50)
            }
            #expect(released == nil)
        }
    }

    struct Stop: Error {}

    @Test("a replay that throws after starting the worker still stops it and frees the pipeline")
    func throwingReplay() {
        weak var released: ReplayPipeline?
        #expect(throws: Stop.self) {
            _ = try ReplayPipeline.run { pipeline throws(Stop) in
                released = pipeline
                for (offset, change) in Self.changes(ReplayPipeline.batchSize * 2 + 5).enumerated() {
                    pipeline.add(change, sequence: Int64(offset + 1))
                }
                throw Stop()
            }
        }
        // A worker left waiting would hold the pipeline.
        #expect(released == nil)
    }

    @Test("a pipeline started from a snapshot's state applies the changes after it")
    func fromSnapshot() {
        let changes = Self.changes(3000)
        var expected = State()
        for (offset, change) in changes.enumerated() { expected.apply(change, sequence: Int64(offset + 1)) }
        var snapshot = State()
        for (offset, change) in changes.prefix(1000).enumerated() {
            snapshot.apply(change, sequence: Int64(offset + 1))
        }
        let pipeline = ReplayPipeline()
        pipeline.state = snapshot
        for (offset, change) in changes.enumerated().dropFirst(1000) {
            pipeline.add(change, sequence: Int64(offset + 1))
        }
        let state = pipeline.finish()
        #expect(state.people == expected.people)
        #expect(state.lastEventSequence == 3000)
    }

    @Test("a restart replays thousands of changes through the pipeline to exactly what was answered before")
    func restart() throws {
        let session = try InProcessSession()
        var ids: [String] = []
        for index in 0..<40 {
            let person = try session.result(
                "people.create",
                ["name": .string("P \(index)"), "email": .string("p\(index)@acme.example"), "role": "employee"])
            ids.append(try #require(person["id"]?.stringValue))
        }
        // 3000 updates in groups of 100 (one commit each): well past the pipeline's ring of batches.
        for group in 0..<30 {
            let lines = (0..<100).map { offset in
                let index = group * 100 + offset
                return
                    #"{"jsonrpc":"2.0","id":\#(index),"method":"people.update","params":{"id":"\#(ids[index % 40])","#
                    + #""name":"P \#(index % 40) v\#(index)","squad":"s\#(index % 3)"}}"#
            }
            #expect(session.send(lines: lines).allSatisfy { $0["result"] != nil })
        }
        let before = try session.result("people.list", ["limit": 100])
        try session.crashAndRestart()
        #expect(try session.result("people.list", ["limit": 100]) == before)
        #expect(try session.result("people.list", ["limit": 100, "squad": "s1"])["data"]?.arrayValue?.count ?? 0 > 0)
    }

    @Test("a record that cannot be read after more than a batch of good ones stops the start, with the worker stopped")
    func failureAfterManyRecords() throws {
        let failure = try EventRecordTests.startFailure(
            afterAppending: [1, 99, 1] + [UInt8](repeating: 0, count: 32) + [0], type: 3,
            recordsBefore: ReplayPipeline.batchSize + 100)
        #expect(failure.contains("unknown event type code 99"), "\(failure)")
    }
}
