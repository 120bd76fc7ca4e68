/// The files of a data directory, and the reading of segments and snapshots that recovery, verification and repair
/// share.
struct LogDirectory {
    /// A segment file: its name and the first sequence its name promises.
    struct SegmentFile {
        var name: String
        var firstSequence: UInt64
    }

    /// A snapshot file: its name and the sequence its name promises.
    struct SnapshotFile {
        var name: String
        var sequence: UInt64
    }

    let path: String
    /// Ordered by first sequence.
    var segments: [SegmentFile] = []
    /// Ordered by sequence, oldest first.
    var snapshots: [SnapshotFile] = []
    /// Names ending in `.tmp`: files whose atomic creation never finished.
    var temporaries: [String] = []

    /// A listing of nothing, for `path`.
    init(empty path: String) {
        self.path = path
    }

    /// List the directory at `path` and sort its files by kind; other names (`LOCK`, `aside`) are left alone.
    init(path: String, fileSystem: any FileSystem) throws(FileSystemError) {
        self.path = path
        for name in try fileSystem.listDirectory(path) {
            if name.hasSuffix(LogFormat.temporarySuffix) {
                temporaries.append(name)
            } else if let first = LogFormat.segmentFirstSequence(name) {
                segments.append(SegmentFile(name: name, firstSequence: first))
            } else if let sequence = LogFormat.snapshotSequence(name) {
                snapshots.append(SnapshotFile(name: name, sequence: sequence))
            }
        }
        segments.sort { $0.firstSequence < $1.firstSequence }
        snapshots.sort { $0.sequence < $1.sequence }
    }

    /// The path of `name` in the directory.
    func path(_ name: String) -> String { joinPath(path, name) }

    // MARK: - Permissions

    /// The data directory, and the files and folders in it, that the group or others may reach, each as
    /// `path (mode 0644)`: the directory holds personal data, so only its owner should (PostgreSQL refuses such a
    /// data directory for the same reason).
    static func exposedPaths(in directory: String, fileSystem: any FileSystem) -> [String] {
        var exposed: [String] = []
        func check(_ path: String) {
            if let mode = fileSystem.permissions(of: path), mode & 0o077 != 0 {
                exposed.append("\(path) (mode \(String(mode, radix: 8)))")
            }
        }
        check(directory)
        for name in ((try? fileSystem.listDirectory(directory)) ?? []).sorted() {
            let path = joinPath(directory, name)
            check(path)
            if name == LogFormat.asideName {
                for inner in ((try? fileSystem.listDirectory(path)) ?? []).sorted() { check(joinPath(path, inner)) }
            }
        }
        return exposed
    }

    /// What to say about `exposed`: one warning line per path and what to do.
    static func exposureWarnings(_ exposed: [String], directory: String) -> [String] {
        guard !exposed.isEmpty else { return [] }
        return exposed.map { "warning: \($0) is readable or writable by group or others" }
            + ["the data directory holds personal data; make it private: chmod -R go-rwx \(directory)"]
    }

    /// The index of the segment holding `sequence`: the last one whose first sequence is at or before it (a
    /// segment's range ends where the next one's begins), or `nil` if every segment starts after it.
    func segmentIndex(holding sequence: UInt64) -> Int? {
        segments.lastIndex { $0.firstSequence <= sequence }
    }

    // MARK: - Segments

    /// Why a segment is not entirely valid.
    enum SegmentFault {
        /// Fewer than 32 bytes (possibly none).
        case partialHeader
        /// The header is invalid; the segment holds nothing usable.
        case header(reason: String)
        case unsupported(version: UInt32)
        /// The record at `offset` is invalid; `validRecordFollows` tells a torn tail from damage, unless the bytes
        /// show a write that never fully reached the disk (`lostWrite`, `LogFormat.showsLostWrite`).
        case record(offset: Int, fault: LogFormat.RecordFault, validRecordFollows: Bool, lostWrite: Bool = false)

        /// The byte where the segment stops being valid.
        var offset: Int {
            if case .record(let offset, _, _, _) = self { return offset }
            return 0
        }

        /// Whether this is what a write cut short looks like, and so a torn tail if the segment is the newest:
        /// a partial header, or an invalid last record with no valid record after it, or with one after it but
        /// blocks of zeros where the write did not reach the disk.
        var couldBeTornTail: Bool {
            switch self {
            case .partialHeader: true
            case .record(_, let fault, let validRecordFollows, let lostWrite):
                !fault.isComplete && (!validRecordFollows || lostWrite)
            case .header, .unsupported: false
            }
        }

        var reason: String {
            switch self {
            case .partialHeader: "the segment header is incomplete"
            case .header(let reason): reason
            case .unsupported(let version): "format version \(version) is newer than this merit reads"
            case .record(_, let fault, let follows, _):
                follows ? fault.reason + ", yet a valid record follows it" : fault.reason
            }
        }
    }

    /// What reading one segment found.
    struct SegmentScan {
        var header: LogFormat.SegmentHeader?
        var recordCount = 0
        var lastRecordSequence: UInt64?
        /// The end of the header and the valid records before any fault.
        var validEnd = 0
        var fault: SegmentFault?
    }

    /// Check the header and every record of a whole segment file, passing each valid record to `onRecord` in order,
    /// until the first fault or the zeros after the records. `nameFirstSequence` is the first sequence the file's
    /// name promises.
    static func scanSegment<Failure: Error>(
        _ bytes: UnsafeRawBufferPointer, nameFirstSequence: UInt64, maximumRecordBytes: Int,
        onRecord: (_ sequence: UInt64, _ type: UInt16, _ payload: UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) -> SegmentScan {
        var scan = SegmentScan()
        switch LogFormat.checkSegmentHeader(bytes) {
        case .partial:
            scan.fault = .partialHeader
            return scan
        case .damaged(let reason):
            scan.fault = .header(reason: reason)
            return scan
        case .unsupported(let version):
            scan.fault = .unsupported(version: version)
            return scan
        case .valid(let header):
            guard header.firstSequence == nameFirstSequence else {
                scan.fault = .header(
                    reason: "the header says the first sequence is \(header.firstSequence), but the file name says "
                        + "\(nameFirstSequence)")
                return scan
            }
            scan.header = header
        }
        var offset = LogFormat.segmentHeaderBytes
        var expected = nameFirstSequence
        while offset < bytes.count {
            switch LogFormat.checkRecord(bytes, at: offset, maximumRecordBytes: maximumRecordBytes) {
            case .success(let record):
                guard record.sequence == expected else {
                    scan.fault = .record(
                        offset: offset, fault: .sequence(found: record.sequence, expected: expected),
                        validRecordFollows: false)
                    scan.validEnd = offset
                    return scan
                }
                let payloadStart = offset + LogFormat.recordHeaderBytes
                try onRecord(
                    record.sequence, record.type,
                    UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + record.length)]))
                scan.recordCount += 1
                scan.lastRecordSequence = record.sequence
                expected += 1
                offset = payloadStart + record.length
            case .failure(var fault):
                // Zeros after the records are the stretch laid down ahead of them (`LogOptions.preallocationBytes`).
                if LogFormat.isZero(bytes, offset..<bytes.count) {
                    scan.validEnd = offset
                    return scan
                }
                if case .tooLong(let length, let maximum) = fault,
                    LogFormat.isIntactOverlongRecord(bytes, at: offset)
                {
                    fault = .exceedsMaximum(length: length, maximum: maximum)
                }
                let follows = LogFormat.findValidRecord(
                    bytes, after: offset, expected: expected, maximumRecordBytes: maximumRecordBytes)
                // A write lost by the disk is torn only where no group began after it (version 2 segments say).
                var lostWrite = false
                if let follows, scan.header?.marksGroups == true {
                    lostWrite =
                        LogFormat.showsLostWrite(bytes, at: offset, next: follows, expected: expected)
                        && !LogFormat.groupStarts(
                            bytes, from: follows, sequence: expected, maximumRecordBytes: maximumRecordBytes)
                }
                scan.fault = .record(
                    offset: offset, fault: fault, validRecordFollows: follows != nil, lostWrite: lostWrite)
                scan.validEnd = offset
                return scan
            }
        }
        scan.validEnd = offset
        return scan
    }

    /// Why a segment starting at `file.firstSequence` cannot follow records that ended just before `expected`.
    static func discontinuity(starting file: SegmentFile, expected: UInt64) -> String {
        file.firstSequence > expected
            ? "records \(expected)…\(file.firstSequence - 1) are missing between this segment and the one before it"
            : "this segment starts at sequence \(file.firstSequence), overlapping the one before it, which ends at "
                + "\(expected - 1)"
    }

    // MARK: - Snapshots

    /// What reading a snapshot file found.
    enum SnapshotRead {
        /// The file's contents and where its payload lies in them.
        case valid(contents: FileContents, payload: Range<Int>)
        case invalid(reason: String)
        case unsupported(version: UInt32)
    }

    /// Read and check the snapshot file: mapped (start-up, which reads it once from start to end and keeps none of
    /// it) or copied (inspection, where a failed read must be reported, not end the process).
    func readSnapshot(_ snapshot: SnapshotFile, mapped: Bool, fileSystem: any FileSystem) -> SnapshotRead {
        let contents: FileContents
        do {
            let path = path(snapshot.name)
            contents = mapped ? try fileSystem.contents(of: path) : FileContents(try fileSystem.readFile(path))
        } catch {
            return .invalid(reason: "it cannot be read (\(error))")
        }
        let check = contents.withBytes { LogFormat.checkSnapshot($0, expectedSequence: snapshot.sequence) }
        switch check {
        case .valid(_, let payload): return .valid(contents: contents, payload: payload)
        case .damaged(let reason): return .invalid(reason: reason)
        case .unsupported(let version): return .unsupported(version: version)
        }
    }

    // MARK: - Keeping bytes aside

    /// Durably save `bytes` as `aside/<name>` (or `<name>-2`, `-3`… if taken) and return its path.
    func saveAside(_ bytes: [UInt8], as name: String, fileSystem: any FileSystem) throws(FileSystemError) -> String {
        let target = try asidePath(for: name, fileSystem: fileSystem)
        try fileSystem.writeFileAtomically(target, bytes)
        return target
    }

    /// A free path for `name` in `aside/`, which is created if needed.
    func asidePath(for name: String, fileSystem: any FileSystem) throws(FileSystemError) -> String {
        let aside = path(LogFormat.asideName)
        try fileSystem.createDirectory(aside)
        var candidate = joinPath(aside, name)
        var suffix = 2
        while fileSystem.fileExists(candidate) {
            candidate = joinPath(aside, "\(name)-\(suffix)")
            suffix += 1
        }
        return candidate
    }

    /// Cut the segment at `offset` after saving the bytes from there on in `aside/` (best effort if `saveIsRequired`
    /// is false), and make the cut durable. The zeros that end the file are not saved: they are the stretch laid
    /// down ahead of the records.
    func cutTail(
        of segment: SegmentFile, bytes: UnsafeRawBufferPointer, at offset: Int, saveIsRequired: Bool,
        fileSystem: any FileSystem
    ) throws(FileSystemError) -> TornTail {
        let segmentPath = path(segment.name)
        let end = LogFormat.endOfContent(bytes, from: offset)
        var tail = TornTail(file: segmentPath, offset: offset, length: end - offset)
        if tail.length > 0 {
            let torn = Array(bytes[offset..<end])
            do {
                tail.savedAs = try saveAside(torn, as: "torn-\(segment.name)-\(offset).bin", fileSystem: fileSystem)
            } catch {
                // Recovery keeps going without the copy: the bytes are a write that was never acknowledged.
                if saveIsRequired { throw error }
            }
        }
        let handle = try fileSystem.openForWriting(segmentPath)
        defer { fileSystem.close(handle) }
        try fileSystem.truncate(handle, to: offset)
        try fileSystem.synchronize(handle)
        return tail
    }

    /// Replace a segment whose header is incomplete with a fresh header, after saving what it held (best effort).
    func rewriteHeader(
        of segment: SegmentFile, bytes: UnsafeRawBufferPointer, generation: UInt64, fileSystem: any FileSystem
    ) throws(FileSystemError) -> TornTail {
        var tail = TornTail(file: path(segment.name), offset: 0, length: bytes.count)
        if bytes.count > 0 {
            tail.savedAs = try? saveAside(Array(bytes), as: "torn-\(segment.name)-0.bin", fileSystem: fileSystem)
        }
        let header = LogFormat.SegmentHeader(generation: generation, firstSequence: segment.firstSequence)
        try fileSystem.writeFileAtomically(path(segment.name), LogFormat.encodeSegmentHeader(header))
        return tail
    }

    /// The generation of the segment before `index`, read from its header; 0 if there is none or it is unreadable.
    func generation(before index: Int, fileSystem: any FileSystem) -> UInt64 {
        guard index > 0, let bytes = try? fileSystem.readFile(path(segments[index - 1].name)) else { return 0 }
        if case .valid(let header) = bytes.withUnsafeBytes({ LogFormat.checkSegmentHeader($0) }) {
            return header.generation
        }
        return 0
    }
}
