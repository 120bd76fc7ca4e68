import MeritTestSupport
import Testing

@testable import MeritLog

/// Segments laid down in zeros ahead of their records (`LogOptions.preallocationBytes`): commits write over the
/// zeros, and a crash in the middle of one leaves a group partly stored, in any order of its disk blocks.
@Suite("Segments with zeros laid down ahead")
struct PreallocationTests {
    /// Two records committed one by one, then a group of three whose middle record spans several disk blocks.
    static let firstSizes = [10, 20]
    static let groupSizes = [40, 1500, 40]

    /// The segment after the first two commits, and after the group too, each as its file holds it.
    static func segments() throws -> (before: [UInt8], after: [UInt8], records: [StoredRecord]) {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        var records = try recovered.log.commitRecords(sizes: firstSizes)
        let before = try fileSystem.readFile(segmentPath(1))
        for (index, size) in groupSizes.enumerated() {
            records.append(try recovered.log.append(expectedRecord(UInt64(firstSizes.count + 1 + index), size: size)))
        }
        try recovered.log.commit()
        recovered.log.close()
        return (before, try fileSystem.readFile(segmentPath(1)), records)
    }

    /// Where the records of a segment start, up to the zeros after them.
    static func offsets(_ segment: [UInt8]) -> [Int] {
        recordOffsets(segment).prefix { segment[$0..<$0 + LogFormat.recordHeaderBytes].contains { $0 != 0 } }
    }

    /// A simulated file system whose only segment holds `bytes`.
    static func fileSystem(holding bytes: [UInt8]) -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents(segmentPath(1), bytes)
        return fileSystem
    }

    @Test("Commits write over the zeros without changing the file's size, and nothing is torn at a restart")
    func writesOverZeros() throws {
        let (before, after, records) = try Self.segments()
        #expect(before.count == after.count)
        let end = Self.offsets(after).last.map { $0 + LogFormat.recordHeaderBytes + Self.groupSizes[2] } ?? 0
        // The first commit reached past the header and laid down the zeros after itself; the rest went over them.
        #expect(before.count == LogFormat.segmentHeaderBytes + 20 + 10 + LogOptions().preallocationBytes)
        #expect(LogFormat.isZero(after.withUnsafeBytes { $0 }, end..<after.count))
        let fileSystem = Self.fileSystem(holding: after)
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records == records)
        #expect(recovered.report.tornTail == nil)
        #expect(LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem).isHealthy)
    }

    @Test(
        "A group cut short over the zeros is a torn tail: cut, kept aside without the zeros, and written over",
        arguments: [1, 19, 20, 59, 60, 61, 700, 1579, 1580, 1639])
    func groupCutShort(keptBytes: Int) throws {
        let (before, after, records) = try Self.segments()
        let start = Self.offsets(after)[2]
        var torn = before
        torn.replaceSubrange(start..<(start + keptBytes), with: after[start..<(start + keptBytes)])
        let fileSystem = Self.fileSystem(holding: torn)
        let recovered = try openLog(fileSystem)
        // Whole records of the group that reached the disk in order are kept: they follow the last durable one. A
        // cut between records leaves only zeros after them, and nothing torn.
        let ends = Self.groupSizes.reductions(LogFormat.recordHeaderBytes)
        let kept = ends.filter { $0 <= keptBytes }.count
        #expect(recovered.records == Array(records.prefix(2 + kept)))
        if !ends.contains(keptBytes) {
            let tail = try #require(recovered.report.tornTail)
            let tornStart = start + Self.groupSizes.prefix(kept).reduce(0) { $0 + LogFormat.recordHeaderBytes + $1 }
            #expect(tail.offset == tornStart)
            let saved = try #require(tail.savedAs.flatMap { fileSystem.durableContents($0) })
            #expect(saved.starts(with: after[tornStart..<(start + keptBytes)]))
            #expect(saved.count < 2048, "the zeros after the torn bytes are not kept aside")
            #expect(fileSystem.durableContents(segmentPath(1)) == Array(torn[..<tornStart]))
        } else {
            #expect(recovered.report.tornTail == nil)
        }
        let next = try recovered.log.commitRecords(sizes: [7])
        recovered.log.close()
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.report.tornTail == nil)
        #expect(again.records == Array(records.prefix(2 + kept)) + next)
    }

    @Test("A disk block of the group never stored, with later ones stored, is a torn tail, not damage")
    func lostBlock() throws {
        let (_, after, records) = try Self.segments()
        let middle = Self.offsets(after)[3]
        // A whole 512-byte block inside the long record reads as the zeros it held before the write.
        let block = (middle / 512 + 1) * 512
        var torn = after
        torn.replaceSubrange(block..<(block + 512), with: [UInt8](repeating: 0, count: 512))
        let fileSystem = Self.fileSystem(holding: torn)
        let recovered = try openLog(fileSystem)
        #expect(recovered.records == Array(records.prefix(3)))
        let tail = try #require(recovered.report.tornTail)
        #expect(tail.offset == middle)
        let saved = try #require(tail.savedAs.flatMap { fileSystem.durableContents($0) })
        #expect(saved.starts(with: torn[middle..<block]), "the record after the lost block is kept aside")
        #expect(fileSystem.durableContents(segmentPath(1)) == Array(torn[..<middle]))

        // The next records go where the torn one began; the stored record after the lost block never comes back,
        // even when the new ones have the old ones' sizes and so their offsets.
        let next = try recovered.log.commitRecords(sizes: [Self.groupSizes[1]])
        recovered.log.close()
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.records == Array(records.prefix(3)) + next)
        #expect(again.report.tornTail == nil)
    }

    @Test("The block a bad record starts in, zero from the record on, is a lost write too")
    func lostFirstBlock() throws {
        let (_, after, records) = try Self.segments()
        let middle = Self.offsets(after)[3]
        let blockEnd = (middle / 512 + 1) * 512
        var torn = after
        torn.replaceSubrange(middle..<blockEnd, with: [UInt8](repeating: 0, count: blockEnd - middle))
        let recovered = try openLog(Self.fileSystem(holding: torn))
        defer { recovered.log.close() }
        #expect(recovered.records == Array(records.prefix(3)))
        #expect(recovered.report.tornTail?.offset == middle)
    }

    @Test("A changed byte with valid records after it, and no zeroed block, is still damage that stops the start")
    func damageIsNotTorn() throws {
        let (_, after, _) = try Self.segments()
        let middle = Self.offsets(after)[3]
        var damaged = after
        damaged[middle + 700] ^= 0x01
        let fileSystem = Self.fileSystem(holding: damaged)
        guard case .damaged(let file, let offset, let reason)? = openError(fileSystem) else {
            Issue.record("the start did not stop")
            return
        }
        #expect(file == segmentPath(1))
        #expect(offset == middle)
        #expect(reason.contains("a valid record follows"))
        #expect(try fileSystem.readFile(segmentPath(1)) == damaged, "nothing was cut")
    }

    @Test("Segments roll at their maximum size with zeros laid down no further; every reader reads through them")
    func rolledSegments() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 1000, preallocationBytes: 300)
        let recovered = try openLog(fileSystem, options: options)
        let records = try recovered.log.commitRecords(sizes: Array(repeating: 100, count: 30))
        recovered.log.close()
        let names = try segmentNames(fileSystem)
        #expect(names.count > 3)
        for name in names {
            let bytes = try fileSystem.readFile(dataDirectory + "/" + name)
            #expect(bytes.count <= 1000 + 120, "\(name) is \(bytes.count) bytes")
        }
        let again = try openLog(fileSystem, options: options)
        defer { again.log.close() }
        #expect(again.records == records)
        #expect(again.report.tornTail == nil)
        let report = LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem, options: options)
        #expect(report.isHealthy && report.tornTail == nil && report.records == records.count)
        let reader = LogReader(directory: dataDirectory, fileSystem: fileSystem, options: options)
        var read: [UInt64] = []
        for segment in try reader.segments() {
            try reader.records(in: segment, from: 0) { record, _ in
                read.append(record.sequence)
                return true
            }
        }
        #expect(read == records.map(\.sequence))
    }
}

extension Array where Element == Int {
    /// The running sums of the elements each plus `overhead`: `[1, 2].reductions(10)` is `[11, 23]`.
    fileprivate func reductions(_ overhead: Int) -> [Int] {
        var total = 0
        return map {
            total += overhead + $0
            return total
        }
    }
}
