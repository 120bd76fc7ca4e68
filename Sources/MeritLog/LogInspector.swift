#if canImport(Glibc)
    import Glibc
#endif

/// Inspection and repair of a data directory outside a running log.
public enum LogInspector {
    /// Check every segment and snapshot and report what a start would find, without changing anything: no lock is
    /// taken and nothing is written, created, renamed or removed.
    ///
    /// Unlike a start, which reads only what it needs after the newest snapshot, this reads every file, so damage in
    /// an old segment or an unreadable snapshot is reported too.
    public static func verify(
        directory: String, fileSystem: any FileSystem = POSIXFileSystem(), options: LogOptions = LogOptions()
    ) -> VerificationReport {
        var report = VerificationReport(directory: directory)
        report.permissionWarnings = LogDirectory.exposureWarnings(
            LogDirectory.exposedPaths(in: directory, fileSystem: fileSystem), directory: directory)
        let listing: LogDirectory
        do {
            listing = try LogDirectory(path: directory, fileSystem: fileSystem)
        } catch {
            report.damage.append(.io(error))
            return report
        }
        var covered: UInt64 = 0
        for file in listing.snapshots {
            let path = listing.path(file.name)
            switch listing.readSnapshot(file, mapped: false, fileSystem: fileSystem) {
            case .valid:
                report.snapshots.append(SnapshotStatus(file: path, sequence: file.sequence, problem: nil))
                covered = file.sequence
            case .invalid(let reason):
                report.snapshots.append(SnapshotStatus(file: path, sequence: file.sequence, problem: reason))
                report.damage.append(.damaged(file: path, offset: 0, reason: reason))
            case .unsupported(let version):
                report.snapshots.append(
                    SnapshotStatus(file: path, sequence: file.sequence, problem: "format version \(version)"))
                report.damage.append(.unsupportedVersion(file: path, version: version))
            }
        }
        report.snapshotSequence = report.snapshots.last { $0.valid }?.sequence
        if let first = listing.segments.first, listing.segmentIndex(holding: covered + 1) == nil {
            report.damage.append(
                .damaged(
                    file: listing.path(first.name), offset: 0,
                    reason: "records \(covered + 1)…\(first.firstSequence - 1) are missing: no segment holds them and "
                        + "no readable snapshot covers them"))
        }
        // The sequence the next segment must start at; `nil` when there is nothing to continue from.
        var expected: UInt64?
        var lastRecord: UInt64?
        for (index, file) in listing.segments.enumerated() {
            let path = listing.path(file.name)
            report.segments += 1
            if let expected, file.firstSequence != expected {
                report.damage.append(
                    .damaged(
                        file: path, offset: 0, reason: LogDirectory.discontinuity(starting: file, expected: expected)))
            }
            expected = nil
            let bytes: [UInt8]
            do {
                bytes = try fileSystem.readFile(path)
            } catch {
                report.damage.append(.io(error))
                continue
            }
            let scan = bytes.withBytes { buffer in
                LogDirectory.scanSegment(
                    buffer, nameFirstSequence: file.firstSequence, maximumRecordBytes: options.maximumRecordBytes
                ) { _, _, _ in }
            }
            report.records += scan.recordCount
            if let last = scan.lastRecordSequence { lastRecord = last }
            guard let fault = scan.fault else {
                expected = scan.lastRecordSequence.map { $0 + 1 } ?? file.firstSequence
                continue
            }
            if case .unsupported(let version) = fault {
                report.damage.append(.unsupportedVersion(file: path, version: version))
            } else if index == listing.segments.count - 1 && fault.couldBeTornTail {
                let end = bytes.withBytes { LogFormat.endOfContent($0, from: fault.offset) }
                report.tornTail = TornTail(file: path, offset: fault.offset, length: end - fault.offset)
            } else {
                report.damage.append(.damaged(file: path, offset: fault.offset, reason: fault.reason))
            }
        }
        report.lastSequence = max(covered, lastRecord ?? 0)
        return report
    }

    /// Keep the longest valid prefix of the log and move every byte after it (and any later segment) into `aside/`;
    /// returns what was kept and dropped. Takes the directory's lock, so it refuses a directory in use.
    ///
    /// Unreadable snapshots are moved aside too, and so are damaged segments that the newest valid snapshot already
    /// covers, together with the segments before them (a start never needs them). Nothing is removed: every byte
    /// dropped is kept in `aside/`, durably, before it leaves the log.
    public static func repair(
        directory: String, fileSystem: any FileSystem = POSIXFileSystem(), options: LogOptions = LogOptions()
    ) throws(LogError) -> RepairReport {
        guard fileSystem.fileExists(directory) else {
            throw .io(FileSystemError(operation: "opendir", path: directory, errorNumber: ENOENT))
        }
        let lock: DirectoryLock
        do {
            lock = try fileSystem.lockExclusively(joinPath(directory, LogFormat.lockName))
        } catch {
            throw error.isLockHeldElsewhere ? .locked(directory: directory, holderPID: error.holderPID) : .io(error)
        }
        defer { lock.release() }
        var repair: Repair
        do throws(FileSystemError) {
            repair = Repair(listing: try LogDirectory(path: directory, fileSystem: fileSystem), fileSystem: fileSystem)
        } catch {
            throw .io(error)
        }
        try repair.run(options: options)
        return repair.report
    }
}

/// A snapshot file and whether it can be loaded.
public struct SnapshotStatus: Sendable, Equatable {
    /// The file's path.
    public var file: String
    /// The sequence its name says it covers.
    public var sequence: UInt64
    /// Why it cannot be loaded, or `nil` if it can.
    public var problem: String?

    /// Whether its checksums verify.
    public var valid: Bool { problem == nil }
}

/// What `LogInspector.verify` found.
public struct VerificationReport: Sendable {
    /// The directory inspected.
    public var directory: String
    /// How many segment files there are.
    public var segments = 0
    /// How many valid records they hold (before the first fault in each).
    public var records = 0
    /// The last sequence a start would recover.
    public var lastSequence: UInt64 = 0
    /// The sequence of the newest valid snapshot, which a start would load.
    public var snapshotSequence: UInt64?
    /// Every snapshot file, oldest first.
    public var snapshots: [SnapshotStatus] = []
    /// The torn tail a start would cut off, if any.
    public var tornTail: TornTail?
    /// Everything else that is wrong; a start fails on damage to the files it reads.
    public var damage: [LogError] = []
    /// Warnings about the directory or files in it that the group or others may reach, one line each (they do not
    /// make the directory unhealthy: nothing is lost, but personal data is exposed).
    public var permissionWarnings: [String] = []

    /// An empty report on `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// Whether nothing is damaged; a torn tail alone is healthy, since a start cuts it off, and what it cuts was never
    /// acknowledged unless the disk lost a write it had reported durable in the last group before it (a hole under
    /// any earlier group is damage).
    public var isHealthy: Bool { damage.isEmpty }

    /// Lines for a person: what is there, then each problem.
    public var summary: [String] {
        var lines: [String] = []
        let sequences = records == 0 ? "" : ", up to sequence \(lastSequence)"
        lines.append("\(directory): \(segments) segment\(segments == 1 ? "" : "s"), \(records) records\(sequences)")
        for snapshot in snapshots {
            let state = snapshot.problem.map { "unreadable: \($0)" } ?? "valid"
            lines.append("snapshot \(snapshot.sequence) (\(snapshot.file)): \(state)")
        }
        if let tornTail {
            lines.append(
                "torn tail: \(tornTail.length) bytes at offset \(tornTail.offset) of \(tornTail.file), an unfinished "
                    + "write that the next start cuts off (keeping a copy in aside/)")
        }
        for problem in damage {
            lines.append("damage: \(problem)")
        }
        lines += permissionWarnings
        return lines
    }
}

/// What `LogInspector.repair` kept and dropped.
public struct RepairReport: Sendable {
    /// How many valid records remain in the log's segments, including those the snapshot covers.
    public var keptRecords = 0
    /// The last sequence a start will recover.
    public var lastSequence: UInt64 = 0
    /// How many bytes left the log for `aside/`.
    public var droppedBytes = 0
    /// Where the dropped files and tails now are (paths under `aside/`).
    public var movedFiles: [String] = []
    /// Lines for a person: each action, then the outcome.
    public var summary: [String] = []

    /// A report of a repair that did nothing.
    public init() {}
}

/// The steps of `LogInspector.repair` once the lock is taken.
private struct Repair {
    var listing: LogDirectory
    let fileSystem: any FileSystem
    var report = RepairReport()

    init(listing: LogDirectory, fileSystem: any FileSystem) {
        self.listing = listing
        self.fileSystem = fileSystem
    }

    mutating func run(options: LogOptions) throws(LogError) {
        for temporary in listing.temporaries {
            try? fileSystem.removeFile(listing.path(temporary))
        }
        var covered: UInt64 = 0
        var unreadable: [(name: String, reason: String)] = []
        for file in listing.snapshots {
            switch listing.readSnapshot(file, mapped: false, fileSystem: fileSystem) {
            case .valid:
                covered = file.sequence
            case .invalid(let reason):
                unreadable.append((file.name, reason))
            case .unsupported(let version):
                // A newer merit's files are left for that merit to judge.
                throw .unsupportedVersion(file: listing.path(file.name), version: version)
            }
        }
        report.lastSequence = covered
        for file in listing.segments {
            // Checked before anything moves, so that a newer merit's log is left exactly as it was.
            let bytes: [UInt8]
            do {
                bytes = try fileSystem.readFile(listing.path(file.name))
            } catch {
                throw .io(error)
            }
            if case .unsupported(let version) = bytes.withBytes({ LogFormat.checkSegmentHeader($0) }) {
                throw .unsupportedVersion(file: listing.path(file.name), version: version)
            }
        }
        do throws(FileSystemError) {
            for snapshot in unreadable {
                try moveAside(snapshot.name, because: "unreadable: \(snapshot.reason)")
            }
            if let start = listing.segmentIndex(holding: covered + 1) {
                try dropDamagedCoveredSegments(before: start, options: options)
                try keepValidPrefix(from: start, options: options)
            } else {
                // Every segment starts after a gap: none of their records can be applied.
                try moveAside(fromIndex: 0, because: "the records before it are missing")
            }
        } catch {
            throw .io(error)
        }
        finish()
    }

    /// Segments before `start` hold only records the snapshot covers; if any is damaged, or does not continue into
    /// the next, it and every segment before it are moved aside, since no start can use them any more.
    private mutating func dropDamagedCoveredSegments(before start: Int, options: LogOptions) throws(FileSystemError) {
        let segments = listing.segments
        var lastBad: Int?
        var expected: UInt64?
        var recordCounts: [Int] = []
        for index in 0..<start {
            let file = segments[index]
            if let expected, expected != file.firstSequence { lastBad = index - 1 }
            let scan = try scan(file, options: options).scan
            recordCounts.append(scan.recordCount)
            if scan.fault != nil {
                lastBad = index
                expected = nil
            } else {
                expected = scan.lastRecordSequence.map { $0 + 1 } ?? file.firstSequence
            }
        }
        if let expected, expected != segments[start].firstSequence { lastBad = start - 1 }
        report.keptRecords += recordCounts[((lastBad ?? -1) + 1)...].reduce(0, +)
        guard let lastBad else { return }
        for index in (0...lastBad).reversed() {
            try moveAside(segments[index].name, because: "damaged or disconnected, and covered by the snapshot")
        }
    }

    /// From `start` on, keep records while they are valid and continuous; cut the segment where they stop and move
    /// every later segment aside.
    private mutating func keepValidPrefix(from start: Int, options: LogOptions) throws(FileSystemError) {
        let segments = listing.segments
        var expected = segments[start].firstSequence
        for index in start..<segments.count {
            let file = segments[index]
            if index > start && file.firstSequence != expected {
                try moveAside(fromIndex: index, because: LogDirectory.discontinuity(starting: file, expected: expected))
                return
            }
            let (bytes, scan) = try scan(file, options: options)
            report.keptRecords += scan.recordCount
            if let last = scan.lastRecordSequence {
                report.lastSequence = max(report.lastSequence, last)
                expected = last + 1
            }
            guard let fault = scan.fault else { continue }
            switch fault {
            case .partialHeader, .header, .unsupported:
                try moveAside(fromIndex: index, because: fault.reason)
            case .record(let offset, _, _, _):
                try moveAside(fromIndex: index + 1, because: "they follow damage in \(file.name)")
                let tail = try bytes.withBytes { buffer throws(FileSystemError) in
                    try listing.cutTail(
                        of: file, bytes: buffer, at: offset, saveIsRequired: true, fileSystem: fileSystem)
                }
                report.droppedBytes += tail.length
                if let saved = tail.savedAs { report.movedFiles.append(saved) }
                report.summary.append(
                    "cut \(file.name) at offset \(offset) (\(fault.reason)); the \(tail.length) bytes after it are in "
                        + (tail.savedAs ?? "aside/"))
            }
            return
        }
    }

    private func scan(
        _ file: LogDirectory.SegmentFile, options: LogOptions
    ) throws(FileSystemError) -> (bytes: [UInt8], scan: LogDirectory.SegmentScan) {
        let bytes = try fileSystem.readFile(listing.path(file.name))
        let scan = bytes.withBytes { buffer in
            LogDirectory.scanSegment(
                buffer, nameFirstSequence: file.firstSequence, maximumRecordBytes: options.maximumRecordBytes
            ) { _, _, _ in }
        }
        return (bytes, scan)
    }

    /// Move the segment at `index` and every later one aside, newest first, so that an interrupted repair leaves a
    /// log that a second repair continues.
    private mutating func moveAside(fromIndex index: Int, because reason: String) throws(FileSystemError) {
        guard index < listing.segments.count else { return }
        for file in listing.segments[index...].reversed() {
            try moveAside(file.name, because: reason)
        }
    }

    /// Rename `name` into `aside/` and make both directories durable, the destination first.
    private mutating func moveAside(_ name: String, because reason: String) throws(FileSystemError) {
        let source = listing.path(name)
        let size = (try? fileSystem.readFile(source).count) ?? 0
        let target = try listing.asidePath(for: name, fileSystem: fileSystem)
        try fileSystem.rename(source, target)
        try fileSystem.synchronizeDirectory(parentDirectory(of: target))
        try fileSystem.synchronizeDirectory(listing.path)
        report.droppedBytes += size
        report.movedFiles.append(target)
        report.summary.append("moved \(name) (\(size) bytes) to \(target): \(reason)")
    }

    private mutating func finish() {
        if report.summary.isEmpty {
            report.summary.append("nothing to repair in \(listing.path)")
        }
        report.summary.append(
            "kept \(report.keptRecords) records up to sequence \(report.lastSequence); "
                + "dropped \(report.droppedBytes) bytes into aside/")
    }
}
