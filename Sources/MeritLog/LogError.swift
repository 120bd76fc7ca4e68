/// Why the log could not be opened, written or inspected.
public enum LogError: Error, Sendable, CustomStringConvertible {
    /// Another process (or another open in this one) holds the directory's lock.
    case locked(directory: String, holderPID: Int32?)
    /// A record or header is invalid and is not a torn tail; `file` is the path, `offset` the first bad byte.
    case damaged(file: String, offset: Int, reason: String)
    /// A file was written in a newer format than this code reads.
    case unsupportedVersion(file: String, version: UInt32)
    /// A file operation failed.
    case io(FileSystemError)
    /// The writer refuses work after an earlier failure (or after `close()`); `reason` names the original error.
    case unavailable(reason: String)
    /// A payload larger than `LogOptions.maximumRecordBytes`.
    case recordTooLarge(length: Int, maximum: Int)
    /// The caller's `replay` closure threw for the record with `sequence`.
    case replayFailed(sequence: UInt64, message: String)
    /// The caller's `snapshot` closure threw, or a snapshot was asked for while records were pending.
    case snapshotFailed(message: String)

    /// One sentence saying what happened and, where there is something to do, what to do.
    public var description: String {
        switch self {
        case .locked(let directory, let holderPID?):
            "The data directory \(directory) is in use by another merit process (pid \(holderPID)); "
                + "stop it or choose another directory."
        case .locked(let directory, nil):
            "The data directory \(directory) is in use by another merit process; stop it or choose another directory."
        case .damaged(let file, let offset, let reason):
            "\(file) is damaged at offset \(offset): \(reason); nothing was changed, and repair can keep the valid "
                + "records before it and move the rest aside."
        case .unsupportedVersion(let file, let version):
            "\(file) has format version \(version), newer than this merit reads; use the newer merit that wrote it."
        case .io(let error):
            "Storage failed: \(error)."
        case .unavailable(let reason):
            "The log accepts no more writes: \(reason)."
        case .recordTooLarge(let length, let maximum):
            "A record of \(length) bytes exceeds the maximum of \(maximum) bytes."
        case .replayFailed(let sequence, let message):
            "Replaying log record \(sequence) failed: \(message)."
        case .snapshotFailed(let message):
            "The snapshot failed: \(message)."
        }
    }
}
