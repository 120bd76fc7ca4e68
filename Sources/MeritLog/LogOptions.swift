/// Limits of the log's files and records.
public struct LogOptions: Sendable {
    /// A commit first rolls to a new segment once the current one has reached this many bytes.
    public var maximumSegmentBytes: Int = 64 << 20
    /// The largest payload `append` accepts, and the largest length recovery believes before allocating anything.
    public var maximumRecordBytes: Int = 64 << 20
    /// Whether a snapshot leaves every segment in place (the default: the records are the organization's history,
    /// which a reader such as an event feed reads long after a snapshot covers them), or deletes the segments no
    /// fallback to an older snapshot can need. Either way start-up reads only what follows the snapshot.
    public var retainsSegments = true
    /// How far ahead of its records a segment is laid down in zeros (0: not at all; every commit then appends).
    ///
    /// A commit that writes over zeros already durable changes no file size, so its `fdatasync` has no metadata to
    /// journal: on ext4 it takes about 110 µs where an append takes 150 µs, and 130 µs where an append of a 30 KB
    /// group takes 250 µs. The commit that reaches the end of the zeros appends, and lays down the next stretch
    /// (up to the segment's maximum size) in the same write sequence and `fdatasync`.
    public var preallocationBytes = 1 << 20

    /// Options with the given limits; a record can never exceed 4 GiB − 1, the most its length field holds.
    public init(
        maximumSegmentBytes: Int = 64 << 20, maximumRecordBytes: Int = 64 << 20, retainsSegments: Bool = true,
        preallocationBytes: Int = 1 << 20
    ) {
        self.maximumSegmentBytes = max(LogFormat.segmentHeaderBytes, maximumSegmentBytes)
        self.maximumRecordBytes = min(max(0, maximumRecordBytes), Int(UInt32.max))
        self.retainsSegments = retainsSegments
        self.preallocationBytes = max(0, preallocationBytes)
    }
}
