import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("Snapshots")
struct SnapshotTests {
    /// The snapshot payload a test writes for the state after `sequence`.
    static func state(at sequence: UInt64) -> [UInt8] {
        Array("state after \(sequence)".utf8)
    }

    @Test("A snapshot is loaded and only the records after it are replayed")
    func loadsSnapshotAndTail() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        _ = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 10))
        #expect(recovered.log.bytesSinceSnapshot == 10 * 50)
        try recovered.log.writeSnapshot(Self.state(at: 10))
        #expect(recovered.log.bytesSinceSnapshot == 0)
        let tail = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 5))
        #expect(recovered.log.bytesSinceSnapshot == 5 * 50)
        recovered.log.close()

        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.snapshot?.sequence == 10)
        #expect(reopened.snapshot?.payload == Self.state(at: 10))
        #expect(reopened.records == tail)
        #expect(reopened.report.snapshotSequence == 10)
        #expect(reopened.report.replayedRecords == 5)
        #expect(reopened.report.lastSequence == 15)
        #expect(reopened.log.bytesSinceSnapshot == 5 * 50)
    }

    @Test("A snapshot with no record after it reopens at its sequence")
    func snapshotAtEnd() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        _ = try recovered.log.commitRecords(sizes: [5, 5, 5])
        try recovered.log.writeSnapshot(Self.state(at: 3))
        // A second snapshot with nothing new neither rolls nor breaks anything.
        try recovered.log.writeSnapshot(Self.state(at: 3))
        recovered.log.close()
        let reopened = try openLog(fileSystem)
        #expect(reopened.records.isEmpty)
        #expect(reopened.report.lastSequence == 3)
        let next = try reopened.log.commitRecords(sizes: [5])
        #expect(next.map(\.sequence) == [4])
        reopened.log.close()
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.records == next)
    }

    @Test("Segments wholly before the snapshot are not read")
    func coveredSegmentsAreNotRead() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        _ = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 10))
        try recovered.log.writeSnapshot(Self.state(at: 10))
        let tail = try recovered.log.commitRecords(sizes: [30])
        recovered.log.close()
        #expect(try segmentNames(fileSystem).count == 2, "a single snapshot lets no segment go")
        // Damage in the covered segment is invisible to a start (verification reports it).
        fileSystem.corrupt(segmentPath(1), at: 40, xor: 0xFF)
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.records == tail)
    }

    @Test("An unreadable newest snapshot falls back to the one before it and still recovers everything")
    func fallsBackPastCorruptSnapshot() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        let first = try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 10))
        try recovered.log.writeSnapshot(Self.state(at: 10))
        let second = try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 10))
        try recovered.log.writeSnapshot(Self.state(at: 20))
        let third = try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 5))
        recovered.log.close()
        #expect(first.count == 10)

        fileSystem.corrupt(snapshotPath(20), at: 40, xor: 0x01)
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.snapshot?.sequence == 10)
        #expect(reopened.snapshot?.payload == Self.state(at: 10))
        #expect(reopened.report.skippedSnapshots == [snapshotPath(20)])
        #expect(reopened.records == second + third)
        #expect(reopened.report.lastSequence == 25)
    }

    @Test("By default a snapshot deletes old snapshots but keeps every segment, and starts replay after it")
    func retainsSegments() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        var all: [StoredRecord] = []
        for round in 1...4 {
            all += try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 5))
            try recovered.log.writeSnapshot(Self.state(at: UInt64(round * 5)))
        }
        all += try recovered.log.commitRecords(sizes: [20])
        recovered.log.close()
        let listing = try LogDirectory(path: dataDirectory, fileSystem: fileSystem)
        #expect(listing.snapshots.map(\.sequence) == [15, 20])
        #expect(listing.segments.map(\.firstSequence) == [1, 6, 11, 16, 21])
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.snapshot?.sequence == 20)
        #expect(reopened.records == Array(all.suffix(1)))
    }

    @Test("Without retaining segments, old snapshots and the segments the older of the two newest covers are deleted")
    func retention() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: LogOptions(retainsSegments: false))
        var all: [StoredRecord] = []
        for round in 1...4 {
            all += try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 5))
            try recovered.log.writeSnapshot(Self.state(at: UInt64(round * 5)))
        }
        all += try recovered.log.commitRecords(sizes: [20])
        recovered.log.close()

        let listing = try LogDirectory(path: dataDirectory, fileSystem: fileSystem)
        #expect(listing.snapshots.map(\.sequence) == [15, 20])
        // Segments start at 1, 6, 11, 16, 21; those ending at or before 15 go.
        #expect(listing.segments.map(\.firstSequence) == [16, 21])

        // Both fallbacks still work: the newest snapshot, and the previous one with the records after it.
        let reopened = try openLog(fileSystem)
        #expect(reopened.snapshot?.sequence == 20)
        #expect(reopened.records == Array(all.suffix(1)))
        reopened.log.close()
        fileSystem.corrupt(snapshotPath(20), at: 0, xor: 0xFF)
        let fallback = try openLog(fileSystem)
        defer { fallback.log.close() }
        #expect(fallback.snapshot?.sequence == 15)
        #expect(fallback.records == Array(all.suffix(6)))
    }

    @Test("With every snapshot unreadable and early segments deleted, the start names the missing records")
    func allSnapshotsUnreadable() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: LogOptions(retainsSegments: false))
        for round in 1...3 {
            _ = try recovered.log.commitRecords(sizes: Array(repeating: 20, count: 5))
            try recovered.log.writeSnapshot(Self.state(at: UInt64(round * 5)))
        }
        recovered.log.close()
        fileSystem.corrupt(snapshotPath(15), at: 0, xor: 0xFF)
        fileSystem.corrupt(snapshotPath(10), at: 0, xor: 0xFF)
        guard case .damaged(_, _, let reason) = openError(fileSystem) else {
            Issue.record("expected damage")
            return
        }
        #expect(reason.contains("records 1…10 are missing"))
        #expect(reason.contains(snapshotPath(15)))
    }

    @Test("A snapshot is refused while records are pending")
    func refusesWithPending() throws {
        let recovered = try openLog(SimulatedFileSystem())
        defer { recovered.log.close() }
        try recovered.log.append(expectedRecord(1, size: 3))
        #expect {
            try recovered.log.writeSnapshot([1])
        } throws: { error in
            guard case .snapshotFailed = error as? LogError else { return false }
            return true
        }
        #expect(recovered.log.failure == nil)
    }

    @Test("An error from the snapshot closure stops the start")
    func snapshotClosureThrows() throws {
        struct Refused: Error {}
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        _ = try recovered.log.commitRecords(sizes: [4])
        try recovered.log.writeSnapshot([9])
        recovered.log.close()
        #expect {
            _ = try WriteAheadLog.open(
                directory: dataDirectory, fileSystem: fileSystem, snapshot: { _, _ in throw Refused() },
                replay: { _ in })
        } throws: { error in
            guard case .replayFailed(1, let message) = error as? LogError else { return false }
            return message.contains("Refused")
        }
        // The failed start released the lock.
        #expect(openError(fileSystem) == nil)
    }

    /// A log with records 1…10 committed, a snapshot at 5 and the writer open.
    static func workload() throws -> (SimulatedFileSystem, Recovered, [StoredRecord]) {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: LogOptions(maximumSegmentBytes: 120))
        var records = try recovered.log.commitRecords(sizes: Array(repeating: 40, count: 5))
        try recovered.log.writeSnapshot(state(at: 5))
        records += try recovered.log.commitRecords(sizes: Array(repeating: 40, count: 5))
        return (fileSystem, recovered, records)
    }

    @Test("A crash at every synchronization of writeSnapshot loses no committed record")
    func crashDuringSnapshot() throws {
        // Count the synchronizations one snapshot makes, on a dry run.
        let (dryRun, dryLog, _) = try Self.workload()
        let before = dryRun.synchronizeCount
        try dryLog.log.writeSnapshot(Self.state(at: 10))
        let synchronizations = dryRun.synchronizeCount - before
        #expect(synchronizations >= 3, "snapshot file, its directory, the new segment")

        for failing in 1...(synchronizations + 1) {
            let (fileSystem, recovered, records) = try Self.workload()
            let segmentsBefore = try segmentNames(fileSystem)
            let base = fileSystem.synchronizeCount
            fileSystem.failSynchronize = { $0 == base + failing ? 5 : nil }
            do {
                try recovered.log.writeSnapshot(Self.state(at: 10))
            } catch {
                // A failure at any step is reported; the crash below is what matters.
            }
            fileSystem.crash()
            fileSystem.failSynchronize = nil
            let reopened = try openLog(fileSystem)
            let context = Comment(rawValue: "synchronization \(failing) of \(synchronizations) failed")
            let snapshot = try #require(reopened.snapshot, context)
            #expect([5, 10].contains(snapshot.sequence), context)
            #expect(snapshot.payload == Self.state(at: snapshot.sequence), context)
            #expect(reopened.records == Array(records.dropFirst(Int(snapshot.sequence))), context)
            #expect(reopened.report.lastSequence == 10, context)
            if snapshot.sequence == 5 {
                // The new snapshot did not become durable, so nothing may have been deleted.
                #expect(Set(try segmentNames(fileSystem)).isSuperset(of: segmentsBefore), context)
            }
            reopened.log.close()
        }
    }

    @Test("A failed snapshot write leaves the log usable; a failed roll stops it")
    func snapshotFailureModes() throws {
        let (fileSystem, recovered, records) = try Self.workload()
        let base = fileSystem.synchronizeCount
        // The first synchronization is the snapshot file's own.
        fileSystem.failSynchronize = { $0 == base + 1 ? 28 : nil }
        #expect(throws: LogError.self) { try recovered.log.writeSnapshot(Self.state(at: 10)) }
        #expect(recovered.log.failure == nil)
        #expect(!fileSystem.fileExists(snapshotPath(10)))
        #expect(!fileSystem.fileExists(snapshotPath(10) + ".tmp"))
        let more = try recovered.log.commitRecords(sizes: [40])

        // The third is the new segment's: after that the writer stops.
        let rollBase = fileSystem.synchronizeCount
        fileSystem.failSynchronize = { $0 == rollBase + 3 ? 5 : nil }
        #expect(throws: LogError.self) { try recovered.log.writeSnapshot(Self.state(at: 11)) }
        #expect(recovered.log.failure != nil)
        #expect {
            try recovered.log.append(type: 0, payload: [1])
        } throws: { error in
            guard case .unavailable(let reason) = error as? LogError else { return false }
            return reason.contains("Input/output error")
        }
        recovered.log.close()
        fileSystem.failSynchronize = nil
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.snapshot?.sequence == 11)
        #expect(reopened.records.isEmpty)
        #expect(reopened.report.lastSequence == UInt64(records.count + more.count))
    }
}
