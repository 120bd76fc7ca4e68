import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes of a whole file: an array, or a read-only mapping released when this goes away.
public final class FileContents {
    private let bytes: [UInt8]
    private let mapping: UnsafeRawBufferPointer?

    /// Contents held in an array.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.mapping = nil
        self.failureMessage = []
    }

    /// What a read of the mapping that fails says, before the process exits.
    private let failureMessage: [UInt8]

    /// Contents mapped with `mmap` from `path`, unmapped when this goes away.
    init(mapping: UnsafeRawBufferPointer, path: String) {
        self.bytes = []
        self.mapping = mapping
        self.failureMessage = Array(
            ("merit: reading \(path) failed: the system could not read the mapped file (an I/O error, or the file "
                + "was cut short by another program); nothing was changed\n").utf8)
    }

    deinit {
        if let mapping, let base = mapping.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mapping.count)
        }
    }

    /// Lend the bytes to `body`.
    ///
    /// A read of a mapping that the system cannot satisfy raises SIGBUS instead of returning an error; while
    /// `body` runs, that signal writes a message naming the file to stderr and exits with status 1, as a failed
    /// read would have stopped the start.
    public func withBytes<Value, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Value)
        throws(Failure) -> Value
    {
        guard let mapping else { return try bytes.withBytes(body) }
        return try failureMessage.withUnsafeBufferPointer { message throws(Failure) in
            MappedReadFailure.message = message
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                if let message = MappedReadFailure.message { _ = write(2, message.baseAddress, message.count) }
                _exit(1)
            }
            var previous = sigaction()
            sigaction(SIGBUS, &action, &previous)
            defer {
                sigaction(SIGBUS, &previous, nil)
                MappedReadFailure.message = nil
            }
            return try body(mapping)
        }
    }
}

/// The message the SIGBUS handler of a mapped read writes: set only while `FileContents.withBytes` lends a mapping.
private enum MappedReadFailure {
    nonisolated(unsafe) static var message: UnsafeBufferPointer<UInt8>?
}

extension FileSystem {
    public func contents(of path: String) throws(FileSystemError) -> FileContents {
        FileContents(try readFile(path))
    }
}

/// Operations on files the log needs: the seam where tests inject faults.
///
/// Paths are passed exactly as the log builds them (`directory + "/" + name`); implementations need not normalise
/// them. Every method that can fail throws a `FileSystemError` naming the operation and the path, so that a message
/// can tell the user which file and which system call failed.
public protocol FileSystem: AnyObject {
    /// The whole contents of the file at `path`.
    func readFile(_ path: String) throws(FileSystemError) -> [UInt8]
    /// The whole contents of the file at `path`, for reading once from start to end: replay's way to read a
    /// segment. The default reads it with `readFile`; the real file system maps it instead of copying it.
    func contents(of path: String) throws(FileSystemError) -> FileContents
    /// Whether a file or directory exists at `path`.
    func fileExists(_ path: String) -> Bool
    /// The names (not paths) of the entries of the directory at `path`, in no particular order.
    func listDirectory(_ path: String) throws(FileSystemError) -> [String]
    /// Create the directory at `path` and any missing parents; succeeds if it already exists.
    func createDirectory(_ path: String) throws(FileSystemError)
    /// Open an existing file for writing at chosen offsets.
    func openForWriting(_ path: String) throws(FileSystemError) -> FileHandleNumber
    /// Write some of `bytes` at byte `offset` of the file (`pwrite`), over what is there and past its end (a gap
    /// before `offset` reads as zeros); returns how many were written, which may be fewer.
    func write(_ handle: FileHandleNumber, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileSystemError)
        -> Int
    /// Make everything written to the file durable (`fdatasync`).
    func synchronize(_ handle: FileHandleNumber) throws(FileSystemError)
    /// Cut the file to `length` bytes.
    func truncate(_ handle: FileHandleNumber, to length: Int) throws(FileSystemError)
    /// Close the handle; errors are ignored because nothing written is trusted before `synchronize` succeeds.
    func close(_ handle: FileHandleNumber)
    /// Create or replace the file at `path` so that a crash leaves either the old file or all of `parts`, one
    /// after the other: write `<path>.tmp`, synchronize it, rename it over `path`, synchronize the directory.
    func writeFileAtomically(_ path: String, parts: [UnsafeRawBufferPointer]) throws(FileSystemError)
    /// Rename `from` to `to`, replacing `to` if it exists.
    func rename(_ from: String, _ to: String) throws(FileSystemError)
    /// Remove the file at `path`.
    func removeFile(_ path: String) throws(FileSystemError)
    /// Make the directory's entries (creations, renames, removals) durable.
    func synchronizeDirectory(_ path: String) throws(FileSystemError)
    /// Take the exclusive lock on `path` (created if missing) for the life of the process, writing our pid into it;
    /// on failure return the holder's pid (read from the file) in the error.
    func lockExclusively(_ path: String) throws(FileSystemError) -> DirectoryLock

    /// The permission bits of the file or directory at `path` (`0o600`), or `nil` when it cannot be examined.
    func permissions(of path: String) -> UInt32?
}

extension FileSystem {
    /// `writeFileAtomically(_:parts:)` of one array.
    public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(FileSystemError) {
        try bytes.withBytes { buffer throws(FileSystemError) in try writeFileAtomically(path, parts: [buffer]) }
    }
}

/// An open file, as the file system that opened it numbers it.
public struct FileHandleNumber: Hashable, Sendable {
    /// The descriptor (or, for a simulated file system, any number it chooses).
    public let rawValue: Int32

    /// A handle numbered `rawValue`.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }
}

/// A failed file operation: which one, on which path, and the system's error number.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    /// The system call or step that failed, such as `fdatasync` or `rename`.
    public var operation: String
    /// The file or directory it was applied to.
    public var path: String
    /// The `errno` value.
    public var errorNumber: Int32
    /// For a failed `lockExclusively`: the process holding the lock, when its pid could be read.
    public var holderPID: Int32?

    /// An error of `operation` on `path` with `errno` value `errorNumber`.
    public init(operation: String, path: String, errorNumber: Int32, holderPID: Int32? = nil) {
        self.operation = operation
        self.path = path
        self.errorNumber = errorNumber
        self.holderPID = holderPID
    }

    /// Whether the error says that another process holds the lock.
    public var isLockHeldElsewhere: Bool {
        errorNumber == EWOULDBLOCK || errorNumber == EAGAIN
    }

    /// The system's text for the error number, such as "No space left on device".
    public var systemMessage: String {
        guard let text = strerror(errorNumber) else { return "error \(errorNumber)" }
        return String(cString: text)
    }

    /// `fdatasync /data/log-00000000000000000001.seg: No space left on device`.
    public var description: String {
        "\(operation) \(path): \(systemMessage)"
    }
}

/// An exclusive lock on a data directory, held until `release()` or until the value is released.
public final class DirectoryLock: Sendable {
    /// What releases the lock; `nil` once released, so that releasing twice does nothing.
    private let releaseAction: Mutex<(@Sendable () -> Void)?>

    /// A lock that `release` gives up; file systems create these from `lockExclusively`.
    public init(release: @escaping @Sendable () -> Void) {
        releaseAction = Mutex(release)
    }

    /// Give up the lock; later calls do nothing.
    public func release() {
        let action = releaseAction.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit {
        release()
    }
}

/// The parent directory of `path`: `"/a/b"` → `"/a"`, `"b"` → `"."`, `"/b"` → `"/"`.
public func parentDirectory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    if slash == trimmed.startIndex { return "/" }
    return String(trimmed[..<slash])
}

/// The last component of `path`: `"/a/b"` → `"b"`.
public func lastPathComponent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

/// `directory` joined with `name`.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
