import MeritTestSupport
import Testing

@testable import MeritLog

/// A workload of commits of mixed groups, with segment rolls and a snapshot in the middle, run against a simulated
/// file system that may fail; it records which records were acknowledged (their `commit()` returned).
struct Workload {
    static let options = LogOptions(maximumSegmentBytes: 2_000)
    /// Record sizes of each commit.
    static let groups: [[Int]] = (0..<24).map { index in
        let sizes = [0, 10, 100, 1_000, 3_000, 37]
        return (0...(index % 4)).map { sizes[(index * 7 + $0 * 3) % sizes.count] }
    }
    /// After which commit the snapshot is written.
    static let snapshotAfter = 11

    static func state(at sequence: UInt64) -> [UInt8] { Array("state after \(sequence)".utf8) }

    var acknowledged: [StoredRecord] = []
    var failure: LogError?

    /// Open the log and run the first `commits` groups, stopping at the first failure of the writer.
    mutating func run(_ fileSystem: SimulatedFileSystem, commits: Int = groups.count) {
        let recovered: Recovered
        do {
            recovered = try openLog(fileSystem, options: Self.options)
        } catch {
            failure = error
            return
        }
        defer { recovered.log.close() }
        run(recovered.log, groups: Self.groups.prefix(commits), snapshotAfter: Self.snapshotAfter)
    }

    /// Run `groups` on an open log.
    mutating func run(_ log: WriteAheadLog, groups: ArraySlice<[Int]>, snapshotAfter: Int? = nil) {
        for (index, group) in zip(groups.indices, groups) {
            var pending: [StoredRecord] = []
            do {
                for size in group {
                    pending.append(
                        try log.append(expectedRecord(log.lastSequence + UInt64(pending.count) + 1, size: size)))
                }
                try log.commit()
                acknowledged += pending
            } catch {
                failure = error
                Self.expectRefusal(log)
                return
            }
            if index == snapshotAfter {
                do {
                    try log.writeSnapshot(Self.state(at: log.lastSequence))
                } catch {
                    // A failed snapshot file leaves the writer usable; a failed roll stops it.
                    if log.failure != nil {
                        failure = error
                        Self.expectRefusal(log)
                        return
                    }
                }
            }
        }
    }

    /// After a failure every change is refused, naming the original error.
    static func expectRefusal(_ log: WriteAheadLog) {
        #expect(log.failure != nil)
        #expect(log.pendingCount == 0)
        for attempt in 0..<2 {
            do {
                if attempt == 0 {
                    try log.append(type: 0, payload: [1, 2, 3])
                } else {
                    try log.commit()
                }
                Issue.record("a failed log accepted a change")
            } catch {
                guard case .unavailable(let reason) = error else {
                    Issue.record("expected .unavailable, got \(error)")
                    continue
                }
                #expect(reason.contains("earlier write failed"))
            }
        }
    }

    /// Reopen and check that exactly the acknowledged records are there (through the snapshot and the replay).
    func expectRecovered(_ fileSystem: SimulatedFileSystem, _ context: Comment) {
        do {
            let recovered = try openLog(fileSystem, options: Self.options)
            defer { recovered.log.close() }
            let covered = Int(recovered.snapshot?.sequence ?? 0)
            #expect(covered <= acknowledged.count, context)
            if let snapshot = recovered.snapshot {
                #expect(snapshot.payload == Self.state(at: snapshot.sequence), context)
            }
            #expect(recovered.records == Array(acknowledged.dropFirst(covered)), context)
            #expect(recovered.report.lastSequence == UInt64(acknowledged.count), context)
        } catch {
            Issue.record("reopening failed: \(error); \(context)")
        }
    }
}

@Suite("Fault injection")
struct FaultInjectionTests {
    /// How many writes and synchronizations the whole workload makes when nothing fails.
    static func dryRun() -> (writes: Int, synchronizations: Int, records: Int) {
        let fileSystem = SimulatedFileSystem()
        var workload = Workload()
        workload.run(fileSystem)
        return (fileSystem.writeCount, fileSystem.synchronizeCount, workload.acknowledged.count)
    }

    @Test("The workload without faults acknowledges everything and survives a crash")
    func baseline() throws {
        let fileSystem = SimulatedFileSystem()
        var workload = Workload()
        workload.run(fileSystem)
        #expect(workload.failure == nil)
        #expect(workload.acknowledged.count == Workload.groups.joined().count)
        #expect(try segmentNames(fileSystem).count > 3)
        fileSystem.crash()
        workload.expectRecovered(fileSystem, "after the workload")
    }

    @Test(
        "A failed Nth write loses no acknowledged record and leaves none that failed",
        arguments: [ErrorNumber.inputOutput, .noSpace])
    func failedWrite(errorNumber: ErrorNumber) {
        let total = Self.dryRun().writes
        for failing in 1...(total + 1) {
            for crashes in [true, false] {
                let fileSystem = SimulatedFileSystem()
                fileSystem.failWrite = { $0 == failing ? .error(errorNumber.value) : nil }
                var workload = Workload()
                workload.run(fileSystem)
                let context = Comment(rawValue: "write \(failing) of \(total) failed, crash: \(crashes)")
                if failing > total { #expect(workload.failure == nil, context) }
                if case .io(let error)? = workload.failure {
                    #expect(error.errorNumber == errorNumber.value, context)
                }
                if crashes { fileSystem.crash() }
                fileSystem.failWrite = nil
                workload.expectRecovered(fileSystem, context)
            }
        }
    }

    @Test("A failed Nth synchronization loses no acknowledged record and leaves none that failed")
    func failedSynchronize() {
        let total = Self.dryRun().synchronizations
        for failing in 1...(total + 1) {
            for crashes in [true, false] {
                let fileSystem = SimulatedFileSystem()
                fileSystem.failSynchronize = { $0 == failing ? 5 : nil }
                var workload = Workload()
                workload.run(fileSystem)
                let context = Comment(rawValue: "synchronization \(failing) of \(total) failed, crash: \(crashes)")
                if crashes { fileSystem.crash() }
                fileSystem.failSynchronize = nil
                workload.expectRecovered(fileSystem, context)
            }
        }
    }

    @Test("Short writes are continued until everything is written", arguments: [1, 2, 3, 5])
    func shortWrites(every period: Int) {
        let fileSystem = SimulatedFileSystem()
        fileSystem.failWrite = { $0 % period == 0 ? .short(7) : nil }
        var workload = Workload()
        workload.run(fileSystem)
        #expect(workload.failure == nil)
        #expect(workload.acknowledged.count == Workload.groups.joined().count)
        fileSystem.crash()
        fileSystem.failWrite = nil
        workload.expectRecovered(fileSystem, "short writes every \(period)")
    }

    @Test("A short write followed by a failure cuts the partial group back")
    func shortThenFailure() {
        let total = Self.dryRun().writes
        for failing in 2...total {
            let fileSystem = SimulatedFileSystem()
            fileSystem.failWrite = { count in
                count == failing - 1 ? .short(5) : count == failing ? .error(28) : nil
            }
            var workload = Workload()
            workload.run(fileSystem)
            fileSystem.failWrite = nil
            // Without a crash the cut-back makes the file end at the last acknowledged record: no torn tail.
            workload.expectRecovered(fileSystem, "short write \(failing - 1), failure \(failing)")
        }
    }

    @Test("A write that makes no progress fails the commit instead of looping")
    func zeroLengthWrite() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        fileSystem.failWrite = { _ in .short(0) }
        try recovered.log.append(expectedRecord(1, size: 10))
        #expect(throws: LogError.self) { try recovered.log.commit() }
        #expect(recovered.log.failure != nil)
    }

    @Test("A crash after any number of commits, and again after more, keeps exactly the acknowledged records")
    func crashAtManyPoints() throws {
        for commits in 0...Workload.groups.count {
            let fileSystem = SimulatedFileSystem()
            var workload = Workload()
            workload.run(fileSystem, commits: commits)
            fileSystem.crash()
            workload.expectRecovered(fileSystem, "crash after \(commits) commits")

            // Continue on the recovered log, with an uncommitted record left behind, and crash again.
            let recovered = try openLog(fileSystem, options: Workload.options)
            workload.run(recovered.log, groups: Workload.groups.prefix(3))
            try recovered.log.append(expectedRecord(recovered.log.lastSequence + 1, size: 50))
            fileSystem.crash()
            workload.expectRecovered(fileSystem, "second crash after \(commits) commits")
        }
    }

    @Test("The failure is reported with the system's words, and the writer stays stopped")
    func failureMessage() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        fileSystem.failSynchronize = { _ in 28 }
        try recovered.log.append(expectedRecord(1, size: 10))
        do {
            try recovered.log.commit()
            Issue.record("the commit succeeded")
        } catch {
            #expect(error.description.contains("fdatasync \(segmentPath(1)): No space left on device"))
        }
        fileSystem.failSynchronize = nil
        #expect(throws: LogError.self) { try recovered.log.commit() }
        #expect(String(describing: recovered.log.failure).contains("No space left on device"))
    }
}
