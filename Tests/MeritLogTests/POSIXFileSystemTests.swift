import Foundation
import MeritTestSupport
import Testing

@testable import MeritLog

@Suite("The real file system")
struct POSIXFileSystemTests {
    @Test("contents(of:) maps a file to exactly the bytes readFile reads, and reads an empty one")
    func mappedContents() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-map")
        let fileSystem = POSIXFileSystem()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try fileSystem.writeFileAtomically(directory.path + "/full", bytes)
        try fileSystem.writeFileAtomically(directory.path + "/empty", [])
        #expect(try fileSystem.contents(of: directory.path + "/full").withBytes { Array($0) } == bytes)
        #expect(try fileSystem.contents(of: directory.path + "/empty").withBytes { $0.count } == 0)
        #expect(throws: FileSystemError.self) { try fileSystem.contents(of: directory.path + "/missing") }
    }

    @Test("a file written in paced chunks holds exactly its parts, chunk boundaries inside and across the parts")
    func pacedWrite() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-paced")
        let fileSystem = POSIXFileSystem()
        let header = Array("header".utf8)
        let large = (0..<(3 << 20) + 12345).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
        let cases: [(payload: [UInt8], chunk: Int?)] = [
            (large, 1 << 20), (large, 65536), (large, nil), (Array(large.prefix(100)), 7), (Array(large.prefix(3)), 5),
        ]
        for (index, (payload, chunk)) in cases.enumerated() {
            let path = directory.path + "/paced-\(index)"
            try header.withUnsafeBytes { header in
                try payload.withUnsafeBytes { payload in
                    try fileSystem.writeFileAtomically(path, parts: [header, payload], pacedBy: chunk)
                }
            }
            #expect(try fileSystem.readFile(path) == header + payload, "case \(index)")
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        }
    }

    @Test("A second open of a locked directory fails naming our pid; after close it opens")
    func locking() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-lock")
        let first = try openLog(POSIXFileSystem(), directory: directory.path)
        let error = openError(POSIXFileSystem(), directory: directory.path)
        guard case .locked(let lockedDirectory, let holder)? = error else {
            Issue.record("expected .locked, got \(String(describing: error))")
            return
        }
        #expect(lockedDirectory == directory.path)
        #expect(holder == getpid())
        #expect(error?.description.contains("in use by another merit process (pid \(getpid()))") == true)
        // Repair takes the lock too.
        #expect(throws: LogError.self) { try LogInspector.repair(directory: directory.path) }

        first.log.close()
        let second = try openLog(POSIXFileSystem(), directory: directory.path)
        second.log.close()
    }

    @Test("Closing another descriptor of the lock file does not drop the lock")
    func lockSurvivesOtherClose() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-lock")
        let first = try openLog(POSIXFileSystem(), directory: directory.path)
        defer { first.log.close() }
        // A plain fcntl lock would be released by this close; flock's is not.
        let descriptor = open(directory.path("LOCK"), O_RDONLY)
        #expect(descriptor >= 0)
        close(descriptor)
        guard case .locked? = openError(POSIXFileSystem(), directory: directory.path) else {
            Issue.record("the lock was dropped")
            return
        }
    }

    @Test("Records, rolls, snapshots and torn tails work on disk")
    func roundTripOnDisk() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-disk")
        let options = LogOptions(maximumSegmentBytes: 4_096)
        let first = try openLog(POSIXFileSystem(), directory: directory.path, options: options)
        var written = try first.log.commitRecords(sizes: Array(repeating: 1_000, count: 10))
        try first.log.writeSnapshot(Array("state".utf8))
        written += try first.log.commitRecords(sizes: [0, 1, 100_000])
        first.log.close()

        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.hasSuffix(".tmp") })
        #expect(names.contains("LOCK"))
        #expect(names.contains(LogFormat.snapshotName(sequence: 10)))

        // A torn tail: half a record header of garbage after the last record.
        let newest = try #require(try segmentNames(POSIXFileSystem(), directory: directory.path).last)
        let handle = try #require(FileHandle(forWritingAtPath: directory.path(newest)))
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        try handle.close()

        let second = try openLog(POSIXFileSystem(), directory: directory.path, options: options)
        defer { second.log.close() }
        #expect(second.snapshot?.sequence == 10)
        #expect(second.snapshot?.payload == Array("state".utf8))
        #expect(second.records == Array(written.suffix(3)))
        let torn = try #require(second.report.tornTail)
        #expect(torn.length == 10)
        let saved = try #require(torn.savedAs)
        #expect(FileManager.default.contents(atPath: saved) == Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    }

    @Test("Errors name the operation, the path and the system's words")
    func errors() {
        let fileSystem = POSIXFileSystem()
        do {
            _ = try fileSystem.readFile("/nonexistent/merit/file")
            Issue.record("read a file that does not exist")
        } catch {
            #expect(error.errorNumber == ENOENT)
            #expect(error.description == "open /nonexistent/merit/file: No such file or directory")
        }
        let error = FileSystemError(operation: "fdatasync", path: "log-00000000000000000001.seg", errorNumber: ENOSPC)
        #expect(error.description == "fdatasync log-00000000000000000001.seg: No space left on device")
    }

    @Test("Atomic writes, positional writes, truncation and listing behave as the protocol says")
    func primitives() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-fs")
        let fileSystem = POSIXFileSystem()
        let path = directory.path("file")
        try fileSystem.writeFileAtomically(path, [1, 2, 3])
        #expect(try fileSystem.readFile(path) == [1, 2, 3])
        try fileSystem.writeFileAtomically(path, [4, 5])
        #expect(try fileSystem.readFile(path) == [4, 5])
        let handle = try fileSystem.openForWriting(path)
        let written = try [UInt8]([6, 7, 8]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 2) }
        #expect(written == 3)
        try fileSystem.synchronize(handle)
        try fileSystem.truncate(handle, to: 1)
        _ = try [UInt8]([9]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 1) }
        _ = try [UInt8]([3]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 0) }
        _ = try [UInt8]([5]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 4) }
        fileSystem.close(handle)
        #expect(
            try fileSystem.readFile(path) == [3, 9, 0, 0, 5], "writes land where they are told, a gap reads as zeros")
        try fileSystem.createDirectory(directory.path("a/b"))
        #expect(Set(try fileSystem.listDirectory(directory.path)) == ["file", "a"])
        try fileSystem.rename(path, directory.path("a/b/moved"))
        #expect(fileSystem.fileExists(directory.path("a/b/moved")))
        try fileSystem.removeFile(directory.path("a/b/moved"))
        #expect(!fileSystem.fileExists(directory.path("a/b/moved")))
        try fileSystem.synchronizeDirectory(directory.path)
    }

    @Test("Verification of a directory on disk changes nothing")
    func verifyChangesNothingOnDisk() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-verify")
        let recovered = try openLog(
            POSIXFileSystem(), directory: directory.path, options: LogOptions(preallocationBytes: 0))
        _ = try recovered.log.commitRecords(sizes: [10, 20])
        recovered.log.close()
        let path = segmentPath(1, directory: directory.path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x5A, count: 100))
        try handle.close()

        let before = try Self.snapshotOfTree(directory.path)
        let report = LogInspector.verify(directory: directory.path)
        #expect(report.isHealthy)
        #expect(report.tornTail?.length == 100)
        #expect(try Self.snapshotOfTree(directory.path) == before)
    }

    /// Every file under `path` with its contents and modification time.
    static func snapshotOfTree(_ path: String) throws -> [String: String] {
        var tree: [String: String] = [:]
        let manager = FileManager.default
        guard let enumerator = manager.enumerator(atPath: path) else { return tree }
        for case let name as String in enumerator {
            let full = path + "/" + name
            let attributes = try manager.attributesOfItem(atPath: full)
            let contents = manager.contents(atPath: full).map { Array($0).description } ?? "directory"
            tree[name] = "\(contents) \(String(describing: attributes[.modificationDate]))"
        }
        return tree
    }
}

@Suite("Snapshots written apart from the writer")
struct PendingSnapshotTests {
    @Test("A begun snapshot rolls at once; written, then finished, it is loaded and the records after it replayed")
    func writtenApart() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-pending")
        let recovered = try openLog(POSIXFileSystem(), directory: directory.path)
        _ = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 10))
        let pending = try #require(try recovered.log.beginSnapshot())
        #expect(pending.sequence == 10)
        #expect(recovered.log.bytesSinceSnapshot == 0)
        // The writer goes on while the snapshot is written.
        let tail = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 5))
        try SnapshotTests.state(at: 10).withBytes { bytes throws(LogError) in try pending.write(bytes) }
        recovered.log.finishSnapshot(pending)
        recovered.log.close()

        let reopened = try openLog(POSIXFileSystem(), directory: directory.path)
        defer { reopened.log.close() }
        #expect(reopened.snapshot?.sequence == 10)
        #expect(reopened.snapshot?.payload == SnapshotTests.state(at: 10))
        #expect(reopened.records == tail)
        #expect(reopened.report.lastSequence == 15)
    }

    @Test("A snapshot begun and never written leaves every record to replay")
    func neverWritten() throws {
        let directory = TemporaryDirectory(prefix: "merit-log-unwritten")
        let recovered = try openLog(POSIXFileSystem(), directory: directory.path)
        let head = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 10))
        _ = try #require(try recovered.log.beginSnapshot())
        let tail = try recovered.log.commitRecords(sizes: Array(repeating: 30, count: 5))
        recovered.log.close()

        let reopened = try openLog(POSIXFileSystem(), directory: directory.path)
        defer { reopened.log.close() }
        #expect(reopened.snapshot == nil)
        #expect(reopened.records == head + tail)
    }

    @Test("Only the real file system may be written from another thread: on any other, begin gives nil")
    func simulatedWritesInPlace() throws {
        let recovered = try openLog(SimulatedFileSystem())
        defer { recovered.log.close() }
        _ = try recovered.log.commitRecords(sizes: [5])
        #expect(try recovered.log.beginSnapshot() == nil)
        #expect(recovered.log.bytesSinceSnapshot == 25)
    }
}
