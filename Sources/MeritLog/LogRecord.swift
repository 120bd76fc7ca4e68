/// A record read back from the log; the payload points into a buffer valid only during the replay callback.
public struct LogRecord {
    /// The record's position in the log: 1 for the first record ever appended, then contiguous.
    public let sequence: UInt64
    /// The caller's record type, stored but not interpreted.
    public let type: UInt16
    /// The caller's bytes; copy them to keep them past the callback.
    public let payload: UnsafeRawBufferPointer

    /// A record with these fields.
    public init(sequence: UInt64, type: UInt16, payload: UnsafeRawBufferPointer) {
        self.sequence = sequence
        self.type = type
        self.payload = payload
    }
}
