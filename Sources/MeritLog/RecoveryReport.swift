/// What recovery found and did when the log was opened.
public struct RecoveryReport: Sendable {
    /// The sequence covered by the snapshot that was loaded, if any.
    public var snapshotSequence: UInt64?
    /// Paths of newer snapshot files that were unreadable, so that recovery fell back past them.
    public var skippedSnapshots: [String] = []
    /// How many records after the snapshot were passed to `replay`.
    public var replayedRecords: Int = 0
    /// The torn tail cut off at open, if there was one.
    public var tornTail: TornTail?
    /// The last sequence recovered: the last replayed record's, or the snapshot's if no record follows it.
    public var lastSequence: UInt64 = 0
    /// Warnings about the data directory or files in it that the group or others may reach (none when it is
    /// private), one line each.
    public var permissionWarnings: [String] = []

    /// A report of a recovery that found nothing.
    public init(
        snapshotSequence: UInt64? = nil, skippedSnapshots: [String] = [], replayedRecords: Int = 0,
        tornTail: TornTail? = nil, lastSequence: UInt64 = 0
    ) {
        self.snapshotSequence = snapshotSequence
        self.skippedSnapshots = skippedSnapshots
        self.replayedRecords = replayedRecords
        self.tornTail = tornTail
        self.lastSequence = lastSequence
    }
}

/// Bytes after the last valid record of the newest segment that a write cut short left: followed by no valid record,
/// or by valid ones of the same unfinished group with a block the disk never stored between.
public struct TornTail: Sendable, Equatable {
    /// The segment's path.
    public var file: String
    /// Where the torn bytes start: the end of the last valid record (or 0 for a segment with a partial header).
    public var offset: Int
    /// How many bytes were torn: up to the end of the disk block holding the last one that is not zero (the zeros
    /// after it were laid down ahead of the records).
    public var length: Int
    /// Where a copy of the bytes was kept (a path under `aside/`), or `nil` if there was nothing to keep or the copy
    /// failed.
    public var savedAs: String?

    /// A torn tail of `length` bytes at `offset` of `file`.
    public init(file: String, offset: Int, length: Int, savedAs: String? = nil) {
        self.file = file
        self.offset = offset
        self.length = length
        self.savedAs = savedAs
    }
}
