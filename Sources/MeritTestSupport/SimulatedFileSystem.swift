import MeritLog
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How an injected write fault behaves.
public enum FaultKind: Sendable {
    /// The write fails with this `errno` (such as `EIO` or `ENOSPC`) and writes nothing.
    case error(Int32)
    /// The write stores only this many bytes (fewer than asked) and reports that.
    case short(Int)
}

/// An in-memory file system for tests that models what is durable: file contents written but not synchronized,
/// and directory entries (creates, renames, removals) not followed by `synchronizeDirectory`, are lost by `crash()`.
///
/// Files are inodes reached through directory entries, as on a real file system: a rename moves the entry, a
/// handle keeps writing to its inode after the entry is renamed or removed, and synchronizing a file makes its
/// contents durable but not its entry. Directories themselves are durable as soon as they are created (the real
/// file system synchronizes the parent after `mkdir`). A failed `synchronize` makes nothing durable.
///
/// Not thread-safe: one test drives it.
public final class SimulatedFileSystem: FileSystem {
    /// A file's contents as the running process sees them and as they would survive a crash.
    private struct Inode {
        var current: [UInt8] = []
        var durable: [UInt8] = []
    }

    private var inodes: [Int: Inode] = [:]
    private var nextInode = 1
    /// Path → inode, as the running process sees the directories.
    private var entries: [String: Int] = [:]
    /// Path → inode, as they would survive a crash.
    private var durableEntries: [String: Int] = [:]
    private var directories: Set<String> = ["/", "."]
    /// Open handles → inode and the path they were opened with.
    private var handles: [Int32: (inode: Int, path: String)] = [:]
    /// Handle numbers are never reused, so that a handle from before a crash can never reach a file opened after.
    private var nextHandle: Int32 = 3
    private let locks = SimulatedLockTable()

    /// Called with the 1-based count of `write` calls (including those inside `writeFileAtomically`); returns a
    /// fault to inject into that call, or `nil` to let it succeed.
    public var failWrite: ((_ count: Int) -> FaultKind?)?
    /// Called with the 1-based count of synchronizations (of files and directories, including those inside
    /// `writeFileAtomically`); returns an `errno` to fail that one with, or `nil` to let it succeed.
    public var failSynchronize: ((_ count: Int) -> Int32?)?
    /// How many `write` calls were made.
    public private(set) var writeCount = 0
    /// How many synchronizations of files and directories were made.
    public private(set) var synchronizeCount = 0

    /// An empty file system holding only the root directory.
    public init() {}

    // MARK: - Test controls

    /// Lose everything not durable, as a power failure would: unsynchronized contents and directory entries revert
    /// to their last synchronized state, every handle becomes invalid, and every lock is released.
    ///
    /// `keepingUnsynchronizedBytes` models a write that partly reached the disk before the power failed: of the bytes
    /// changed in a file since it was last synchronized, up to that many survive from the first one changed on (a
    /// torn tail, whether the write went past the end or over zeros laid down before it).
    public func crash(keepingUnsynchronizedBytes kept: Int = 0) {
        entries = durableEntries
        for (number, inode) in inodes {
            var survivor = inode.durable
            let common = min(inode.current.count, inode.durable.count)
            let changed = (0..<common).first { inode.current[$0] != inode.durable[$0] } ?? common
            if kept > 0 && changed < inode.current.count {
                let end = min(inode.current.count, changed + kept)
                if survivor.count < end { survivor += [UInt8](repeating: 0, count: end - survivor.count) }
                survivor.replaceSubrange(changed..<end, with: inode.current[changed..<end])
            }
            inodes[number]?.current = survivor
            inodes[number]?.durable = survivor
        }
        let reachable = Set(entries.values)
        inodes = inodes.filter { reachable.contains($0.key) }
        handles.removeAll()
        locks.releaseAll()
    }

    /// The contents of `path` that would survive a crash now, or `nil` if its entry would not.
    public func durableContents(_ path: String) -> [UInt8]? {
        guard let inode = durableEntries[path] else { return nil }
        return inodes[inode]?.durable
    }

    /// Flip bits of the byte at `offset` in the current contents and, where it reaches that far, the durable ones.
    public func corrupt(_ path: String, at offset: Int, xor mask: UInt8) {
        guard let number = entries[path] ?? durableEntries[path], var inode = inodes[number] else { return }
        if offset < inode.current.count { inode.current[offset] ^= mask }
        if offset < inode.durable.count { inode.durable[offset] ^= mask }
        inodes[number] = inode
    }

    /// Create or replace the file at `path` with `bytes`, durably (entry and contents), creating its directory;
    /// for building fixtures.
    public func setContents(_ path: String, _ bytes: [UInt8]) {
        addDirectory(parentDirectory(of: path))
        let number = entries[path] ?? makeInode()
        inodes[number] = Inode(current: bytes, durable: bytes)
        entries[path] = number
        durableEntries[path] = number
    }

    /// Every file as the running process sees it, by path; for comparing states in tests.
    public func currentFiles() -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for (path, number) in entries {
            files[path] = inodes[number]?.current ?? []
        }
        return files
    }

    /// Every directory, for comparing states in tests.
    public func currentDirectories() -> Set<String> { directories }

    // MARK: - FileSystem

    /// The current contents of the file.
    public func readFile(_ path: String) throws(FileSystemError) -> [UInt8] {
        if directories.contains(path) { throw FileSystemError(operation: "read", path: path, errorNumber: EISDIR) }
        guard let number = entries[path], let inode = inodes[number] else {
            throw FileSystemError(operation: "open", path: path, errorNumber: ENOENT)
        }
        return inode.current
    }

    /// Whether a file or directory exists at `path`.
    public func fileExists(_ path: String) -> Bool {
        entries[path] != nil || directories.contains(path)
    }

    /// Names of the files and directories directly inside `path`.
    public func listDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard directories.contains(path) else {
            throw FileSystemError(operation: "opendir", path: path, errorNumber: ENOENT)
        }
        var names: [String] = []
        for entry in entries.keys where parentDirectory(of: entry) == path {
            names.append(lastPathComponent(of: entry))
        }
        for directory in directories where directory != path && parentDirectory(of: directory) == path {
            names.append(lastPathComponent(of: directory))
        }
        return names
    }

    /// Create the directory and its parents; durable at once.
    public func createDirectory(_ path: String) throws(FileSystemError) {
        if entries[path] != nil { throw FileSystemError(operation: "mkdir", path: path, errorNumber: ENOTDIR) }
        addDirectory(path)
    }

    /// A new handle on the existing file's inode.
    public func openForWriting(_ path: String) throws(FileSystemError) -> FileHandleNumber {
        guard let number = entries[path] else {
            throw FileSystemError(operation: "open", path: path, errorNumber: ENOENT)
        }
        return makeHandle(inode: number, path: path)
    }

    /// Write over and past the end of the inode's current contents at `offset` (a gap before it filled with zeros),
    /// unless `failWrite` injects a fault.
    public func write(_ handle: FileHandleNumber, _ bytes: UnsafeRawBufferPointer, at offset: Int)
        throws(FileSystemError) -> Int
    {
        let (number, path) = try openFile(handle, operation: "write")
        writeCount += 1
        var count = bytes.count
        switch failWrite?(writeCount) {
        case .error(let errorNumber)?:
            throw FileSystemError(operation: "write", path: path, errorNumber: errorNumber)
        case .short(let length)?:
            count = max(0, min(length, bytes.count))
        case nil:
            break
        }
        guard offset >= 0 else { throw FileSystemError(operation: "pwrite", path: path, errorNumber: EINVAL) }
        guard var inode = inodes[number] else { return count }
        if inode.current.count < offset + count {
            inode.current += [UInt8](repeating: 0, count: offset + count - inode.current.count)
        }
        inode.current.replaceSubrange(
            offset..<(offset + count), with: UnsafeRawBufferPointer(rebasing: bytes[..<count]))
        inodes[number] = inode
        return count
    }

    /// Make the inode's current contents durable, unless `failSynchronize` injects a fault.
    public func synchronize(_ handle: FileHandleNumber) throws(FileSystemError) {
        let (number, path) = try openFile(handle, operation: "fdatasync")
        try countSynchronization(operation: "fdatasync", path: path)
        if let current = inodes[number]?.current { inodes[number]?.durable = current }
    }

    /// Cut (or zero-extend) the inode's current contents.
    public func truncate(_ handle: FileHandleNumber, to length: Int) throws(FileSystemError) {
        let (number, path) = try openFile(handle, operation: "ftruncate")
        guard length >= 0 else { throw FileSystemError(operation: "ftruncate", path: path, errorNumber: EINVAL) }
        guard var inode = inodes[number] else { return }
        if length < inode.current.count {
            inode.current.removeSubrange(length...)
        } else {
            inode.current += [UInt8](repeating: 0, count: length - inode.current.count)
        }
        inodes[number] = inode
    }

    /// Forget the handle.
    public func close(_ handle: FileHandleNumber) {
        handles.removeValue(forKey: handle.rawValue)
    }

    /// The same steps as the real one, each subject to faults and crashes: create `<path>.tmp`, write it,
    /// synchronize it, rename it over `path`, synchronize the directory.
    public func writeFileAtomically(_ path: String, parts: [UnsafeRawBufferPointer]) throws(FileSystemError) {
        // One buffer, written as one file's bytes always were, so that faults counted by write fall where they did.
        let bytes = parts.flatMap { Array($0) }
        let directory = parentDirectory(of: path)
        guard directories.contains(directory) else {
            throw FileSystemError(operation: "open", path: path + ".tmp", errorNumber: ENOENT)
        }
        let temporary = path + ".tmp"
        let number = makeInode()
        entries[temporary] = number
        let handle = makeHandle(inode: number, path: temporary)
        defer { close(handle) }
        do throws(FileSystemError) {
            var offset = 0
            while offset < bytes.count {
                let count = try bytes.withBytes { buffer throws(FileSystemError) in
                    try write(handle, UnsafeRawBufferPointer(rebasing: buffer[offset...]), at: offset)
                }
                if count == 0 { throw FileSystemError(operation: "write", path: temporary, errorNumber: EIO) }
                offset += count
            }
            try synchronize(handle)
            try rename(temporary, path)
        } catch {
            entries.removeValue(forKey: temporary)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    /// Move the entry; the target's old entry, if any, is replaced.
    public func rename(_ from: String, _ to: String) throws(FileSystemError) {
        guard let number = entries[from] else {
            throw FileSystemError(operation: "rename", path: from, errorNumber: ENOENT)
        }
        guard directories.contains(parentDirectory(of: to)) else {
            throw FileSystemError(operation: "rename", path: to, errorNumber: ENOENT)
        }
        entries.removeValue(forKey: from)
        entries[to] = number
    }

    /// Remove the entry; open handles keep the inode.
    public func removeFile(_ path: String) throws(FileSystemError) {
        guard entries.removeValue(forKey: path) != nil else {
            throw FileSystemError(operation: "unlink", path: path, errorNumber: ENOENT)
        }
    }

    /// Make the entries of the directory durable, unless `failSynchronize` injects a fault.
    public func synchronizeDirectory(_ path: String) throws(FileSystemError) {
        guard directories.contains(path) else {
            throw FileSystemError(operation: "open", path: path, errorNumber: ENOENT)
        }
        try countSynchronization(operation: "fsync", path: path)
        for entry in Set(entries.keys).union(durableEntries.keys) where parentDirectory(of: entry) == path {
            durableEntries[entry] = entries[entry]
        }
    }

    /// Lock `path` in this simulated machine; the pid written is this process's.
    /// Everything here is private to its owner: directories 0700, files 0600.
    public func permissions(of path: String) -> UInt32? {
        if directories.contains(path) { return 0o700 }
        return entries[path] == nil ? nil : 0o600
    }

    public func lockExclusively(_ path: String) throws(FileSystemError) -> DirectoryLock {
        guard directories.contains(parentDirectory(of: path)) else {
            throw FileSystemError(operation: "open", path: path, errorNumber: ENOENT)
        }
        guard let token = locks.acquire(path) else {
            let holder = entries[path].flatMap { inodes[$0] }.flatMap { inode in
                Int32(String(decoding: inode.current.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
            }
            throw FileSystemError(operation: "flock", path: path, errorNumber: EWOULDBLOCK, holderPID: holder)
        }
        setContents(path, Array("\(getpid())\n".utf8))
        let table = locks
        return DirectoryLock { table.release(path, token: token) }
    }

    // MARK: - Internals

    private func addDirectory(_ path: String) {
        var path = path
        while !directories.contains(path) {
            directories.insert(path)
            path = parentDirectory(of: path)
        }
    }

    private func makeInode() -> Int {
        defer { nextInode += 1 }
        inodes[nextInode] = Inode()
        return nextInode
    }

    private func makeHandle(inode: Int, path: String) -> FileHandleNumber {
        defer { nextHandle += 1 }
        handles[nextHandle] = (inode, path)
        return FileHandleNumber(rawValue: nextHandle)
    }

    private func openFile(
        _ handle: FileHandleNumber, operation: String
    ) throws(FileSystemError) -> (inode: Int, path: String) {
        guard let file = handles[handle.rawValue] else {
            throw FileSystemError(operation: operation, path: "handle \(handle.rawValue)", errorNumber: EBADF)
        }
        return file
    }

    private func countSynchronization(operation: String, path: String) throws(FileSystemError) {
        synchronizeCount += 1
        if let errorNumber = failSynchronize?(synchronizeCount) {
            throw FileSystemError(operation: operation, path: path, errorNumber: errorNumber)
        }
    }
}

/// Which simulated lock files are held, shared with the `DirectoryLock`s that release them.
private final class SimulatedLockTable: Sendable {
    /// Path → the token of the lock holding it; a token lets a lock from before a crash release nothing later.
    private let held = Mutex<(locks: [String: Int], nextToken: Int)>(([:], 1))

    func acquire(_ path: String) -> Int? {
        held.withLock { state in
            guard state.locks[path] == nil else { return nil }
            defer { state.nextToken += 1 }
            state.locks[path] = state.nextToken
            return state.nextToken
        }
    }

    func release(_ path: String, token: Int) {
        held.withLock { state in
            if state.locks[path] == token { state.locks[path] = nil }
        }
    }

    func releaseAll() {
        held.withLock { $0.locks.removeAll() }
    }
}
