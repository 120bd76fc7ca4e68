import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("Damage detection")
struct CorruptionTests {
    /// A segment of a header and three records of 8 bytes: 32 + 3 × 28 = 116 bytes.
    static let sizes = [8, 8, 8]
    static let segmentLength = LogFormat.segmentHeaderBytes + 3 * (LogFormat.recordHeaderBytes + 8)
    static let lastRecordStart = segmentLength - (LogFormat.recordHeaderBytes + 8)

    @Test(
        "Every flipped bit is detected: a torn tail in the last record, damage before it", arguments: 0..<segmentLength)
    func bitFlip(offset: Int) throws {
        let (fileSystem, records) = try simulatedLog(sizes: Self.sizes)
        let path = segmentPath(1)
        let original = try fileSystem.readFile(path)
        #expect(original.count == Self.segmentLength)
        for bit in 0..<8 {
            fileSystem.setContents(path, original)
            fileSystem.corrupt(path, at: offset, xor: UInt8(1) << bit)
            let context = Comment(rawValue: "bit \(bit) of byte \(offset)")
            do {
                let recovered = try openLog(fileSystem)
                recovered.log.close()
                // Only damage to the last record may be taken for a torn tail, and then it is cut off.
                #expect(offset >= Self.lastRecordStart, context)
                #expect(recovered.records == Array(records.prefix(2)), context)
                #expect(recovered.report.tornTail?.offset == Self.lastRecordStart, context)
            } catch {
                switch error {
                case .damaged(let file, let damagedOffset, _):
                    #expect(offset < Self.lastRecordStart, context)
                    #expect(file == path, context)
                    #expect(damagedOffset <= offset, context)
                case .unsupportedVersion(let file, let version):
                    // The version field, flipped to a higher number, reads as a file from a newer merit.
                    #expect((8..<12).contains(offset), context)
                    #expect(file == path && version > 1, context)
                default:
                    Issue.record("unexpected \(error); \(context)")
                }
                #expect(fileSystem.durableContents(path) == original.withBitFlipped(at: offset, bit: bit), context)
            }
        }
    }

    @Test("Damage in a record that a valid record follows stops the start, naming the record's offset")
    func damageBeforeValidRecord() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [100, 100, 100])
        let original = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(original)
        fileSystem.corrupt(segmentPath(1), at: offsets[1] + 50, xor: 0xFF)
        let error = try #require(openError(fileSystem))
        guard case .damaged(let file, let offset, let reason) = error else {
            Issue.record("expected damage, got \(error)")
            return
        }
        #expect(file == segmentPath(1))
        #expect(offset == offsets[1])
        #expect(reason.contains("checksum"))
        #expect(error.description.contains("\(segmentPath(1)) is damaged at offset \(offsets[1])"))
    }

    @Test("A length over the maximum is rejected before anything is allocated")
    func hugeLength() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [8, 8, 8])
        let original = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(original)
        var bytes = original
        // 0xFFFFFFF0 bytes: far over the maximum and the file.
        bytes.replaceSubrange((offsets[1] + 4)..<(offsets[1] + 8), with: [0xF0, 0xFF, 0xFF, 0xFF])
        fileSystem.setContents(segmentPath(1), bytes)
        guard case .damaged(_, let offset, let reason) = openError(fileSystem) else {
            Issue.record("expected damage")
            return
        }
        #expect(offset == offsets[1])
        #expect(reason.contains("exceeds the maximum"))
    }

    @Test("A length past the end of the file in the last record is a torn tail")
    func lengthPastEnd() throws {
        let (fileSystem, records) = try simulatedLog(sizes: [8, 8, 8])
        let original = try fileSystem.readFile(segmentPath(1))
        let last = try #require(recordOffsets(original).last)
        var bytes = original
        bytes[last + 4] = 200
        fileSystem.setContents(segmentPath(1), bytes)
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records == Array(records.prefix(2)))
        #expect(recovered.report.tornTail?.offset == last)
    }

    @Test("An intact record longer than this reader's maximum is damage, never cut off as torn")
    func intactRecordOverMaximum() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [200, 200])
        let before = try fileSystem.readFile(segmentPath(1))
        let error = openError(fileSystem, options: LogOptions(maximumRecordBytes: 100))
        guard case .damaged(_, let offset, let reason) = error else {
            Issue.record("expected damage, got \(String(describing: error))")
            return
        }
        #expect(offset == LogFormat.segmentHeaderBytes)
        #expect(reason.contains("intact"))
        #expect(fileSystem.durableContents(segmentPath(1)) == before)
    }

    @Test("An empty segment that is not the newest is damage")
    func emptyOlderSegment() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 100)
        let recovered = try openLog(fileSystem, options: options)
        _ = try recovered.log.commitRecords(sizes: [90, 90, 90, 90])
        recovered.log.close()
        let names = try segmentNames(fileSystem)
        #expect(names.count >= 3)
        fileSystem.setContents(dataDirectory + "/" + names[1], [])
        guard case .damaged(let file, let offset, _) = openError(fileSystem, options: options) else {
            Issue.record("expected damage")
            return
        }
        #expect(file == dataDirectory + "/" + names[1])
        #expect(offset == 0)
    }

    @Test("A segment header from a newer format is reported as such")
    func futureVersion() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [8])
        var bytes = try fileSystem.readFile(segmentPath(1))
        bytes[8] = 3
        // A newer format's header may be laid out differently, so its checksum is not what is judged.
        fileSystem.setContents(segmentPath(1), bytes)
        let error = openError(fileSystem)
        guard case .unsupportedVersion(let file, let version) = error else {
            Issue.record("expected an unsupported version, got \(String(describing: error))")
            return
        }
        #expect(file == segmentPath(1))
        #expect(version == 3)
        #expect(error?.description.contains("format version 3") == true)
    }

    @Test("A snapshot from a newer format is reported as such")
    func futureSnapshotVersion() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [8])
        let recovered = try openLog(fileSystem)
        try recovered.log.writeSnapshot([1, 2, 3])
        recovered.log.close()
        var bytes = try fileSystem.readFile(snapshotPath(1))
        bytes[8] = 7
        fileSystem.setContents(snapshotPath(1), bytes)
        guard case .unsupportedVersion(let file, 7) = openError(fileSystem) else {
            Issue.record("expected an unsupported version")
            return
        }
        #expect(file == snapshotPath(1))
    }

    @Test("A bad magic is damage at offset 0")
    func badMagic() throws {
        let (fileSystem, _) = try simulatedLog(sizes: [8])
        fileSystem.corrupt(segmentPath(1), at: 0, xor: 0x20)
        guard case .damaged(_, 0, let reason) = openError(fileSystem) else {
            Issue.record("expected damage at offset 0")
            return
        }
        #expect(reason.contains("MERITLOG"))
    }

    @Test(
        "A gap or a duplicate sequence inside a segment is damage, even at the end",
        arguments: [[1, 2, 4], [1, 2, 2], [1, 3], [2]] as [[UInt64]])
    func sequenceFaults(sequences: [UInt64]) throws {
        let fileSystem = SimulatedFileSystem()
        let records = sequences.map { (sequence: $0, payload: payload(seed: Int($0), count: 16)) }
        let segment = handmadeSegment(first: 1, records: records)
        fileSystem.setContents(segmentPath(1), segment)
        let badIndex = try #require(sequences.indices.first { sequences[$0] != UInt64($0 + 1) })
        guard case .damaged(let file, let offset, let reason) = openError(fileSystem) else {
            Issue.record("expected damage")
            return
        }
        #expect(file == segmentPath(1))
        #expect(offset == recordOffsets(segment)[badIndex])
        #expect(reason.contains("sequence"))
        #expect(fileSystem.durableContents(segmentPath(1)) == segment, "nothing is cut off")
    }

    @Test("A missing middle segment is damage naming the range")
    func missingMiddleSegment() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 100)
        let recovered = try openLog(fileSystem, options: options)
        _ = try recovered.log.commitRecords(sizes: [90, 90, 90, 90])
        recovered.log.close()
        let names = try segmentNames(fileSystem)
        try fileSystem.removeFile(dataDirectory + "/" + names[1])
        guard case .damaged(let file, _, let reason) = openError(fileSystem, options: options) else {
            Issue.record("expected damage")
            return
        }
        #expect(file == dataDirectory + "/" + names[2])
        #expect(reason.contains("missing"))
    }

    @Test("Missing first segments with no snapshot are damage naming the range")
    func missingFirstSegments() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 100)
        let recovered = try openLog(fileSystem, options: options)
        _ = try recovered.log.commitRecords(sizes: [90, 90, 90])
        recovered.log.close()
        try fileSystem.removeFile(segmentPath(1))
        guard case .damaged(_, _, let reason) = openError(fileSystem, options: options) else {
            Issue.record("expected damage")
            return
        }
        #expect(reason.contains("records 1…1 are missing"))
    }

    @Test("A header whose first sequence differs from its name is damage")
    func headerNameMismatch() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents(segmentPath(1), handmadeSegment(first: 5, records: []))
        guard case .damaged(let file, 0, let reason) = openError(fileSystem) else {
            Issue.record("expected damage")
            return
        }
        #expect(file == segmentPath(1))
        #expect(reason.contains("file name"))
    }
}

extension [UInt8] {
    /// A copy with one bit flipped.
    func withBitFlipped(at offset: Int, bit: Int) -> [UInt8] {
        var copy = self
        copy[offset] ^= UInt8(1) << bit
        return copy
    }
}
