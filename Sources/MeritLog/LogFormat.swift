/// The on-disk format: file names, the segment header, record framing and the snapshot file (see README.md).
///
/// Every integer is little-endian. Checks are ordered cheapest first, so that scanning garbage for a valid record
/// rarely computes a checksum.
enum LogFormat {
    /// The snapshot format version this code writes, and the newest it reads.
    static let version: UInt32 = 1
    /// The segment format version this code writes; it reads 1 too. Version 2 adds the record flag
    /// `startsGroup`: a version 1 segment's records have no flags, and nothing is known of their groups.
    static let segmentVersion: UInt32 = 2
    /// The record flag on the first record of each group committed together (one write and one `fdatasync`).
    static let startsGroup: UInt16 = 1

    /// `MERITLOG` read as a little-endian integer.
    static let segmentMagic: UInt64 = magic("MERITLOG")
    /// `MERITSNP` read as a little-endian integer.
    static let snapshotMagic: UInt64 = magic("MERITSNP")

    /// Magic 8, version 4, generation 8, first sequence 8, CRC-32C of the preceding 28 bytes 4.
    static let segmentHeaderBytes = 32
    /// CRC-32C 4 (of the next 16 bytes and the payload), payload length 4, type 2, flags 2, sequence 8.
    static let recordHeaderBytes = 20
    /// Magic 8, version 4, sequence 8, payload length 8, payload CRC-32C 4, CRC-32C of the preceding 32 bytes 4.
    static let snapshotHeaderBytes = 36

    static let segmentPrefix = "log-"
    static let segmentSuffix = ".seg"
    static let snapshotPrefix = "snapshot-"
    static let snapshotSuffix = ".snap"
    static let temporarySuffix = ".tmp"
    static let lockName = "LOCK"
    static let asideName = "aside"

    private static func magic(_ text: String) -> UInt64 {
        var value: UInt64 = 0
        for (index, byte) in text.utf8.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }

    // MARK: - Names

    /// `log-00000000000000000001.seg`.
    static func segmentName(firstSequence: UInt64) -> String {
        segmentPrefix + paddedDecimal(firstSequence) + segmentSuffix
    }

    /// `snapshot-00000000000000001234.snap`.
    static func snapshotName(sequence: UInt64) -> String {
        snapshotPrefix + paddedDecimal(sequence) + snapshotSuffix
    }

    /// The first sequence in a segment's name, or `nil` if `name` is not a segment's.
    static func segmentFirstSequence(_ name: String) -> UInt64? {
        parseNumber(name, prefix: segmentPrefix, suffix: segmentSuffix)
    }

    /// The sequence in a snapshot's name, or `nil` if `name` is not a snapshot's.
    static func snapshotSequence(_ name: String) -> UInt64? {
        parseNumber(name, prefix: snapshotPrefix, suffix: snapshotSuffix)
    }

    /// Twenty decimal digits, so that names sort in sequence order.
    private static func paddedDecimal(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    private static func parseNumber(_ name: String, prefix: String, suffix: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard digits.count == 20, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }

    // MARK: - Segment header

    /// What a segment's header says.
    struct SegmentHeader: Equatable {
        var generation: UInt64
        var firstSequence: UInt64
        /// The format version: 1 or 2 when read, `segmentVersion` when written.
        var version = segmentVersion

        /// Whether its records carry `startsGroup` (version 2 on).
        var marksGroups: Bool { version >= 2 }
    }

    /// The outcome of reading a segment's header.
    enum SegmentHeaderCheck {
        case valid(SegmentHeader)
        /// Fewer than 32 bytes: a segment whose creation was cut short (or an empty file).
        case partial
        case damaged(reason: String)
        case unsupported(version: UInt32)
    }

    static func encodeSegmentHeader(_ header: SegmentHeader) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segmentHeaderBytes)
        bytes.appendLittleEndian(segmentMagic)
        bytes.appendLittleEndian(header.version)
        bytes.appendLittleEndian(header.generation)
        bytes.appendLittleEndian(header.firstSequence)
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        return bytes
    }

    static func checkSegmentHeader(_ bytes: UnsafeRawBufferPointer) -> SegmentHeaderCheck {
        guard bytes.count >= segmentHeaderBytes else { return .partial }
        guard bytes.littleEndian(UInt64.self, at: 0) == segmentMagic else {
            return .damaged(reason: "the segment header does not start with MERITLOG")
        }
        // The version is read before the checksum: a newer format may lay out (and checksum) its header differently.
        let fileVersion = bytes.littleEndian(UInt32.self, at: 8)
        if fileVersion > segmentVersion { return .unsupported(version: fileVersion) }
        let stored = bytes.littleEndian(UInt32.self, at: 28)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<28])) == stored else {
            return .damaged(reason: "the segment header's checksum does not match")
        }
        guard fileVersion >= 1 else {
            return .damaged(reason: "the segment header has format version \(fileVersion), which was never written")
        }
        return .valid(
            SegmentHeader(
                generation: bytes.littleEndian(UInt64.self, at: 12),
                firstSequence: bytes.littleEndian(UInt64.self, at: 20), version: fileVersion))
    }

    // MARK: - Records

    /// Append a framed record to `buffer`: the header with its checksum, then the payload.
    static func appendRecord(
        to buffer: inout [UInt8], sequence: UInt64, type: UInt16, flags: UInt16 = 0, payload: UnsafeRawBufferPointer
    ) {
        // The header is built in place and appended with one call (an append per field cost a tenth of a write).
        // The sequence is two 32-bit halves, low first, so that the tuple has no padding.
        var header: (UInt32, UInt32, UInt16, UInt16, UInt32, UInt32) = (
            0, UInt32(payload.count).littleEndian, type.littleEndian, flags.littleEndian,
            UInt32(truncatingIfNeeded: sequence).littleEndian, UInt32(truncatingIfNeeded: sequence >> 32).littleEndian
        )
        withUnsafeMutableBytes(of: &header) { header in
            let covered = UnsafeRawBufferPointer(rebasing: header[4..<recordHeaderBytes])
            let checksum = CRC32C.checksum(payload, continuing: CRC32C.checksum(covered))
            header.storeBytes(of: checksum.littleEndian, as: UInt32.self)
            buffer.append(contentsOf: UnsafeRawBufferPointer(header))
        }
        buffer.append(contentsOf: payload)
    }

    /// Why the bytes at an offset are not a valid record.
    enum RecordFault: Error, Equatable {
        case partialHeader(available: Int)
        case tooLong(length: Int, maximum: Int)
        case pastEnd(length: Int, available: Int)
        /// Flags this code does not know (it knows `startsGroup`).
        case reservedNotZero
        case checksumMismatch
        /// A record that checks out but carries the wrong sequence: a gap or a duplicate, never a torn write.
        case sequence(found: UInt64, expected: UInt64)
        /// A complete record whose checksum verifies but whose length exceeds the maximum the reader was given:
        /// written with a larger limit, never a torn write.
        case exceedsMaximum(length: Int, maximum: Int)

        /// Whether the record was written completely, so that it cannot be the torn end of a write.
        var isComplete: Bool {
            switch self {
            case .sequence, .exceedsMaximum: true
            default: false
            }
        }

        var reason: String {
            switch self {
            case .partialHeader(let available):
                "only \(available) bytes remain, fewer than a record header's 20"
            case .tooLong(let length, let maximum):
                "the record length \(length) exceeds the maximum of \(maximum) bytes"
            case .pastEnd(let length, let available):
                "the record length \(length) runs past the end of the file (\(available) bytes follow the header)"
            case .reservedNotZero:
                "the record header has flags this merit does not know"
            case .checksumMismatch:
                "the record's checksum does not match"
            case .exceedsMaximum(let length, let maximum):
                "the record length \(length) exceeds the maximum of \(maximum) bytes this reader allows, "
                    + "though the record is intact"
            case .sequence(let found, let expected):
                found < expected
                    ? "the record has sequence \(found), a duplicate (expected \(expected))"
                    : "the record has sequence \(found), but \(expected) was expected (records are missing)"
            }
        }
    }

    /// The record at `offset`, or why there is none. `bytes` is a whole segment file.
    @inline(__always)
    static func checkRecord(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, maximumRecordBytes: Int
    ) -> Result<(length: Int, type: UInt16, sequence: UInt64), RecordFault> {
        let available = bytes.count - offset
        guard available >= recordHeaderBytes else { return .failure(.partialHeader(available: available)) }
        let length = Int(bytes.littleEndian(UInt32.self, at: offset + 4))
        // Lengths are checked before anything is allocated or checksummed.
        guard length <= maximumRecordBytes else {
            return .failure(.tooLong(length: length, maximum: maximumRecordBytes))
        }
        guard length <= available - recordHeaderBytes else {
            return .failure(.pastEnd(length: length, available: available - recordHeaderBytes))
        }
        guard flags(bytes, at: offset) & ~startsGroup == 0 else { return .failure(.reservedNotZero) }
        let stored = bytes.littleEndian(UInt32.self, at: offset)
        let covered = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + recordHeaderBytes + length)])
        guard CRC32C.checksum(covered) == stored else { return .failure(.checksumMismatch) }
        return .success(
            (length, bytes.littleEndian(UInt16.self, at: offset + 8), bytes.littleEndian(UInt64.self, at: offset + 12))
        )
    }

    /// The flags of the record whose header starts at `offset` (at least a header's bytes must follow).
    @inline(__always)
    static func flags(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        bytes.littleEndian(UInt16.self, at: offset + 10)
    }

    /// Whether the record at `offset`, rejected as longer than the maximum, is nevertheless complete and intact.
    ///
    /// Only asked of the first invalid record of a segment, so its cost (one checksum bounded by the file's size)
    /// is paid at most once per segment.
    static func isIntactOverlongRecord(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let available = bytes.count - offset - recordHeaderBytes
        let length = Int(bytes.littleEndian(UInt32.self, at: offset + 4))
        guard available >= 0, length <= available, flags(bytes, at: offset) & ~startsGroup == 0 else { return false }
        let covered = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + recordHeaderBytes + length)])
        return CRC32C.checksum(covered) == bytes.littleEndian(UInt32.self, at: offset)
    }

    /// Whether `bytes[range]` are all zero: the stretch a log lays down ahead of its records
    /// (`LogOptions.preallocationBytes`), or a part of a write that never reached the disk there.
    static func isZero(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != 0 { return false }
            offset += 8
        }
        while offset < range.upperBound {
            if bytes[offset] != 0 { return false }
            offset += 1
        }
        return true
    }

    /// Where a tail from `offset` ends and the zeros laid down ahead of it begin: the end of the disk block holding
    /// its last byte that is not zero (a record's own bytes may end in zeros), or the end of the file if sooner;
    /// `offset` if there is nothing but zeros.
    static func endOfContent(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var end = bytes.count
        while end > offset && bytes[end - 1] == 0 { end -= 1 }
        guard end > offset else { return offset }
        return min(bytes.count, (end + diskBlockBytes - 1) / diskBlockBytes * diskBlockBytes)
    }

    /// The size of the blocks a disk writes whole or not at all: 512 bytes, the smallest, and aligned in the file.
    static let diskBlockBytes = 512

    /// Whether the invalid record at `offset` shows a write that never fully reached the disk, although a valid
    /// record follows at `next`: a whole 512-byte block of the file between the two that reads as zeros, or the
    /// block the bad record starts in, zero from the record on for at least its checksum and length (and ending
    /// before `next`: a block a valid record starts in was stored).
    ///
    /// A group is written over zeros (or past the end), and a disk stores the blocks of an unfinished write in any
    /// order, so a part of it never stored reads as zeros while later records of the group may have been stored.
    /// Whether the write is the group in flight (never acknowledged) or an acknowledged one that the disk lost is
    /// for `groupStarts` to tell.
    ///
    /// A zero stretch of fewer than 8 bytes (a record starting in the last 7 bytes of a block) is a lost write only
    /// when the rest of the header, stored in the next block, says the record starts a group and has the `expected`
    /// sequence: the first record of the group in flight, whose first block was not stored.
    static func showsLostWrite(_ bytes: UnsafeRawBufferPointer, at offset: Int, next: Int, expected: UInt64) -> Bool {
        let firstBlockEnd = (offset / diskBlockBytes + 1) * diskBlockBytes
        if firstBlockEnd <= next && isZero(bytes, offset..<firstBlockEnd) {
            if firstBlockEnd - offset >= 8 { return true }
            if offset + recordHeaderBytes <= bytes.count
                && flags(bytes, at: offset) & startsGroup != 0
                && bytes.littleEndian(UInt64.self, at: offset + 12) == expected
            {
                return true
            }
        }
        var block = firstBlockEnd
        while block + diskBlockBytes <= next {
            if isZero(bytes, block..<(block + diskBlockBytes)) { return true }
            block += diskBlockBytes
        }
        return false
    }

    /// Whether a valid record from `next` on (the first valid one after an invalid record, whose sequence is
    /// `sequence`) starts a group: then the group of the invalid record was written, and made durable, before
    /// another began, so it was acknowledged.
    static func groupStarts(
        _ bytes: UnsafeRawBufferPointer, from next: Int, sequence: UInt64, maximumRecordBytes: Int
    ) -> Bool {
        var position: Int? = next
        var expected = sequence
        while let offset = position {
            guard case .success(let record) = checkRecord(bytes, at: offset, maximumRecordBytes: maximumRecordBytes)
            else {
                position = findValidRecord(
                    bytes, after: offset, expected: expected, maximumRecordBytes: maximumRecordBytes)
                continue
            }
            if flags(bytes, at: offset) & startsGroup != 0 { return true }
            expected = record.sequence + 1
            position = offset + recordHeaderBytes + record.length
        }
        return false
    }

    /// The offset of the first valid record after `offset` whose sequence could follow `expected` there, if any.
    ///
    /// Each record takes at least 20 bytes, so a record `distance` bytes past the first bad one can have a sequence
    /// of at most `expected + distance / 20`: candidates outside that window are dismissed before their checksum is
    /// computed, which keeps the scan of a zeroed or random tail linear in practice.
    static func findValidRecord(
        _ bytes: UnsafeRawBufferPointer, after offset: Int, expected: UInt64, maximumRecordBytes: Int
    ) -> Int? {
        var candidate = offset + 1
        while candidate + recordHeaderBytes <= bytes.count {
            defer { candidate += 1 }
            let sequence = bytes.littleEndian(UInt64.self, at: candidate + 12)
            guard sequence >= expected, sequence - expected <= UInt64((candidate - offset) / recordHeaderBytes) else {
                continue
            }
            if case .success = checkRecord(bytes, at: candidate, maximumRecordBytes: maximumRecordBytes) {
                return candidate
            }
        }
        return nil
    }

    // MARK: - Snapshots

    static func encodeSnapshotHeader(sequence: UInt64, payload: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(snapshotHeaderBytes)
        bytes.appendLittleEndian(snapshotMagic)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(sequence)
        bytes.appendLittleEndian(UInt64(payload.count))
        bytes.appendLittleEndian(CRC32C.checksum(payload))
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// The outcome of reading a snapshot file.
    enum SnapshotCheck {
        case valid(sequence: UInt64, payload: Range<Int>)
        case damaged(reason: String)
        case unsupported(version: UInt32)
    }

    static func checkSnapshot(_ bytes: UnsafeRawBufferPointer, expectedSequence: UInt64) -> SnapshotCheck {
        guard bytes.count >= snapshotHeaderBytes else {
            return .damaged(reason: "the file has \(bytes.count) bytes, fewer than a snapshot header's 36")
        }
        guard bytes.littleEndian(UInt64.self, at: 0) == snapshotMagic else {
            return .damaged(reason: "the file does not start with MERITSNP")
        }
        let fileVersion = bytes.littleEndian(UInt32.self, at: 8)
        if fileVersion > version { return .unsupported(version: fileVersion) }
        guard
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<32])) == bytes.littleEndian(UInt32.self, at: 32)
        else {
            return .damaged(reason: "the snapshot header's checksum does not match")
        }
        guard fileVersion == version else {
            return .damaged(reason: "the snapshot header has format version \(fileVersion), which was never written")
        }
        let sequence = bytes.littleEndian(UInt64.self, at: 12)
        guard sequence == expectedSequence else {
            return .damaged(reason: "the header says sequence \(sequence) but the file name says \(expectedSequence)")
        }
        let length = bytes.littleEndian(UInt64.self, at: 20)
        guard length == UInt64(bytes.count - snapshotHeaderBytes) else {
            return .damaged(
                reason:
                    "the header says \(length) payload bytes but the file holds \(bytes.count - snapshotHeaderBytes)")
        }
        let payload = snapshotHeaderBytes..<bytes.count
        guard
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[payload])) == bytes.littleEndian(UInt32.self, at: 28)
        else {
            return .damaged(reason: "the snapshot payload's checksum does not match")
        }
        return .valid(sequence: sequence, payload: payload)
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`, which need not be aligned.
    @inline(__always)
    func littleEndian<Integer: FixedWidthInteger>(_ type: Integer.Type, at offset: Int) -> Integer {
        Integer(littleEndian: loadUnaligned(fromByteOffset: offset, as: Integer.self))
    }
}

extension [UInt8] {
    /// Append `value`'s bytes, least significant first.
    @inline(__always)
    mutating func appendLittleEndian<Integer: FixedWidthInteger>(_ value: Integer) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension Array {
    /// `withUnsafeBytes` that keeps the closure's error type, which the standard library's `rethrows` widens to
    /// `any Error`.
    @inlinable
    public func withBytes<Value, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        let outcome: Result<Value, Failure> = withUnsafeBytes { buffer in
            do throws(Failure) {
                return .success(try body(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
