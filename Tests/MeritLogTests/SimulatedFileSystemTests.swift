import MeritTestSupport
import Testing

@testable import MeritLog

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The simulated file system")
struct SimulatedFileSystemTests {
    @Test("Unsynchronized contents are lost by a crash, synchronized ones kept")
    func contents() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents("/d/file", [1])
        let handle = try fileSystem.openForWriting("/d/file")
        _ = try [UInt8]([2, 3]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 1) }
        try fileSystem.synchronize(handle)
        _ = try [UInt8]([4]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 3) }
        #expect(try fileSystem.readFile("/d/file") == [1, 2, 3, 4])
        #expect(fileSystem.durableContents("/d/file") == [1, 2, 3])
        fileSystem.crash()
        #expect(try fileSystem.readFile("/d/file") == [1, 2, 3])
        #expect(throws: FileSystemError.self) {
            _ = try [UInt8]([5]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 3) }
        }
    }

    @Test("Positional writes go over the contents and past the end, and a crash keeps what it is told to of them")
    func positionalWrites() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents("/d/file", [1, 0, 0, 0, 0, 0])
        let handle = try fileSystem.openForWriting("/d/file")
        _ = try [UInt8]([7, 8]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 9) }
        #expect(try fileSystem.readFile("/d/file") == [1, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8], "a gap reads as zeros")
        try fileSystem.truncate(handle, to: 6)
        try fileSystem.synchronize(handle)
        _ = try [UInt8]([2, 3, 4, 5, 6, 7, 8]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 1) }
        #expect(try fileSystem.readFile("/d/file") == [1, 2, 3, 4, 5, 6, 7, 8])
        fileSystem.crash(keepingUnsynchronizedBytes: 3)
        #expect(
            try fileSystem.readFile("/d/file") == [1, 2, 3, 4, 0, 0],
            "the first three bytes changed survive, over the zeros, and the file keeps its durable size")
        let again = try fileSystem.openForWriting("/d/file")
        _ = try [UInt8]([9, 9, 9, 9, 9, 9]).withUnsafeBytes { try fileSystem.write(again, $0, at: 4) }
        fileSystem.crash(keepingUnsynchronizedBytes: 4)
        #expect(try fileSystem.readFile("/d/file") == [1, 2, 3, 4, 9, 9, 9, 9], "and past the end")
    }

    @Test("Directory entries need a directory synchronization to survive")
    func entries() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        try fileSystem.writeFileAtomically("/d/kept", [1])
        fileSystem.setContents("/d/old", [2])
        try fileSystem.rename("/d/old", "/d/new")
        try fileSystem.removeFile("/d/kept")
        #expect(Set(try fileSystem.listDirectory("/d")) == ["new"])
        fileSystem.crash()
        #expect(Set(try fileSystem.listDirectory("/d")) == ["kept", "old"])
        try fileSystem.rename("/d/old", "/d/new")
        try fileSystem.synchronizeDirectory("/d")
        fileSystem.crash()
        #expect(Set(try fileSystem.listDirectory("/d")) == ["kept", "new"])
    }

    @Test("An interrupted atomic write leaves the old file")
    func atomicWrite() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents("/d/file", [1])
        fileSystem.failSynchronize = { _ in 5 }
        #expect(throws: FileSystemError.self) { try fileSystem.writeFileAtomically("/d/file", [2]) }
        #expect(try fileSystem.readFile("/d/file") == [1])
        #expect(!fileSystem.fileExists("/d/file.tmp"))
    }

    @Test("Write faults fail or shorten the chosen call")
    func writeFaults() throws {
        let fileSystem = SimulatedFileSystem()
        fileSystem.setContents("/d/file", [])
        let handle = try fileSystem.openForWriting("/d/file")
        fileSystem.failWrite = { $0 == 1 ? .short(2) : $0 == 2 ? .error(28) : nil }
        let written = try [UInt8]([1, 2, 3]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 0) }
        #expect(written == 2)
        do {
            _ = try [UInt8]([3]).withUnsafeBytes { try fileSystem.write(handle, $0, at: 2) }
            Issue.record("the write succeeded")
        } catch {
            #expect((error as? FileSystemError)?.errorNumber == 28)
        }
        #expect(fileSystem.writeCount == 2)
        #expect(try fileSystem.readFile("/d/file") == [1, 2])
    }

    @Test("Locks conflict until released, and a crash releases them")
    func locks() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        let lock = try fileSystem.lockExclusively("/d/LOCK")
        do {
            _ = try fileSystem.lockExclusively("/d/LOCK")
            Issue.record("locked twice")
        } catch {
            #expect(error.isLockHeldElsewhere)
            #expect(error.holderPID == getpid())
        }
        lock.release()
        let again = try fileSystem.lockExclusively("/d/LOCK")
        fileSystem.crash()
        let afterCrash = try fileSystem.lockExclusively("/d/LOCK")
        // Releasing a lock from before the crash must not release the one taken after it.
        again.release()
        #expect(throws: FileSystemError.self) { _ = try fileSystem.lockExclusively("/d/LOCK") }
        afterCrash.release()
    }
}
