import MeritTestSupport
import Testing

@testable import MeritLog

#if canImport(Glibc)
    import Glibc
#endif

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
        let torn = after.zeroing(block..<(block + 512))
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
        let recovered = try openLog(Self.fileSystem(holding: after.zeroing(middle..<blockEnd)))
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

/// Groups, their flags, and a write the disk lost under acknowledged records.
extension PreallocationTests {
    /// The start must stop with `.damaged`; if it goes on, say what it kept and cut.
    static func expectRefused(_ fileSystem: SimulatedFileSystem, _ records: [StoredRecord]) {
        do {
            let recovered = try openLog(fileSystem)
            defer { recovered.log.close() }
            let torn = recovered.report.tornTail
            Issue.record(
                Comment(
                    rawValue: "the start went on with \(recovered.records.count) of \(records.count) acknowledged "
                        + "records; torn tail cut at \(torn?.offset ?? -1)"))
        } catch {
            guard case .damaged = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    @Test("The first record of each group, and only it, carries the flag that starts a group")
    func groupFlags() throws {
        let (_, after, _) = try Self.segments()
        let flags = Self.offsets(after).map { after[$0 + 10] }
        #expect(flags == [1, 1, 1, 0, 0], "two groups of one record, then one of three")
        #expect(after[8] == UInt8(LogFormat.segmentVersion))
    }

    @Test("A zeroed block under acknowledged groups is damage: a group began after it")
    func zeroedAcknowledgedBlock() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        let records = try recovered.log.commitRecords(sizes: Array(repeating: 100, count: 40))
        recovered.log.close()
        var bytes = try fileSystem.readFile(segmentPath(1))
        bytes.zero(1024..<1536)
        fileSystem.setContents(segmentPath(1), bytes)
        Self.expectRefused(fileSystem, records)
        #expect(try fileSystem.readFile(segmentPath(1)) == bytes, "nothing was cut")
        #expect(!LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem).isHealthy)
    }

    @Test("The zeros of a lost write in the last group but one are damage too, when the last group's start is stored")
    func lostWriteBeforeTheLastGroup() throws {
        let (_, after, records) = try Self.segments()
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        _ = try recovered.log.commitRecords(sizes: Self.firstSizes)
        for (index, size) in Self.groupSizes.enumerated() {
            try recovered.log.append(expectedRecord(UInt64(Self.firstSizes.count + 1 + index), size: size))
        }
        try recovered.log.commit()
        let last = try recovered.log.commitRecords(sizes: [30])
        recovered.log.close()
        var bytes = try fileSystem.readFile(segmentPath(1))
        let middle = Self.offsets(after)[3]
        let block = (middle / 512 + 1) * 512
        bytes.zero(block..<(block + 512))
        fileSystem.setContents(segmentPath(1), bytes)
        Self.expectRefused(fileSystem, records + last)
    }

    /// A log whose last group holds records of `sizes`, closed: its bytes and records.
    static func oneGroup(_ sizes: [Int]) throws -> (fileSystem: SimulatedFileSystem, records: [StoredRecord]) {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        var records: [StoredRecord] = []
        for (index, size) in sizes.enumerated() {
            records.append(try recovered.log.append(expectedRecord(UInt64(1 + index), size: size)))
        }
        try recovered.log.commit()
        recovered.log.close()
        return (fileSystem, records)
    }

    @Test("Within the last group, one zeroed byte where a record starts at the end of a block is damage")
    func oneZeroedByteIsNoLostWrite() throws {
        let (fileSystem, records) = try Self.oneGroup([459, 100, 100, 100])
        let bytes = try fileSystem.readFile(segmentPath(1))
        #expect(recordOffsets(bytes)[1] == 511)
        // The record's header lies mostly in the next block, stored: it starts no group, so it is not the group
        // in flight's first record whose first block was lost.
        fileSystem.corrupt(segmentPath(1), at: 511, xor: bytes[511])
        Self.expectRefused(fileSystem, records)
    }

    @Test("Within the last group, a zeroed record with a valid one after it in the same block is damage")
    func zerosInAStoredBlockAreNoLostWrite() throws {
        let (fileSystem, records) = try Self.oneGroup([10, 10, 10, 10])
        var bytes = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(bytes)
        bytes.zero(offsets[1]..<offsets[2])
        fileSystem.setContents(segmentPath(1), bytes)
        Self.expectRefused(fileSystem, records)
    }

    @Test("A group in flight that starts in the last 7 bytes of a block, that block not stored, is a torn tail")
    func groupStartingNearABlockEnd() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        // The header (32) and a record of 20 + 453 end at 505.
        let acknowledged = try recovered.log.commitRecords(sizes: [453])
        let before = try fileSystem.readFile(segmentPath(1))
        for (index, size) in [100, 1500, 100].enumerated() {
            try recovered.log.append(expectedRecord(UInt64(2 + index), size: size))
        }
        try recovered.log.commit()
        recovered.log.close()
        var after = try fileSystem.readFile(segmentPath(1))
        #expect(recordOffsets(after)[1] == 505)
        // Every block of the group stored but the first, which holds what it held before.
        after.replaceSubrange(0..<512, with: before[0..<512])
        let reopened = try openLog(Self.fileSystem(holding: after))
        defer { reopened.log.close() }
        #expect(reopened.records == acknowledged)
        #expect(reopened.report.tornTail?.offset == 505)
    }

    @Test("A lost write under an acknowledged group is damage even when the next group's first record is bad too")
    func groupStartsPastASecondBadRecord() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        var records: [StoredRecord] = []
        for _ in 0..<6 {
            for _ in 0..<3 {
                records.append(try recovered.log.append(expectedRecord(UInt64(records.count + 1), size: 600)))
            }
            try recovered.log.commit()
        }
        recovered.log.close()
        var bytes = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(bytes)
        // A zeroed block inside group 2, then group 3's first record changed: the flags after the hole that say
        // a group began are those of groups 4 to 6, past a second bad record.
        let block = (offsets[3] / 512 + 1) * 512
        #expect(block + 512 <= offsets[5])
        bytes.zero(block..<(block + 512))
        bytes[offsets[6] + 30] ^= 0xFF
        fileSystem.setContents(segmentPath(1), bytes)
        Self.expectRefused(fileSystem, records)
    }

    @Test("Discarded records give their flag back: the first record of each group written carries it")
    func flagsAfterDiscardAndSeal() throws {
        let fileSystem = SimulatedFileSystem()
        let log = try openLog(fileSystem).log
        try log.append(expectedRecord(1, size: 10))
        log.discardPending()
        try log.append(expectedRecord(1, size: 10))
        try log.append(expectedRecord(2, size: 10))
        log.discardPending()
        try log.append(expectedRecord(1, size: 10))
        try log.append(expectedRecord(2, size: 10))
        let sealed = try #require(log.seal())
        try log.append(expectedRecord(3, size: 10))
        try log.append(expectedRecord(4, size: 10))
        try log.write(sealed)
        try log.append(expectedRecord(5, size: 10))
        try log.commit()
        log.close()
        let bytes = try fileSystem.readFile(segmentPath(1))
        #expect(Self.offsets(bytes).map { bytes[$0 + 10] } == [1, 0, 1, 0, 0])
    }

    @Test(
        "Going on from a version 1 segment makes what it replayed durable first",
        arguments: [true, false])
    func versionSwitchMakesReplayDurable(commitAfter: Bool) throws {
        let fileSystem = Self.fileSystem(
            holding: handmadeSegment(first: 1, version: 1, records: [(1, expectedRecord(1, size: 50).payload)]))
        // Record 2, written by an older merit that died before its fdatasync: in the cache, not on the disk.
        var record: [UInt8] = []
        expectedRecord(2, size: 50).payload.withUnsafeBytes {
            LogFormat.appendRecord(to: &record, sequence: 2, type: 0, payload: $0)
        }
        let handle = try fileSystem.openForWriting(segmentPath(1))
        _ = try record.withUnsafeBytes { try fileSystem.write(handle, $0, at: LogFormat.segmentHeaderBytes + 70) }
        fileSystem.close(handle)
        let second = try openLog(fileSystem)
        #expect(second.records.map(\.sequence) == [1, 2])
        let acknowledged = commitAfter ? try second.log.commitRecords(sizes: [10]) : []
        second.log.close()
        fileSystem.crash()
        let third = try openLog(fileSystem)
        defer { third.log.close() }
        #expect(third.records.map(\.sequence) == [1, 2] + acknowledged.map(\.sequence))
    }

    @Test(
        "Every order in which the disk may have stored the blocks of the group in flight", arguments: [1 << 20, 600, 0])
    func anyBlockOrder(preallocation: Int) throws {
        let options = LogOptions(preallocationBytes: preallocation)
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: options)
        let acknowledged = try recovered.log.commitRecords(sizes: [10, 20])
        let before = try fileSystem.readFile(segmentPath(1))
        let groupSizes = [40, 1500, 40, 300]
        var group: [StoredRecord] = []
        for (index, size) in groupSizes.enumerated() {
            group.append(try recovered.log.append(expectedRecord(UInt64(3 + index), size: size)))
        }
        try recovered.log.commit()
        recovered.log.close()
        let after = try fileSystem.readFile(segmentPath(1))
        let padded = before + [UInt8](repeating: 0, count: max(0, after.count - before.count))
        let blocks = (0..<((after.count + 511) / 512)).map { ($0 * 512)..<min(after.count, $0 * 512 + 512) }
        let changed = blocks.filter { padded[$0] != after[$0] }
        #expect((3...12).contains(changed.count))
        for mask in 0..<(1 << changed.count) {
            // The file's new size is durable or not, when the group changed it.
            for sizeIsDurable in before.count == after.count ? [true] : [true, false] {
                var survivor = padded
                for (bit, range) in changed.enumerated() where mask & (1 << bit) != 0 {
                    survivor.replaceSubrange(range, with: after[range])
                }
                if !sizeIsDurable { survivor = Array(survivor.prefix(before.count)) }
                // The records of the group stored whole, in order from its start, are kept; nothing else.
                var kept = 0
                var offset = recordOffsets(after)[2]
                for size in groupSizes {
                    let end = offset + LogFormat.recordHeaderBytes + size
                    guard end <= survivor.count, survivor[offset..<end] == after[offset..<end] else { break }
                    kept += 1
                    offset = end
                }
                let copy = SimulatedFileSystem()
                copy.setContents(segmentPath(1), survivor)
                let reopened = try openLog(copy, options: options)
                #expect(reopened.records == acknowledged + group.prefix(kept), "blocks \(mask), size \(sizeIsDurable)")
                // The next records, of the sizes of the lost ones, land where they were: none of them comes back.
                let next = try reopened.log.commitRecords(sizes: Array(groupSizes.dropFirst(kept)))
                reopened.log.close()
                let again = try openLog(copy, options: options)
                again.log.close()
                #expect(again.records == acknowledged + group.prefix(kept) + next, "blocks \(mask)")
                #expect(again.report.tornTail == nil)
            }
        }
    }

    @Test("A disk too full for the zeros does not fail a group already written")
    func zerosAreBestEffort() throws {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem)
        let before = fileSystem.writeCount
        // The group's write succeeds; the zeros' fails.
        fileSystem.failWrite = { $0 == before + 2 ? .error(ENOSPC) : nil }
        let records = try recovered.log.commitRecords(sizes: [100])
        fileSystem.failWrite = nil
        let more = try recovered.log.commitRecords(sizes: [100])
        recovered.log.close()
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.records == records + more)
    }

    @Test("What a start replays is made durable before anything goes after it, even in a new segment")
    func replayedRecordsAreMadeDurable() throws {
        let options = LogOptions(maximumSegmentBytes: 200)
        let fileSystem = SimulatedFileSystem()
        let first = try openLog(fileSystem, options: options)
        _ = try first.log.commitRecords(sizes: [10])
        first.log.close()
        // A group written by a process that died before its fdatasync: in the system's cache, not on the disk.
        var group: [UInt8] = []
        let unsynchronized = expectedRecord(2, size: 150)
        unsynchronized.payload.withUnsafeBytes {
            LogFormat.appendRecord(
                to: &group, sequence: 2, type: unsynchronized.type, flags: LogFormat.startsGroup, payload: $0)
        }
        let handle = try fileSystem.openForWriting(segmentPath(1))
        _ = try group.withUnsafeBytes { try fileSystem.write(handle, $0, at: 62) }
        fileSystem.close(handle)
        let second = try openLog(fileSystem, options: options)
        #expect(second.records.map(\.sequence) == [1, 2])
        let later = try second.log.commitRecords(sizes: [10])
        second.log.close()
        #expect(try segmentNames(fileSystem).count == 2, "the segment rolled before the acknowledged record")
        fileSystem.crash()
        let third = try openLog(fileSystem, options: options)
        defer { third.log.close() }
        #expect(third.records.map(\.sequence) == [1, 2] + later.map(\.sequence))
    }

    @Test("A segment of format version 1 is read as it was (no flags, no lost writes), and records go on in a new one")
    func versionOneSegment() throws {
        let records = (1...3).map { expectedRecord(UInt64($0), size: 1500) }
        let old = handmadeSegment(first: 1, version: 1, records: records.map { ($0.sequence, $0.payload) })
        let fileSystem = Self.fileSystem(holding: old)
        // Handmade records have type 0.
        let stored = records.map { StoredRecord(sequence: $0.sequence, type: 0, payload: $0.payload) }
        let recovered = try openLog(fileSystem)
        #expect(recovered.records == stored)
        let next = try recovered.log.commitRecords(sizes: [5])
        recovered.log.close()
        #expect(
            try segmentNames(fileSystem) == [
                LogFormat.segmentName(firstSequence: 1), LogFormat.segmentName(firstSequence: 4),
            ])
        #expect(try fileSystem.readFile(segmentPath(1)) == old)
        #expect(try fileSystem.readFile(segmentPath(4))[8] == UInt8(LogFormat.segmentVersion))
        let again = try openLog(fileSystem)
        again.log.close()
        #expect(again.records == stored + next)

        // Without flags nothing tells the group in flight, so a zeroed block with records after it stays damage.
        var holed = old
        let second = recordOffsets(old)[1]
        let block = (second / 512 + 1) * 512
        holed.zero(block..<(block + 512))
        let version1 = Self.fileSystem(holding: holed)
        guard case .damaged? = openError(version1) else {
            Issue.record("a version 1 segment with a lost write before valid records was taken as torn")
            return
        }
    }

    @Test("An empty newest segment of format version 1 is written afresh in the current version")
    func emptyVersionOneSegment() throws {
        let fileSystem = Self.fileSystem(holding: handmadeSegment(first: 1, version: 1, records: []))
        let recovered = try openLog(fileSystem)
        let records = try recovered.log.commitRecords(sizes: [5])
        recovered.log.close()
        #expect(try segmentNames(fileSystem) == [LogFormat.segmentName(firstSequence: 1)])
        #expect(try fileSystem.readFile(segmentPath(1))[8] == UInt8(LogFormat.segmentVersion))
        let again = try openLog(fileSystem)
        defer { again.log.close() }
        #expect(again.records == records)
    }
}

extension Array where Element == UInt8 {
    /// Set `range` to zeros, as a disk block that a write never reached reads.
    fileprivate mutating func zero(_ range: Range<Int>) {
        replaceSubrange(range, with: repeatElement(0, count: range.count))
    }

    /// A copy with `range` set to zeros.
    fileprivate func zeroing(_ range: Range<Int>) -> [UInt8] {
        var copy = self
        copy.zero(range)
        return copy
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
