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

    /// Options with the given limits; a record can never exceed 4 GiB − 1, the most its length field holds.
    public init(maximumSegmentBytes: Int = 64 << 20, maximumRecordBytes: Int = 64 << 20, retainsSegments: Bool = true) {
        self.maximumSegmentBytes = max(LogFormat.segmentHeaderBytes, maximumSegmentBytes)
        self.maximumRecordBytes = min(max(0, maximumRecordBytes), Int(UInt32.max))
        self.retainsSegments = retainsSegments
    }
}
