import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("Torn tails")
struct TornTailTests {
    /// Three records; the last one is 20 + 40 bytes long.
    static let sizes = [10, 20, 40]
    static let lastRecordLength = LogFormat.recordHeaderBytes + 40

    @Test(
        "Truncation inside the last record is cut off, kept aside, and clean afterwards",
        arguments: 1..<lastRecordLength)
    func truncatedLastRecord(keptBytes: Int) throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let path = segmentPath(1)
        let original = try fileSystem.readFile(path)
        let lastStart = try #require(recordOffsets(original).last)
        #expect(lastStart + Self.lastRecordLength == original.count)
        fileSystem.setContents(path, Array(original[..<(lastStart + keptBytes)]))

        let recovered = try openLog(fileSystem)
        #expect(recovered.records == Array(records.prefix(2)))
        #expect(recovered.report.lastSequence == 2)
        let torn = try #require(recovered.report.tornTail)
        #expect(torn.file == path)
        #expect(torn.offset == lastStart)
        #expect(torn.length == keptBytes)
        let saved = try #require(torn.savedAs)
        #expect(saved.hasPrefix(dataDirectory + "/aside/torn-log-00000000000000000001.seg-\(lastStart)"))
        #expect(fileSystem.durableContents(saved) == Array(original[lastStart..<(lastStart + keptBytes)]))
        #expect(fileSystem.durableContents(path) == Array(original[..<lastStart]))

        // The log continues after the cut: the next record takes the torn one's sequence.
        let next = try recovered.log.commitRecords(sizes: [5])
        #expect(next.map(\.sequence) == [3])
        recovered.log.close()
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.report.tornTail == nil)
        #expect(again.records == Array(records.prefix(2)) + next)
    }

    @Test("Truncation exactly at a record boundary is no torn tail")
    func truncatedAtBoundary() throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let original = try fileSystem.readFile(segmentPath(1))
        let lastStart = try #require(recordOffsets(original).last)
        fileSystem.setContents(segmentPath(1), Array(original[..<lastStart]))
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.report.tornTail == nil)
        #expect(recovered.records == Array(records.prefix(2)))
    }

    @Test(
        "Zeros after the records are the stretch laid down ahead of them: no torn tail, and written over next",
        arguments: [1, 19, 20, 4096])
    func zeroFilledTail(count: Int) throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let original = try fileSystem.readFile(segmentPath(1))
        let zeros = [UInt8](repeating: 0, count: count)
        fileSystem.setContents(segmentPath(1), original + zeros)
        let recovered = try openLog(fileSystem, options: LogOptions(preallocationBytes: 0))
        #expect(recovered.records == records)
        #expect(recovered.report.tornTail == nil)
        #expect(fileSystem.durableContents(segmentPath(1)) == original + zeros, "nothing is cut")
        let next = try recovered.log.commitRecords(sizes: [5])
        recovered.log.close()
        let written = try fileSystem.readFile(segmentPath(1))
        #expect(written.count == max(original.count + count, original.count + LogFormat.recordHeaderBytes + 5))
        #expect(Array(written[..<original.count]) == original)
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.records == records + next, "the record went where the records end, not after the zeros")
    }

    @Test("A garbage tail is torn")
    func garbageTail() throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let original = try fileSystem.readFile(segmentPath(1))
        fileSystem.setContents(segmentPath(1), original + payload(seed: 99, count: 10_000))
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records == records)
        #expect(recovered.report.tornTail?.length == 10_000)
    }

    @Test("A flipped bit in the last record is a torn tail")
    func checksumMismatchInLastRecord() throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let original = try fileSystem.readFile(segmentPath(1))
        let lastStart = try #require(recordOffsets(original).last)
        fileSystem.corrupt(segmentPath(1), at: original.count - 1, xor: 0x10)
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records == Array(records.prefix(2)))
        #expect(recovered.report.tornTail?.offset == lastStart)
    }

    @Test("An empty or partial newest segment is torn and gets its header back", arguments: [0, 1, 31])
    func partialNewestSegment(keptBytes: Int) throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 100)
        let recovered = try openLog(fileSystem, options: options)
        let records = try recovered.log.commitRecords(sizes: [90, 90, 90])
        recovered.log.close()
        #expect(try segmentNames(fileSystem).count == 3)
        // A fourth segment whose creation was cut short (as on a file system that reorders a rename before data).
        let path = segmentPath(4)
        let header = LogFormat.encodeSegmentHeader(LogFormat.SegmentHeader(generation: 4, firstSequence: 4))
        fileSystem.setContents(path, Array(header.prefix(keptBytes)))

        let reopened = try openLog(fileSystem, options: options)
        #expect(reopened.records == records)
        let torn = try #require(reopened.report.tornTail)
        #expect(torn.file == path)
        #expect(torn.offset == 0)
        #expect(torn.length == keptBytes)
        #expect((torn.savedAs != nil) == (keptBytes > 0))
        #expect(fileSystem.durableContents(path) == header, "the header is written again, generation included")
        let next = try reopened.log.commitRecords(sizes: [3])
        reopened.log.close()
        let again = try openLog(fileSystem, options: options)
        defer { again.log.close() }
        #expect(again.report.tornTail == nil)
        #expect(again.records == records + next)
    }

    @Test("An empty first and only segment is torn, and the log starts empty")
    func emptyOnlySegment() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents(segmentPath(1), [])
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records.isEmpty)
        #expect(recovered.report.tornTail?.length == 0)
        #expect(try recovered.log.commitRecords(sizes: [1]).map(\.sequence) == [1])
    }

    @Test("A crash during fdatasync that keeps part of the write leaves complete records and a torn tail")
    func crashDuringSynchronize() throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let group = [expectedRecord(4, size: 100), expectedRecord(5, size: 200)]
        let firstEnd = LogFormat.recordHeaderBytes + 100
        let groupBytes = firstEnd + LogFormat.recordHeaderBytes + 200
        for kept in Array(stride(from: 0, through: groupBytes, by: 7)) + [firstEnd, groupBytes] {
            let copy = SimulatedFileSystem()
            copy.setContents(segmentPath(1), try fileSystem.readFile(segmentPath(1)))
            let recovered = try openLog(copy)
            for record in group { try recovered.log.append(record) }
            // The power fails while fdatasync runs, so the process never learns the outcome; some of the bytes reached
            // the disk.
            copy.failSynchronize = { [unowned copy] _ in
                copy.crash(keepingUnsynchronizedBytes: kept)
                return 5
            }
            #expect(throws: LogError.self) { try recovered.log.commit() }
            copy.failSynchronize = nil
            let reopened = try openLog(copy)
            // Unacknowledged records may survive only whole; anything partial is a torn tail.
            let whole = kept >= groupBytes ? 2 : kept >= firstEnd ? 1 : 0
            #expect(reopened.records == records + group.prefix(whole), "kept \(kept) bytes")
            let atBoundary = kept == 0 || kept == firstEnd || kept == groupBytes
            #expect((reopened.report.tornTail == nil) == atBoundary, "kept \(kept) bytes")
            reopened.log.close()
        }
    }
}
