/// Reads the committed records of a data directory's segments from any byte offset, checking each record's checksum,
/// without replaying anything: how a reader of the history (the event feed) pages through it while the log keeps
/// being written.
///
/// A segment is mapped for the duration of one `records` call, at its size then, so the records a commit writes
/// later are read by the next call. Reading stops quietly at the first record that is not valid: the tail being
/// written, or damage, which recovery and `verify` report.
public struct LogReader {
    /// A segment file.
    public struct Segment: Sendable, Equatable {
        /// The sequence of its first record (from its name).
        public var firstSequence: UInt64
        /// Its path.
        public var path: String
    }

    let directory: String
    let fileSystem: any FileSystem
    let options: LogOptions

    /// A reader of the segments in `directory`.
    public init(directory: String, fileSystem: any FileSystem = POSIXFileSystem(), options: LogOptions = LogOptions()) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
    }

    /// The segments, in sequence order.
    public func segments() throws(LogError) -> [Segment] {
        let listing: LogDirectory
        do {
            listing = try LogDirectory(path: directory, fileSystem: fileSystem)
        } catch {
            throw .io(error)
        }
        return listing.segments.map { Segment(firstSequence: $0.firstSequence, path: listing.path($0.name)) }
    }

    /// Call `body` with each valid record of `segment` from byte `offset` (0: its first record) and the offset
    /// just after it, until `body` returns `false` or the valid records end.
    public func records(
        in segment: Segment, from offset: Int, _ body: (LogRecord, _ next: Int) throws -> Bool
    ) throws {
        let contents: FileContents
        do {
            contents = try fileSystem.contents(of: segment.path)
        } catch {
            throw LogError.io(error)
        }
        try contents.withBytes { bytes in
            guard case .valid = LogFormat.checkSegmentHeader(bytes) else { return }
            var position = max(offset, LogFormat.segmentHeaderBytes)
            while position < bytes.count {
                guard
                    case .success(let record) = LogFormat.checkRecord(
                        bytes, at: position, maximumRecordBytes: options.maximumRecordBytes)
                else { return }
                let start = position + LogFormat.recordHeaderBytes
                let next = start + record.length
                let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<next])
                guard try body(LogRecord(sequence: record.sequence, type: record.type, payload: payload), next) else {
                    return
                }
                position = next
            }
        }
    }
}
