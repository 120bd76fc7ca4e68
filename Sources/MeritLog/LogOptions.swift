/// Limits of the log's files and records.
public struct LogOptions: Sendable {
    /// A commit first rolls to a new segment once the current one has reached this many bytes.
    public var maximumSegmentBytes: Int = 64 << 20
    /// The largest payload `append` accepts, and the largest length recovery believes before allocating anything.
    public var maximumRecordBytes: Int = 64 << 20

    /// Options with the given limits; a record can never exceed 4 GiB − 1, the most its length field holds.
    public init(maximumSegmentBytes: Int = 64 << 20, maximumRecordBytes: Int = 64 << 20) {
        self.maximumSegmentBytes = max(LogFormat.segmentHeaderBytes, maximumSegmentBytes)
        self.maximumRecordBytes = min(max(0, maximumRecordBytes), Int(UInt32.max))
    }
}
