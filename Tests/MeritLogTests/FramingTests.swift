import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("Record framing and group commit")
struct FramingTests {
    @Test("Records survive append, commit and reopen", arguments: [0, 1, 1000, 100_000])
    func roundTrip(size: Int) throws {
        let fileSystem = SimulatedFileSystem()
        let first = try openLog(fileSystem)
        #expect(first.records.isEmpty)
        #expect(first.report.lastSequence == 0)
        let written = try first.log.commitRecords(sizes: [size, size, size])
        #expect(first.log.lastSequence == 3)
        first.log.close()

        let second = try openLog(fileSystem)
        defer { second.log.close() }
        #expect(second.records == written)
        #expect(second.report.replayedRecords == 3)
        #expect(second.report.lastSequence == 3)
        #expect(second.report.tornTail == nil)
        #expect(second.log.lastSequence == 3)
    }

    @Test("A group of records of mixed sizes and types commits together and replays in order")
    func groupCommit() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        let sizes = [0, 1, 1000, 100_000, 7, 300_000]
        var written: [StoredRecord] = []
        for (index, size) in sizes.enumerated() {
            written.append(try recovered.log.append(expectedRecord(UInt64(index + 1), size: size)))
        }
        #expect(recovered.log.pendingCount == sizes.count)
        #expect(recovered.log.lastSequence == 0)
        let writes = fileSystem.writeCount
        let synchronizations = fileSystem.synchronizeCount
        try recovered.log.commit()
        // One write call for the whole group (the simulation never writes short unless told to), one for the zeros
        // laid down after it, since it reached past the end of the file, and one fdatasync.
        #expect(fileSystem.writeCount == writes + 2)
        #expect(fileSystem.synchronizeCount == synchronizations + 1)
        let segment = try fileSystem.readFile(segmentPath(1))
        let recordsEnd = LogFormat.segmentHeaderBytes + sizes.reduce(0) { $0 + LogFormat.recordHeaderBytes + $1 }
        #expect(segment.count == recordsEnd + LogOptions().preallocationBytes)
        // The next group goes over those zeros: one write, one fdatasync.
        _ = try recovered.log.append(expectedRecord(UInt64(sizes.count + 1), size: 10))
        try recovered.log.commit()
        #expect(fileSystem.writeCount == writes + 3)
        #expect(try fileSystem.readFile(segmentPath(1)).count == segment.count)
        written.append(expectedRecord(UInt64(sizes.count + 1), size: 10))
        #expect(recovered.log.pendingCount == 0)
        #expect(recovered.log.lastSequence == UInt64(sizes.count + 1))
        recovered.log.close()

        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.records == written)
        #expect(reopened.records.map(\.sequence) == Array(1...UInt64(sizes.count + 1)))
        #expect(reopened.report.tornTail == nil, "the zeros after the records are no torn tail")
    }

    @Test("Appending after a reopen continues the sequence")
    func continuesAfterReopen() throws {
        let fileSystem = SimulatedFileSystem()
        var all: [StoredRecord] = []
        for _ in 0..<4 {
            let recovered = try openLog(fileSystem)
            #expect(recovered.records == all)
            all += try recovered.log.commitRecords(sizes: [10, 20])
            recovered.log.close()
        }
        let final = try openLog(fileSystem)
        defer { final.log.close() }
        #expect(final.records == all)
        #expect(final.records.map(\.sequence) == Array(1...8))
    }

    @Test("Rolling at a small segment size spreads records over several segments and keeps them all")
    func segmentRolling() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 300)
        let recovered = try openLog(fileSystem, options: options)
        let sizes = (0..<40).map { [0, 1, 50, 120, 400][$0 % 5] }
        let written = try recovered.log.commitRecords(sizes: sizes)
        recovered.log.close()

        let names = try segmentNames(fileSystem)
        #expect(names.count > 5)
        // Each segment's header names its first record, and generations count up from 1.
        for (index, name) in names.enumerated() {
            let bytes = try fileSystem.readFile(dataDirectory + "/" + name)
            let check = bytes.withUnsafeBytes { LogFormat.checkSegmentHeader($0) }
            guard case .valid(let header) = check else {
                Issue.record("\(name) has no valid header")
                continue
            }
            #expect(header.generation == UInt64(index + 1))
            #expect(LogFormat.segmentName(firstSequence: header.firstSequence) == name)
            #expect(bytes.count < 300 + 420, "a segment grows past the limit by at most one commit")
        }

        let reopened = try openLog(fileSystem, options: options)
        defer { reopened.log.close() }
        #expect(reopened.records == written)
    }

    @Test("A payload over the maximum is refused without harming the log")
    func recordTooLarge() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: LogOptions(maximumRecordBytes: 100))
        defer { recovered.log.close() }
        #expect {
            try recovered.log.append(type: 1, payload: [UInt8](repeating: 0, count: 101))
        } throws: { error in
            guard case .recordTooLarge(let length, let maximum) = error as? LogError else { return false }
            return length == 101 && maximum == 100
        }
        #expect(recovered.log.failure == nil)
        let written = try recovered.log.commitRecords(sizes: [100])
        #expect(written.map(\.sequence) == [1])
    }

    @Test("Discarded records are never written and their sequences are given again")
    func discardPending() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        try recovered.log.append(expectedRecord(1, size: 5))
        try recovered.log.append(expectedRecord(2, size: 5))
        recovered.log.discardPending()
        #expect(recovered.log.pendingCount == 0)
        let writes = fileSystem.writeCount
        try recovered.log.commit()
        #expect(fileSystem.writeCount == writes, "an empty commit writes nothing")
        let written = try recovered.log.commitRecords(sizes: [9])
        #expect(written.map(\.sequence) == [1])
        recovered.log.close()
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.records == written)
    }

    @Test("Committed records survive a crash; appended but uncommitted ones do not")
    func crashKeepsOnlyCommitted() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        let written = try recovered.log.commitRecords(sizes: [10, 20, 30])
        try recovered.log.append(expectedRecord(4, size: 40))
        fileSystem.crash()
        let reopened = try openLog(fileSystem)
        defer { reopened.log.close() }
        #expect(reopened.records == written)
        #expect(reopened.report.tornTail == nil)
    }

    @Test("A closed log refuses changes")
    func closedLogRefuses() throws {
        let recovered = try openLog(SimulatedFileSystem())
        recovered.log.close()
        #expect {
            try recovered.log.append(type: 0, payload: [1])
        } throws: { error in
            guard case .unavailable = error as? LogError else { return false }
            return true
        }
    }

    @Test("Segment and snapshot names sort in sequence order and parse back")
    func names() {
        #expect(LogFormat.segmentName(firstSequence: 1) == "log-00000000000000000001.seg")
        #expect(LogFormat.snapshotName(sequence: 1234) == "snapshot-00000000000000001234.snap")
        #expect(LogFormat.segmentFirstSequence("log-18446744073709551615.seg") == UInt64.max)
        #expect(LogFormat.segmentFirstSequence("log-1.seg") == nil)
        #expect(LogFormat.segmentFirstSequence("log-00000000000000000001.seg.tmp") == nil)
        #expect(LogFormat.snapshotSequence("snapshot-0000000000000000000x.snap") == nil)
    }
}
