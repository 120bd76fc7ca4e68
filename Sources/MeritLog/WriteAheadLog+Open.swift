extension WriteAheadLog {
    /// Open the log in `directory` (creating the directory and a first segment if needed) and recover its state.
    ///
    /// Takes the directory's lock, loads the newest valid snapshot (passing its payload to `snapshot`), then passes
    /// every record after it to `replay`, in order. A torn tail of the newest segment is copied into `aside/` and cut
    /// off, and start-up continues; any other damage throws `.damaged` naming the file and the first bad offset, and
    /// a file in a newer format throws `.unsupportedVersion`. An error thrown by `snapshot` or `replay` is rethrown
    /// as `.replayFailed`. Leftover temporary files are removed.
    public static func open(
        directory: String, options: LogOptions = LogOptions(), fileSystem: any FileSystem = POSIXFileSystem(),
        snapshot: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void,
        replay: (LogRecord) throws -> Void
    ) throws(LogError) -> (WriteAheadLog, RecoveryReport) {
        do {
            try fileSystem.createDirectory(directory)
        } catch {
            throw .io(error)
        }
        let lock: DirectoryLock
        do {
            lock = try fileSystem.lockExclusively(joinPath(directory, LogFormat.lockName))
        } catch {
            throw error.isLockHeldElsewhere ? .locked(directory: directory, holderPID: error.holderPID) : .io(error)
        }
        // From here on a throw releases `lock` with it, so a failed open leaves the directory free.
        var recovery = Recovery(directory: directory, options: options, fileSystem: fileSystem)
        let segment = try recovery.run(snapshot: snapshot, replay: replay)
        recovery.report.permissionWarnings = LogDirectory.exposureWarnings(
            LogDirectory.exposedPaths(in: directory, fileSystem: fileSystem), directory: directory)
        let segmentPath = joinPath(directory, LogFormat.segmentName(firstSequence: segment.firstSequence))
        let handle: FileHandleNumber
        do {
            handle = try fileSystem.openForWriting(segmentPath)
        } catch {
            throw .io(error)
        }
        do {
            // What was replayed may have been read from the system's cache, written by a process that died before
            // its fdatasync: made durable now, before anything acknowledged goes after it (in this segment or,
            // should it roll before the next commit, in the next).
            try fileSystem.synchronize(handle)
        } catch {
            fileSystem.close(handle)
            throw .io(error)
        }
        let log = WriteAheadLog(
            directory: recovery.listing, options: options, fileSystem: fileSystem, lock: lock, segment: segment,
            handle: handle, lastSequence: recovery.report.lastSequence, bytesSinceSnapshot: recovery.replayedBytes)
        return (log, recovery.report)
    }
}

/// The steps of `WriteAheadLog.open` after the lock is taken.
private struct Recovery {
    let options: LogOptions
    let fileSystem: any FileSystem
    var listing: LogDirectory
    var report = RecoveryReport()
    /// Framed bytes of the records replayed, which count towards the next snapshot.
    var replayedBytes = 0
    /// Why each skipped snapshot was unreadable, newest first.
    var skippedReasons: [String] = []

    init(directory: String, options: LogOptions, fileSystem: any FileSystem) {
        self.options = options
        self.fileSystem = fileSystem
        self.listing = LogDirectory(empty: directory)
    }

    /// Load the snapshot, replay the records, cut a torn tail, and return the segment to append to (created if
    /// there is none, or if the newest does not end where the next record must go).
    mutating func run(
        snapshot: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void,
        replay: (LogRecord) throws -> Void
    ) throws(LogError) -> WriteAheadLog.OpenSegment {
        do {
            listing = try LogDirectory(path: listing.path, fileSystem: fileSystem)
        } catch {
            throw .io(error)
        }
        for temporary in listing.temporaries {
            // A temporary file is an atomic write that never finished; nothing refers to it.
            try? fileSystem.removeFile(listing.path(temporary))
        }
        try loadSnapshot(snapshot)
        let covered = report.snapshotSequence ?? 0
        var segment: WriteAheadLog.OpenSegment
        if listing.segments.isEmpty {
            if let newestSkipped = report.skippedSnapshots.first, let reason = skippedReasons.first {
                throw .damaged(
                    file: newestSkipped, offset: 0,
                    reason: "\(reason), and no segment holds the records it covered")
            }
            segment = try createSegment(firstSequence: covered + 1, generation: 1)
        } else {
            segment = try replaySegments(after: covered, replay: replay)
        }
        report.lastSequence = max(covered, report.lastSequence)
        if segment.nextSequence != report.lastSequence + 1 {
            // The snapshot covers more than the newest segment holds (its records were lost or cut off as torn):
            // appending there would leave a gap inside the segment, so the next record starts a new one.
            segment = try createSegment(firstSequence: report.lastSequence + 1, generation: segment.generation + 1)
        } else if segment.version < LogFormat.segmentVersion {
            // Records of the current version (with group flags) go in a segment of that version: a new one, or this
            // one afresh if it holds no record.
            let isEmpty = segment.firstSequence == segment.nextSequence
            segment = try createSegment(
                firstSequence: report.lastSequence + 1, generation: segment.generation + (isEmpty ? 0 : 1))
        }
        return segment
    }

    /// Load the newest snapshot whose checksums verify, falling back past unreadable ones.
    private mutating func loadSnapshot(
        _ snapshot: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) throws(LogError) {
        for file in listing.snapshots.reversed() {
            let path = listing.path(file.name)
            switch listing.readSnapshot(file, mapped: true, fileSystem: fileSystem) {
            case .unsupported(let version):
                throw .unsupportedVersion(file: path, version: version)
            case .invalid(let reason):
                report.skippedSnapshots.append(path)
                skippedReasons.append(reason)
            case .valid(let contents, let payload):
                do {
                    try contents.withBytes { bytes throws in
                        try snapshot(file.sequence, UnsafeRawBufferPointer(rebasing: bytes[payload]))
                    }
                } catch {
                    throw .replayFailed(sequence: file.sequence, message: "loading the snapshot \(path): \(error)")
                }
                report.snapshotSequence = file.sequence
                return
            }
        }
    }

    /// Replay every record after `covered` from the segments that hold them, and return the newest segment.
    private mutating func replaySegments(
        after covered: UInt64, replay: (LogRecord) throws -> Void
    ) throws(LogError) -> WriteAheadLog.OpenSegment {
        let segments = listing.segments
        guard let start = listing.segmentIndex(holding: covered + 1) else {
            var reason = "records \(covered + 1)…\(segments[0].firstSequence - 1) are missing: no segment holds them"
            if let newestSkipped = report.skippedSnapshots.first, let why = skippedReasons.first {
                reason += " and the snapshot \(newestSkipped) that covered them is unreadable (\(why))"
            } else {
                reason += " and no snapshot covers them"
            }
            throw .damaged(file: listing.path(segments[0].name), offset: 0, reason: reason)
        }
        var expected = segments[start].firstSequence
        var previousGeneration: UInt64?
        var newest: WriteAheadLog.OpenSegment?
        for index in start..<segments.count {
            let file = segments[index]
            let path = listing.path(file.name)
            let isNewest = index == segments.count - 1
            if index > start && file.firstSequence != expected {
                throw .damaged(
                    file: path, offset: 0, reason: LogDirectory.discontinuity(starting: file, expected: expected))
            }
            let bytes: FileContents
            do {
                bytes = try fileSystem.contents(of: path)
            } catch {
                throw .io(error)
            }
            var replayed = 0
            var replayedBytes = 0
            let scan = try bytes.withBytes { buffer throws(LogError) in
                try LogDirectory.scanSegment(
                    buffer, nameFirstSequence: file.firstSequence, maximumRecordBytes: options.maximumRecordBytes
                ) { sequence, type, payload throws(LogError) in
                    guard sequence > covered else { return }
                    do {
                        try replay(LogRecord(sequence: sequence, type: type, payload: payload))
                    } catch {
                        throw .replayFailed(sequence: sequence, message: "\(error)")
                    }
                    replayed += 1
                    replayedBytes += LogFormat.recordHeaderBytes + payload.count
                }
            }
            report.replayedRecords += replayed
            self.replayedBytes += replayedBytes
            var length = scan.validEnd
            var size = bytes.withBytes { $0.count }
            var generation = scan.header?.generation ?? 0
            if let fault = scan.fault {
                if case .unsupported(let version) = fault { throw .unsupportedVersion(file: path, version: version) }
                guard isNewest && fault.couldBeTornTail else {
                    throw .damaged(file: path, offset: fault.offset, reason: fault.reason)
                }
                do throws(FileSystemError) {
                    if case .partialHeader = fault {
                        let before = previousGeneration ?? listing.generation(before: index, fileSystem: fileSystem)
                        generation = before + 1
                        report.tornTail = try bytes.withBytes { buffer throws(FileSystemError) in
                            try listing.rewriteHeader(
                                of: file, bytes: buffer, generation: generation, fileSystem: fileSystem)
                        }
                        length = LogFormat.segmentHeaderBytes
                        size = length
                    } else {
                        report.tornTail = try bytes.withBytes { buffer throws(FileSystemError) in
                            try listing.cutTail(
                                of: file, bytes: buffer, at: fault.offset, saveIsRequired: false, fileSystem: fileSystem
                            )
                        }
                        size = fault.offset
                    }
                } catch {
                    throw .io(error)
                }
            }
            previousGeneration = generation
            if let last = scan.lastRecordSequence {
                report.lastSequence = last
                expected = last + 1
            } else {
                expected = file.firstSequence
            }
            if isNewest {
                newest = WriteAheadLog.OpenSegment(
                    firstSequence: file.firstSequence, generation: generation, length: length, size: size,
                    nextSequence: expected, version: scan.header?.version ?? LogFormat.segmentVersion)
            }
        }
        // The loop always reaches the newest segment, which sets `newest`.
        guard let newest else { preconditionFailure("the newest segment was not scanned") }
        return newest
    }

    /// Create a segment holding just its header, durably, after making the newest one durable (what it replayed may
    /// have come from the system's cache; `open` does the same for a segment it goes on appending to).
    private func createSegment(firstSequence: UInt64, generation: UInt64) throws(LogError) -> WriteAheadLog.OpenSegment
    {
        let header = LogFormat.SegmentHeader(generation: generation, firstSequence: firstSequence)
        do {
            if let newest = listing.segments.last {
                let handle = try fileSystem.openForWriting(listing.path(newest.name))
                defer { fileSystem.close(handle) }
                try fileSystem.synchronize(handle)
            }
            try fileSystem.writeFileAtomically(
                listing.path(LogFormat.segmentName(firstSequence: firstSequence)), LogFormat.encodeSegmentHeader(header)
            )
        } catch {
            throw .io(error)
        }
        return WriteAheadLog.OpenSegment(
            firstSequence: firstSequence, generation: generation, length: LogFormat.segmentHeaderBytes,
            size: LogFormat.segmentHeaderBytes, nextSequence: firstSequence, version: header.version)
    }
}
