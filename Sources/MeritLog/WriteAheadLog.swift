import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A durable log of opaque records and snapshots in one data directory, with group commit and crash recovery.
///
/// One writer owns it: `append` buffers records, `commit` makes the buffered group durable with one write sequence
/// (the group, over zeros laid down ahead of it, and now and then the next stretch of zeros) and one `fdatasync`,
/// and `writeSnapshot` records the caller's state so that start-up need not replay what it covers.
/// After any failed write or synchronization the log refuses every later change, because what reached the disk is
/// then unknown and must never be treated as if it had worked; a restart recovers from what is durable.
///
/// `commit` is `seal` then `write`, and the two may run on different threads: the writer's thread seals a group and
/// goes on appending the next while another thread writes the sealed one (`write`, one group at a time, in the
/// order they were sealed, each hand-over ordering the file system's calls, so any `FileSystem` will do).
/// Everything but `append`, `seal`, `discardPending`, `pendingCount`, `bytesSinceSnapshot` and `failure` touches the
/// segment, and may only be called while no sealed group is being written.
///
/// Not `Sendable`: the server's single writer is its only user, and hands sealed groups to one other thread.
public final class WriteAheadLog {
    let directory: LogDirectory
    let options: LogOptions
    let fileSystem: any FileSystem
    private var lock: DirectoryLock?

    /// The segment being appended to.
    private var segmentHandle: FileHandleNumber?
    private var segmentPath: String
    private var segmentFirstSequence: UInt64
    private var segmentGeneration: UInt64
    /// The segment's durable length: where the next group is written, and where a failed commit cuts it back to.
    private var segmentLength: Int
    /// The segment file's size: its records, then the zeros laid down ahead of them (`LogOptions.preallocationBytes`).
    private var segmentSize: Int
    /// Zeros to lay down ahead of the records; allocated at the first commit that needs them.
    private var zeros: [UInt8] = []

    /// Framed records waiting for `seal`, in exactly the bytes that will be written.
    private var pending: [UInt8] = []

    /// The number of records appended since the last seal.
    public private(set) var pendingCount = 0
    /// The sequence the next appended record gets: after every record sealed, durable or not.
    private var nextSequence: UInt64
    /// The last durable (committed) sequence; 0 if nothing was ever committed.
    public private(set) var lastSequence: UInt64
    /// The error that stopped the writer, once a write or synchronization has failed (on whichever thread wrote).
    public var failure: LogError? { hasStopped.load(ordering: .acquiring) ? stopped.withLock { $0 } : nil }
    private let stopped = Mutex<LogError?>(nil)
    /// Whether `stopped` holds an error: read on every append, where taking the lock would cost more.
    private let hasStopped = Atomic<Bool>(false)
    /// Bytes of records sealed (or replayed at start-up) since the last snapshot, for the caller's policy of when to
    /// write the next one.
    public private(set) var bytesSinceSnapshot: Int
    private var isClosed = false

    /// A log appending to `segment`, which has been opened as `handle`.
    init(
        directory: LogDirectory, options: LogOptions, fileSystem: any FileSystem, lock: DirectoryLock,
        segment: OpenSegment, handle: FileHandleNumber, lastSequence: UInt64, bytesSinceSnapshot: Int
    ) {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        self.lock = lock
        self.segmentHandle = handle
        self.segmentPath = directory.path(LogFormat.segmentName(firstSequence: segment.firstSequence))
        self.segmentFirstSequence = segment.firstSequence
        self.segmentGeneration = segment.generation
        self.segmentLength = segment.length
        self.segmentSize = segment.size
        self.lastSequence = lastSequence
        self.nextSequence = lastSequence + 1
        self.bytesSinceSnapshot = bytesSinceSnapshot
    }

    /// The segment a log appends to, as recovery leaves it.
    struct OpenSegment {
        var firstSequence: UInt64
        var generation: UInt64
        var length: Int
        /// Its file's size: `length`, then zeros laid down ahead of the records.
        var size: Int
        /// The sequence its next record must have.
        var nextSequence: UInt64
        /// Its format version.
        var version: UInt32
    }

    deinit {
        close()
    }

    // MARK: - Writing

    /// Buffer a record for the next commit and return the sequence it will have.
    ///
    /// Throws `.unavailable` after a failure or `close()`, and `.recordTooLarge` for a payload over
    /// `LogOptions.maximumRecordBytes`.
    @discardableResult
    public func append(type: UInt16, payload: UnsafeRawBufferPointer) throws(LogError) -> UInt64 {
        try ensureWritable()
        guard payload.count <= options.maximumRecordBytes else {
            throw .recordTooLarge(length: payload.count, maximum: options.maximumRecordBytes)
        }
        let sequence = nextSequence
        // The first record of a group says so: recovery tells a write the disk lost in the group in flight (torn)
        // from one under an acknowledged group (damage) by whether a group began after it.
        LogFormat.appendRecord(
            to: &pending, sequence: sequence, type: type, flags: pendingCount == 0 ? LogFormat.startsGroup : 0,
            payload: payload)
        pendingCount += 1
        nextSequence += 1
        return sequence
    }

    /// Buffer a record whose payload is an array; see `append(type:payload:)`.
    @discardableResult
    public func append(type: UInt16, payload: [UInt8]) throws(LogError) -> UInt64 {
        try payload.withBytes { bytes throws(LogError) in try append(type: type, payload: bytes) }
    }

    /// Write every buffered record with one sequence of write calls and make them durable with one synchronization:
    /// `seal`, then `write`.
    public func commit() throws(LogError) {
        try ensureWritable()
        guard let sealed = seal() else { return }
        try write(sealed)
    }

    /// Take the buffered records as one group for `write`, which may run on another thread while later records are
    /// appended; `nil` when none are buffered. The records keep the sequences they were given: groups must be
    /// written in the order they were sealed.
    public func seal() -> SealedRecords? {
        guard pendingCount > 0 else { return nil }
        let sealed = SealedRecords(bytes: pending, count: pendingCount)
        bytesSinceSnapshot += pending.count
        pending = []
        pending.reserveCapacity(sealed.bytes.count)
        pendingCount = 0
        return sealed
    }

    /// Write a sealed group with one sequence of write calls and make it durable with one synchronization.
    ///
    /// The group goes where the segment's records end, over the zeros laid down there if the segment has them; one
    /// that reaches past them lays down the next `LogOptions.preallocationBytes` after itself in the same write
    /// sequence, made durable by the same synchronization. Rolls to a new segment first when the current one has
    /// reached `maximumSegmentBytes`. On any failure the segment is cut back (best effort) to its length before this
    /// group, the log refuses every later change (this group's successors included), and the error is thrown as
    /// `.io`.
    public func write(_ sealed: SealedRecords) throws(LogError) {
        try ensureWritable()
        do throws(FileSystemError) {
            if segmentLength >= options.maximumSegmentBytes && segmentFirstSequence <= lastSequence {
                try roll()
            }
        } catch {
            throw stop(after: error, cuttingBackTo: nil)
        }
        // Only `close()` clears the handle, and `ensureWritable` has refused a closed log.
        guard let handle = segmentHandle else { return }
        let end = segmentLength + sealed.bytes.count
        do throws(FileSystemError) {
            try sealed.bytes.withBytes { buffer throws(FileSystemError) in
                try writeAll(buffer, at: segmentLength, to: handle)
            }
            if end > segmentSize {
                segmentSize = end
                layDownZeros(after: end, handle: handle)
            }
            try fileSystem.synchronize(handle)
        } catch {
            throw stop(after: error, cuttingBackTo: segmentLength)
        }
        segmentLength = end
        lastSequence += UInt64(sealed.count)
    }

    /// Past the zeros: lay down the next stretch after `end`, but not beyond the size at which the segment rolls.
    ///
    /// Best effort: the zeros only make later commits faster, and however many of them land, zeros after the
    /// records end a segment cleanly; a disk too full for them must not fail a group already written.
    private func layDownZeros(after end: Int, handle: FileHandleNumber) {
        let target = min(end + options.preallocationBytes, max(end, options.maximumSegmentBytes))
        guard target > end else { return }
        if zeros.count < target - end { zeros = [UInt8](repeating: 0, count: target - end) }
        do throws(FileSystemError) {
            try zeros.withBytes { zeros throws(FileSystemError) in
                try writeAll(UnsafeRawBufferPointer(rebasing: zeros[..<(target - end)]), at: end, to: handle)
            }
            segmentSize = target
        } catch {
            return
        }
    }

    /// Write all of `buffer` at `offset` of the segment, in as many calls as the file system needs.
    private func writeAll(_ buffer: UnsafeRawBufferPointer, at offset: Int, to handle: FileHandleNumber)
        throws(FileSystemError)
    {
        var written = 0
        while written < buffer.count {
            let count = try fileSystem.write(
                handle, UnsafeRawBufferPointer(rebasing: buffer[written...]), at: offset + written)
            // A write that makes no progress would loop forever; no file system does it but a full one.
            guard count > 0 else {
                throw FileSystemError(operation: "write", path: segmentPath, errorNumber: ENOSPC)
            }
            written += count
        }
    }

    /// Drop the buffered records; their sequences will be given again.
    public func discardPending() {
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
        nextSequence -= UInt64(pendingCount)
        pendingCount = 0
    }

    /// Durably write a snapshot covering everything up to `lastSequence`, roll to a new segment, then delete the
    /// snapshots no fallback needs (and, unless `LogOptions.retainsSegments`, the segments).
    ///
    /// Call with nothing pending. Kept: the two newest snapshots and every segment holding a record after the older
    /// of them (every segment, by default), so that if the newest snapshot is unreadable at start-up, falling back
    /// to the previous one still finds every record it needs. Nothing is deleted before the new snapshot is durable. A failure to write the
    /// snapshot leaves the log usable (nothing it holds was touched); a failure to roll stops it like a failed
    /// commit.
    public func writeSnapshot(_ payload: UnsafeRawBufferPointer) throws(LogError) {
        try ensureWritable()
        guard pendingCount == 0 else {
            throw .snapshotFailed(
                message: "\(pendingCount) appended records are not committed; commit or discard them first")
        }
        let sequence = lastSequence
        let name = LogFormat.snapshotName(sequence: sequence)
        do {
            // The header, then the payload where it lies: a snapshot is the size of the state, and copying it
            // behind its header would cost as much again.
            let header = LogFormat.encodeSnapshotHeader(sequence: sequence, payload: payload)
            try header.withBytes { header throws(FileSystemError) in
                try fileSystem.writeFileAtomically(directory.path(name), parts: [header, payload])
            }
        } catch {
            throw .io(error)
        }
        bytesSinceSnapshot = 0
        // A segment with no record yet already starts after the snapshot, and rolling would give its name again.
        if segmentFirstSequence <= sequence {
            do throws(FileSystemError) {
                try roll()
            } catch {
                throw stop(after: error, cuttingBackTo: nil)
            }
        }
        removeObsoleteFiles(newestSnapshot: sequence)
    }

    /// Begin a snapshot of the state as of `lastSequence` that another thread writes (`PendingSnapshot.write`), so
    /// that the writer goes on while a snapshot the size of the state is encoded and made durable; then call
    /// `finishSnapshot` on the writer's thread. Returns `nil` when the file system may not be used from another
    /// thread (only `POSIXFileSystem` may): write the snapshot with `writeSnapshot` instead.
    ///
    /// Call with nothing pending. The log rolls to a new segment at once, so that the records appended meanwhile
    /// follow the snapshot's sequence in segments of their own, and `bytesSinceSnapshot` starts again from 0. Until
    /// the snapshot is durable the directory is as if it were never begun: start-up replays the new segment after
    /// the previous snapshot. A failure to roll stops the log like a failed commit.
    public func beginSnapshot() throws(LogError) -> PendingSnapshot? {
        guard let fileSystem = fileSystem as? POSIXFileSystem else { return nil }
        try ensureWritable()
        guard pendingCount == 0 else {
            throw .snapshotFailed(
                message: "\(pendingCount) appended records are not committed; commit or discard them first")
        }
        let sequence = lastSequence
        if segmentFirstSequence <= sequence {
            do throws(FileSystemError) {
                try roll()
            } catch {
                throw stop(after: error, cuttingBackTo: nil)
            }
        }
        bytesSinceSnapshot = 0
        return PendingSnapshot(
            sequence: sequence, path: directory.path(LogFormat.snapshotName(sequence: sequence)),
            fileSystem: fileSystem)
    }

    /// After a `PendingSnapshot` was written: delete the snapshots and segments no fallback needs, as
    /// `writeSnapshot` does.
    public func finishSnapshot(_ snapshot: PendingSnapshot) {
        removeObsoleteFiles(newestSnapshot: snapshot.sequence)
    }

    /// Write a snapshot whose payload is an array; see `writeSnapshot(_:)`.
    public func writeSnapshot(_ payload: [UInt8]) throws(LogError) {
        try payload.withBytes { bytes throws(LogError) in try writeSnapshot(bytes) }
    }

    /// Close the segment and release the directory's lock; later changes throw `.unavailable`.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let segmentHandle { fileSystem.close(segmentHandle) }
        segmentHandle = nil
        lock?.release()
        lock = nil
    }

    // MARK: - Internals

    private func ensureWritable() throws(LogError) {
        if let failure {
            throw .unavailable(
                reason: "an earlier write failed (\(failure)), so what is on disk is uncertain; restart to recover "
                    + "from what is durable")
        }
        if isClosed { throw .unavailable(reason: "the log was closed") }
    }

    /// Stop the writer after `error`: cut the segment back to `length` if given (best effort, so that the failed
    /// group cannot reappear after a crash), and return the error to throw. What is buffered stays, for the writer's
    /// thread to drop: every later `seal`ed group fails.
    private func stop(after error: FileSystemError, cuttingBackTo length: Int?) -> LogError {
        if let length, let segmentHandle {
            // Only to shorten the file: the outcome changes nothing, since the writer stops either way.
            try? fileSystem.truncate(segmentHandle, to: length)
            try? fileSystem.synchronize(segmentHandle)
        }
        stopped.withLock { $0 = .io(error) }
        hasStopped.store(true, ordering: .releasing)
        return .io(error)
    }

    /// Start a new segment after `lastSequence`: created with just its header through a temporary file and a
    /// rename, then opened for writing after its header.
    private func roll() throws(FileSystemError) {
        let first = lastSequence + 1
        let header = LogFormat.SegmentHeader(generation: segmentGeneration + 1, firstSequence: first)
        let path = directory.path(LogFormat.segmentName(firstSequence: first))
        try fileSystem.writeFileAtomically(path, LogFormat.encodeSegmentHeader(header))
        let handle = try fileSystem.openForWriting(path)
        if let segmentHandle { fileSystem.close(segmentHandle) }
        segmentHandle = handle
        segmentPath = path
        segmentFirstSequence = first
        segmentGeneration = header.generation
        segmentLength = LogFormat.segmentHeaderBytes
        segmentSize = LogFormat.segmentHeaderBytes
    }

    /// Delete snapshots older than the two newest up to `newestSnapshot`, and segments whose records all lie at or
    /// before the older of those two.
    ///
    /// Failures are ignored: the deletions only save space, and a file that survives them is read (or skipped) at
    /// the next start exactly as before.
    private func removeObsoleteFiles(newestSnapshot: UInt64) {
        guard let listing = try? LogDirectory(path: directory.path, fileSystem: fileSystem) else { return }
        // A snapshot newer than the one just written can only be an unreadable leftover; it is not counted.
        let snapshots = listing.snapshots.filter { $0.sequence <= newestSnapshot }
        var removed = false
        for snapshot in snapshots.dropLast(2) {
            removed = (try? fileSystem.removeFile(listing.path(snapshot.name))) != nil || removed
        }
        if snapshots.count >= 2 && !options.retainsSegments {
            let covered = snapshots[snapshots.count - 2].sequence
            for (index, segment) in listing.segments.enumerated().dropLast() {
                let path = listing.path(segment.name)
                guard listing.segments[index + 1].firstSequence <= covered + 1, path != segmentPath else { continue }
                removed = (try? fileSystem.removeFile(path)) != nil || removed
            }
        }
        if removed { try? fileSystem.synchronizeDirectory(directory.path) }
    }
}

/// Records sealed by `WriteAheadLog.seal()` for one `write`: framed, with their sequences.
public struct SealedRecords: Sendable {
    /// The framed records, exactly as they will be written.
    let bytes: [UInt8]
    /// How many records they are.
    public let count: Int
}

/// A snapshot begun by `WriteAheadLog.beginSnapshot()`, to be written on any thread.
public struct PendingSnapshot: Sendable {
    /// The last record the snapshot covers: its payload is the state as of this sequence.
    public let sequence: UInt64
    let path: String
    let fileSystem: POSIXFileSystem

    /// Write the snapshot's file durably (header, then `payload`), as `WriteAheadLog.writeSnapshot` does; a failure
    /// leaves the log as it is, and a later snapshot tries again.
    public func write(_ payload: UnsafeRawBufferPointer) throws(LogError) {
        let header = LogFormat.encodeSnapshotHeader(sequence: sequence, payload: payload)
        do {
            try header.withBytes { header throws(FileSystemError) in
                try fileSystem.writeFileAtomically(path, parts: [header, payload], pacedBy: 512 << 10)
            }
        } catch {
            throw .io(error)
        }
    }
}
