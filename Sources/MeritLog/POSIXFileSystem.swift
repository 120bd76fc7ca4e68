import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The real file system: `open`, `write`, `fdatasync`, `rename`, `fsync` of directories, `ftruncate` and `flock`.
///
/// Every call that can be interrupted by a signal is retried on `EINTR`; no other error is retried.
public final class POSIXFileSystem: FileSystem, Sendable {
    /// The path each open handle was opened with, so that errors of `write` and `fdatasync` name the file.
    private let openPaths = Mutex<[Int32: String]>([:])

    /// The file system of this process.
    public init() {}

    /// The file at `path` opened for reading, and its size.
    private func openForReading(_ path: String) throws(FileSystemError) -> (descriptor: Int32, size: Int) {
        let descriptor = try openRetrying(path, flags: O_RDONLY | O_CLOEXEC, operation: "open")
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let failure = errno
            _ = Glibc.close(descriptor)
            throw FileSystemError(operation: "fstat", path: path, errorNumber: failure)
        }
        return (descriptor, Int(status.st_size))
    }

    /// The whole contents of the file at `path`, read with one allocation of the size `fstat` reports.
    public func readFile(_ path: String) throws(FileSystemError) -> [UInt8] {
        let (descriptor, size) = try openForReading(path)
        defer { _ = Glibc.close(descriptor) }
        var failure: Int32 = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initializedCount in
            var total = 0
            while total < size {
                let count = Glibc.read(descriptor, buffer.baseAddress! + total, size - total)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if count == 0 { break }
                total += count
            }
            initializedCount = total
        }
        if failure != 0 { throw FileSystemError(operation: "read", path: path, errorNumber: failure) }
        // A file that grew after `fstat` (another process appending) is read to its end as well.
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count == size {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", path: path, errorNumber: errno)
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return bytes
    }

    /// The file mapped read-only (no copy; the kernel reads ahead as replay walks it). Empty files, and any file
    /// that cannot be mapped, are read instead.
    public func contents(of path: String) throws(FileSystemError) -> FileContents {
        let (descriptor, size) = try openForReading(path)
        defer { _ = Glibc.close(descriptor) }
        guard size > 0, let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            return FileContents(try readFile(path))
        }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return FileContents(mapping: UnsafeRawBufferPointer(start: base, count: size), path: path)
    }

    /// Whether anything exists at `path`.
    public func fileExists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The names in the directory at `path`, without `.` and `..`.
    public func listDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileSystemError(operation: "opendir", path: path, errorNumber: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw FileSystemError(operation: "readdir", path: path, errorNumber: errno) }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Create the directory, readable by its owner only (0700, whatever the umask: it holds personal data), and its
    /// missing parents (0755, as `mkdir -p` makes them), then synchronize each parent so that the new entries are
    /// durable before anything inside them is.
    public func createDirectory(_ path: String) throws(FileSystemError) {
        try createDirectory(path, mode: 0o700)
    }

    private func createDirectory(_ path: String, mode: mode_t) throws(FileSystemError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw FileSystemError(operation: "mkdir", path: path, errorNumber: ENOTDIR)
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path { try createDirectory(parent, mode: 0o755) }
        if mkdir(path, mode) != 0 {
            if errno != EEXIST { throw FileSystemError(operation: "mkdir", path: path, errorNumber: errno) }
        } else if chmod(path, mode) != 0 {
            // The umask may have taken bits away; the mode asked for is set explicitly.
            throw FileSystemError(operation: "chmod", path: path, errorNumber: errno)
        }
        try synchronizeDirectory(parent)
    }

    /// The permission bits of the file or directory at `path`, or `nil` when it cannot be examined.
    public func permissions(of path: String) -> UInt32? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return UInt32(status.st_mode & 0o7777)
    }

    /// Open an existing file for `pwrite` (without `O_APPEND`, under which Linux ignores the offset).
    public func openForWriting(_ path: String) throws(FileSystemError) -> FileHandleNumber {
        let descriptor = try openRetrying(path, flags: O_WRONLY | O_CLOEXEC, operation: "open")
        openPaths.withLock { $0[descriptor] = path }
        return FileHandleNumber(rawValue: descriptor)
    }

    /// One `pwrite` call, retried only when interrupted before writing anything.
    public func write(_ handle: FileHandleNumber, _ bytes: UnsafeRawBufferPointer, at offset: Int)
        throws(FileSystemError) -> Int
    {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        while true {
            let count = pwrite(handle.rawValue, base, bytes.count, off_t(offset))
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw FileSystemError(operation: "write", path: path(of: handle), errorNumber: errno)
        }
    }

    /// `fdatasync`: the data and the size, which is all a reader needs, without the modification time.
    public func synchronize(_ handle: FileHandleNumber) throws(FileSystemError) {
        while fdatasync(handle.rawValue) != 0 {
            if errno == EINTR { continue }
            throw FileSystemError(operation: "fdatasync", path: path(of: handle), errorNumber: errno)
        }
    }

    /// `ftruncate`.
    public func truncate(_ handle: FileHandleNumber, to length: Int) throws(FileSystemError) {
        while ftruncate(handle.rawValue, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw FileSystemError(operation: "ftruncate", path: path(of: handle), errorNumber: errno)
        }
    }

    /// `close`, without retrying: on Linux the descriptor is released even when `close` reports `EINTR`.
    public func close(_ handle: FileHandleNumber) {
        openPaths.withLock { _ = $0.removeValue(forKey: handle.rawValue) }
        _ = Glibc.close(handle.rawValue)
    }

    /// Write `<path>.tmp`, `fsync` it, rename it over `path` and `fsync` the directory; the temporary file is
    /// removed if any step fails.
    public func writeFileAtomically(_ path: String, parts: [UnsafeRawBufferPointer]) throws(FileSystemError) {
        try writeFileAtomically(path, parts: parts, pacedBy: nil)
    }

    /// `writeFileAtomically(_:parts:)`, writing at most `chunkBytes` at a time when given and making each chunk
    /// durable (`fdatasync`) before the next: a file the size of the state then never has more than a chunk waiting
    /// to be written, which an `fdatasync` of another file (the log's, through the same file system's journal) would
    /// otherwise have to wait for. (`sync_file_range` would skip the journal, but Swift's Glibc does not declare it.)
    public func writeFileAtomically(_ path: String, parts: [UnsafeRawBufferPointer], pacedBy chunkBytes: Int?)
        throws(FileSystemError)
    {
        let temporary = path + ".tmp"
        let descriptor = try openRetrying(
            temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, operation: "open", mode: 0o600)
        var failure: FileSystemError?
        // Readable by the owner only, whatever the umask: the data directory holds personal data.
        if fchmod(descriptor, 0o600) != 0 {
            failure = FileSystemError(operation: "fchmod", path: temporary, errorNumber: errno)
        }
        var written = 0
        var synchronized = 0
        for buffer in parts {
            guard failure == nil else { break }
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(
                    descriptor, buffer.baseAddress! + offset, min(buffer.count - offset, chunkBytes ?? .max))
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = FileSystemError(operation: "write", path: temporary, errorNumber: errno)
                    break
                }
                if count == 0 {
                    failure = FileSystemError(operation: "write", path: temporary, errorNumber: EIO)
                    break
                }
                offset += count
                written += count
                if let chunkBytes, written - synchronized >= chunkBytes {
                    while fdatasync(descriptor) != 0 {
                        if errno == EINTR { continue }
                        failure = FileSystemError(operation: "fdatasync", path: temporary, errorNumber: errno)
                        break
                    }
                    if failure != nil { break }
                    synchronized = written
                }
            }
        }
        if failure == nil {
            while fsync(descriptor) != 0 {
                if errno == EINTR { continue }
                failure = FileSystemError(operation: "fsync", path: temporary, errorNumber: errno)
                break
            }
        }
        _ = Glibc.close(descriptor)
        if failure == nil && Glibc.rename(temporary, path) != 0 {
            failure = FileSystemError(operation: "rename", path: temporary, errorNumber: errno)
        }
        if let failure {
            _ = unlink(temporary)
            throw failure
        }
        try synchronizeDirectory(parentDirectory(of: path))
    }

    /// `rename`.
    public func rename(_ from: String, _ to: String) throws(FileSystemError) {
        guard Glibc.rename(from, to) == 0 else {
            throw FileSystemError(operation: "rename", path: from, errorNumber: errno)
        }
    }

    /// `unlink`.
    public func removeFile(_ path: String) throws(FileSystemError) {
        guard unlink(path) == 0 else {
            throw FileSystemError(operation: "unlink", path: path, errorNumber: errno)
        }
    }

    /// `fsync` of the directory itself, which makes its entries durable.
    public func synchronizeDirectory(_ path: String) throws(FileSystemError) {
        let descriptor = try openRetrying(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, operation: "open")
        defer { _ = Glibc.close(descriptor) }
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw FileSystemError(operation: "fsync", path: path, errorNumber: errno)
        }
    }

    /// `flock(LOCK_EX | LOCK_NB)` on a descriptor kept open until the lock is released.
    ///
    /// `flock` locks belong to the open file description, not to the process, so closing some other descriptor of
    /// the same file (as a plain `fcntl` lock would suffer) never drops it, and a second `open` in the same process
    /// is refused just as another process would be.
    public func lockExclusively(_ path: String) throws(FileSystemError) -> DirectoryLock {
        let descriptor = try openRetrying(path, flags: O_RDWR | O_CREAT | O_CLOEXEC, operation: "open", mode: 0o600)
        _ = fchmod(descriptor, 0o600)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let failure = errno
            let holder = Self.readProcessIdentifier(descriptor)
            _ = Glibc.close(descriptor)
            throw FileSystemError(operation: "flock", path: path, errorNumber: failure, holderPID: holder)
        }
        // The pid is only a hint for the message another process shows, so a failure to write it is not fatal.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, 0) }
        }
        return DirectoryLock { _ = Glibc.close(descriptor) }
    }

    /// The decimal pid at the start of the lock file, if there is one.
    private static func readProcessIdentifier(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, 0) }
        guard count > 0 else { return nil }
        let digits = buffer[..<count].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self))
    }

    /// The path `handle` was opened with, for error messages.
    private func path(of handle: FileHandleNumber) -> String {
        openPaths.withLock { $0[handle.rawValue] } ?? "file descriptor \(handle.rawValue)"
    }

    /// `open`, retried on `EINTR`.
    private func openRetrying(
        _ path: String, flags: Int32, operation: String, mode: mode_t = 0
    ) throws(FileSystemError) -> Int32 {
        while true {
            let descriptor = Glibc.open(path, flags, mode)
            if descriptor >= 0 { return descriptor }
            if errno == EINTR { continue }
            throw FileSystemError(operation: operation, path: path, errorNumber: errno)
        }
    }
}
