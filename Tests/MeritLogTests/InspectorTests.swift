import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("Verification and repair")
struct InspectorTests {
    /// Everything a simulated file system holds, to show that verification changed nothing.
    struct State: Equatable {
        var files: [String: [UInt8]]
        var directories: Set<String>
        var writes: Int
        var synchronizations: Int

        init(_ fileSystem: SimulatedFileSystem) {
            files = fileSystem.currentFiles()
            directories = fileSystem.currentDirectories()
            writes = fileSystem.writeCount
            synchronizations = fileSystem.synchronizeCount
        }
    }

    /// The files other than `LOCK`, which taking the lock rewrites with our pid.
    static func withoutLock(_ files: [String: [UInt8]]) -> [String: [UInt8]] {
        files.filter { !$0.key.hasSuffix("/LOCK") }
    }

    /// A log over several segments, with a snapshot, closed.
    static func multiSegmentLog() throws -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        let recovered = try openLog(fileSystem, options: LogOptions(maximumSegmentBytes: 200))
        _ = try recovered.log.commitRecords(sizes: Array(repeating: 50, count: 10))
        try recovered.log.writeSnapshot([1, 2, 3])
        _ = try recovered.log.commitRecords(sizes: Array(repeating: 50, count: 5))
        recovered.log.close()
        return fileSystem
    }

    @Test("A healthy directory verifies as healthy, and nothing changes")
    func healthy() throws {
        let fileSystem = try Self.multiSegmentLog()
        let before = State(fileSystem)
        let report = LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem)
        #expect(State(fileSystem) == before)
        #expect(report.isHealthy)
        #expect(report.damage.isEmpty)
        #expect(report.tornTail == nil)
        #expect(report.records == 15)
        #expect(report.lastSequence == 15)
        #expect(report.segments == (try segmentNames(fileSystem).count))
        #expect(report.snapshots.map(\.sequence) == [10])
        #expect(report.snapshots.allSatisfy { $0.valid })
        #expect(report.summary.first?.contains("15 records") == true)
    }

    @Test("A torn tail is reported, healthy, and left in place")
    func tornTail() throws {
        let fileSystem = try Self.multiSegmentLog()
        let newest = try #require(try segmentNames(fileSystem).last)
        let path = dataDirectory + "/" + newest
        // The segment ends in zeros laid down ahead of its records; three bytes land after them.
        let original = try fileSystem.readFile(path)
        let recordsEnd = try #require(recordOffsets(original).first { original[$0 + 4] == 0 })
        #expect(recordsEnd < original.count)
        fileSystem.setContents(path, original + [7, 7, 7])
        let before = State(fileSystem)
        let report = LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem)
        #expect(State(fileSystem) == before)
        #expect(report.isHealthy)
        let length = original.count + 3 - recordsEnd
        #expect(report.tornTail == TornTail(file: path, offset: recordsEnd, length: length))
        #expect(report.summary.contains { $0.contains("torn tail: \(length) bytes") })
    }

    @Test("Damage is reported, naming the file and offset, and left in place")
    func damage() throws {
        let fileSystem = try Self.multiSegmentLog()
        let oldest = segmentPath(1)
        let offsets = recordOffsets(try fileSystem.readFile(oldest))
        fileSystem.corrupt(oldest, at: offsets[0] + 25, xor: 0x40)
        let before = State(fileSystem)
        let report = LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem)
        #expect(State(fileSystem) == before)
        #expect(!report.isHealthy)
        guard case .damaged(let file, let offset, _)? = report.damage.first else {
            Issue.record("expected damage, got \(report.damage)")
            return
        }
        #expect(file == oldest)
        #expect(offset == offsets[0])
        #expect(report.summary.contains { $0.hasPrefix("damage: \(oldest) is damaged at offset \(offsets[0])") })
    }

    @Test("An unreadable snapshot is damage")
    func unreadableSnapshot() throws {
        let fileSystem = try Self.multiSegmentLog()
        fileSystem.corrupt(snapshotPath(10), at: 37, xor: 1)
        let report = LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem)
        #expect(!report.isHealthy)
        #expect(report.snapshots.first?.valid == false)
    }

    @Test("A directory that does not exist is reported, not created")
    func missingDirectory() {
        let fileSystem = SimulatedFileSystem()
        let report = LogInspector.verify(directory: "/nowhere", fileSystem: fileSystem)
        #expect(!report.isHealthy)
        #expect(!fileSystem.fileExists("/nowhere"))
    }

    @Test("Repair keeps the records before damage in the newest segment and moves the rest aside")
    func repairNewestSegment() throws {
        let (fileSystem, records) = try simulatedLog(sizes: [30, 30, 30, 30])
        let original = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(original)
        fileSystem.corrupt(segmentPath(1), at: offsets[1] + 21, xor: 0x08)
        #expect(openError(fileSystem) != nil)

        let report = try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem)
        #expect(report.keptRecords == 1)
        #expect(report.lastSequence == 1)
        #expect(report.droppedBytes == original.count - offsets[1])
        let moved = try #require(report.movedFiles.first)
        #expect(moved.hasPrefix(dataDirectory + "/aside/"))
        #expect(fileSystem.durableContents(moved)?.count == original.count - offsets[1])
        #expect(LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem).isHealthy)

        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.records == Array(records.prefix(1)))
        #expect(recovered.report.tornTail == nil)
        #expect(try recovered.log.commitRecords(sizes: [1]).map(\.sequence) == [2])
    }

    @Test("Repair cuts an older segment at its damage and moves every later segment aside")
    func repairOlderSegment() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 150)
        let recovered = try openLog(fileSystem, options: options)
        let records = try recovered.log.commitRecords(sizes: Array(repeating: 40, count: 9))
        recovered.log.close()
        let names = try segmentNames(fileSystem)
        #expect(names.count >= 3)
        let firstSegment = try fileSystem.readFile(segmentPath(1))
        let offsets = recordOffsets(firstSegment)
        #expect(offsets.count >= 2)
        fileSystem.corrupt(segmentPath(1), at: offsets[1] + 30, xor: 0x01)

        let report = try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem, options: options)
        #expect(report.keptRecords == 1)
        #expect(report.movedFiles.count == names.count)
        #expect(try segmentNames(fileSystem) == [names[0]])
        #expect(report.summary.last?.contains("kept 1 records up to sequence 1") == true)

        let reopened = try openLog(fileSystem, options: options)
        defer { reopened.log.close() }
        #expect(reopened.records == Array(records.prefix(1)))
    }

    @Test("Repair of a healthy log changes nothing but says so")
    func repairHealthy() throws {
        let fileSystem = try Self.multiSegmentLog()
        let files = fileSystem.currentFiles()
        let report = try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem)
        #expect(report.movedFiles.isEmpty)
        #expect(report.droppedBytes == 0)
        #expect(report.lastSequence == 15)
        #expect(report.summary.first?.contains("nothing to repair") == true)
        #expect(Self.withoutLock(fileSystem.currentFiles()) == Self.withoutLock(files))
    }

    @Test("Repair moves unreadable snapshots and damaged covered segments aside")
    func repairSnapshotsAndCoveredSegments() throws {
        let fileSystem = try Self.multiSegmentLog()
        fileSystem.setContents(snapshotPath(12), [1, 2, 3])
        fileSystem.corrupt(segmentPath(1), at: 60, xor: 0x01)
        #expect(!LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem).isHealthy)

        let report = try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem)
        #expect(report.movedFiles.contains(dataDirectory + "/aside/" + LogFormat.snapshotName(sequence: 12)))
        #expect(report.movedFiles.contains(dataDirectory + "/aside/" + LogFormat.segmentName(firstSequence: 1)))
        #expect(LogInspector.verify(directory: dataDirectory, fileSystem: fileSystem).isHealthy)
        let recovered = try openLog(fileSystem)
        defer { recovered.log.close() }
        #expect(recovered.report.skippedSnapshots.isEmpty)
        #expect(recovered.snapshot?.sequence == 10)
        #expect(recovered.records.map(\.sequence) == Array(11...15))
    }

    @Test("Repair of a log whose first records are missing keeps what a start can use")
    func repairMissingStart() throws {
        let fileSystem = SimulatedFileSystem()
        let options = LogOptions(maximumSegmentBytes: 100)
        let recovered = try openLog(fileSystem, options: options)
        _ = try recovered.log.commitRecords(sizes: [90, 90, 90])
        recovered.log.close()
        try fileSystem.removeFile(segmentPath(1))
        #expect(openError(fileSystem, options: options) != nil)
        let report = try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem, options: options)
        #expect(report.keptRecords == 0)
        let reopened = try openLog(fileSystem, options: options)
        defer { reopened.log.close() }
        #expect(reopened.records.isEmpty)
    }
}

extension InspectorTests {
    @Test("Repair leaves a log from a newer format untouched")
    func repairNewerFormat() throws {
        let fileSystem = try Self.multiSegmentLog()
        let newest = try #require(try segmentNames(fileSystem).last)
        var bytes = try fileSystem.readFile(dataDirectory + "/" + newest)
        bytes[8] = 3
        fileSystem.setContents(dataDirectory + "/" + newest, bytes)
        fileSystem.corrupt(segmentPath(1), at: 60, xor: 0x01)
        let files = fileSystem.currentFiles()
        #expect {
            try LogInspector.repair(directory: dataDirectory, fileSystem: fileSystem)
        } throws: { error in
            guard case .unsupportedVersion(_, 3) = error as? LogError else { return false }
            return true
        }
        #expect(Self.withoutLock(fileSystem.currentFiles()) == Self.withoutLock(files))
    }
}
