import MeritTestSupport
import Testing

@testable import MeritLog

/// The data directory the simulated tests use.
let dataDirectory = "/data"

/// A record as a test keeps it: copied out of the replay buffer.
struct StoredRecord: Equatable, Sendable, CustomStringConvertible {
    var sequence: UInt64
    var type: UInt16
    var payload: [UInt8]

    var description: String { "#\(sequence) type \(type), \(payload.count) bytes" }
}

/// What an open recovered, copied out of the callbacks.
struct Recovered {
    var log: WriteAheadLog
    var report: RecoveryReport
    var snapshot: (sequence: UInt64, payload: [UInt8])?
    var records: [StoredRecord]
}

/// Open the log in `directory`, collecting the snapshot and every replayed record.
func openLog(
    _ fileSystem: any FileSystem, directory: String = dataDirectory, options: LogOptions = LogOptions()
) throws(LogError) -> Recovered {
    var snapshot: (sequence: UInt64, payload: [UInt8])?
    var records: [StoredRecord] = []
    let (log, report) = try WriteAheadLog.open(
        directory: directory, options: options, fileSystem: fileSystem,
        snapshot: { sequence, payload in snapshot = (sequence, Array(payload)) },
        replay: { record in
            records.append(StoredRecord(sequence: record.sequence, type: record.type, payload: Array(record.payload)))
        })
    return Recovered(log: log, report: report, snapshot: snapshot, records: records)
}

/// The error opening the log throws, or `nil` if it opens (in which case it is closed again).
func openError(
    _ fileSystem: any FileSystem, directory: String = dataDirectory, options: LogOptions = LogOptions()
) -> LogError? {
    do {
        let recovered = try openLog(fileSystem, directory: directory, options: options)
        recovered.log.close()
        return nil
    } catch {
        return error
    }
}

/// Deterministic bytes for record `seed`, so that every record differs from its neighbours.
func payload(seed: Int, count: Int) -> [UInt8] {
    var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// The record a test appends as number `sequence`: its type and payload derive from the sequence.
func expectedRecord(_ sequence: UInt64, size: Int) -> StoredRecord {
    StoredRecord(
        sequence: sequence, type: UInt16(truncatingIfNeeded: sequence % 7),
        payload: payload(seed: Int(sequence), count: size))
}

extension WriteAheadLog {
    /// Append `record` (whose sequence must be the next one) and return it.
    @discardableResult
    func append(_ record: StoredRecord) throws(LogError) -> StoredRecord {
        let sequence = try append(type: record.type, payload: record.payload)
        #expect(sequence == record.sequence)
        return record
    }

    /// Append and commit records of the given sizes, one commit each, and return them.
    func commitRecords(sizes: [Int]) throws(LogError) -> [StoredRecord] {
        var records: [StoredRecord] = []
        for size in sizes {
            let record = expectedRecord(lastSequence + 1, size: size)
            try append(record)
            try commit()
            records.append(record)
        }
        return records
    }
}

/// The path of the segment whose first sequence is `first`.
func segmentPath(_ first: UInt64, directory: String = dataDirectory) -> String {
    directory + "/" + LogFormat.segmentName(firstSequence: first)
}

/// The path of the snapshot covering `sequence`.
func snapshotPath(_ sequence: UInt64, directory: String = dataDirectory) -> String {
    directory + "/" + LogFormat.snapshotName(sequence: sequence)
}

/// The names of the segments in `directory`, in order.
func segmentNames(_ fileSystem: any FileSystem, directory: String = dataDirectory) throws -> [String] {
    try LogDirectory(path: directory, fileSystem: fileSystem).segments.map(\.name)
}

/// Where each record of a segment starts, and where the segment ends, from its bytes.
func recordOffsets(_ segment: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = LogFormat.segmentHeaderBytes
    while offset + LogFormat.recordHeaderBytes <= segment.count {
        offsets.append(offset)
        let length =
            Int(segment[offset + 4]) | Int(segment[offset + 5]) << 8 | Int(segment[offset + 6]) << 16
            | Int(segment[offset + 7]) << 24
        offset += LogFormat.recordHeaderBytes + length
    }
    return offsets
}

/// A simulated file system holding a log of records with `sizes`, all committed in one segment, and the log closed.
///
/// The segment is append-only by default (no zeros laid down ahead, `LogOptions.preallocationBytes` 0), so that the
/// fixtures built from it end where its last record does; `PreallocationTests` covers segments with zeros ahead.
func simulatedLog(
    sizes: [Int], options: LogOptions = LogOptions(preallocationBytes: 0)
) throws -> (fileSystem: SimulatedFileSystem, records: [StoredRecord]) {
    let fileSystem = SimulatedFileSystem()
    let recovered = try openLog(fileSystem, options: options)
    let records = try recovered.log.commitRecords(sizes: sizes)
    recovered.log.close()
    return (fileSystem, records)
}

/// A framed segment built by hand, for fixtures the writer would never produce.
func handmadeSegment(
    first: UInt64, generation: UInt64 = 1, version: UInt32 = LogFormat.segmentVersion,
    records: [(sequence: UInt64, payload: [UInt8])]
) -> [UInt8] {
    var bytes = LogFormat.encodeSegmentHeader(
        LogFormat.SegmentHeader(generation: generation, firstSequence: first, version: version))
    for record in records {
        record.payload.withUnsafeBytes { payload in
            LogFormat.appendRecord(to: &bytes, sequence: record.sequence, type: 0, payload: payload)
        }
    }
    return bytes
}

/// `errno` values for fault injection, named for test output.
struct ErrorNumber: Sendable, CustomTestStringConvertible {
    var value: Int32
    var name: String
    var testDescription: String { name }

    static let inputOutput = ErrorNumber(value: 5, name: "EIO")
    static let noSpace = ErrorNumber(value: 28, name: "ENOSPC")
}
