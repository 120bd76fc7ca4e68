/// Tests on the eight bytes of a `UInt64` at once (SWAR), for scanning text a word at a time.
///
/// Each test returns a word with the high bit set in the bytes that pass it. A byte after the first that passes
/// may be flagged although it does not pass (a borrow carries into it), so only the lowest flag is exact: use
/// `firstFlagged` to find it. Words are loaded little-endian, so the lowest byte is the first in memory.
enum WordBytes {
    /// 0x01 in every byte.
    static let lowBits: UInt64 = 0x0101_0101_0101_0101
    /// 0x80 in every byte: masks the flags, and finds bytes outside ASCII.
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Flags the bytes less than `limit`, which must be at most 0x80.
    @inline(__always)
    static func below(_ limit: UInt8, _ word: UInt64) -> UInt64 {
        (word &- lowBits &* UInt64(limit)) & ~word & highBits
    }

    /// Flags the bytes equal to `byte`.
    @inline(__always)
    static func equal(to byte: UInt8, _ word: UInt64) -> UInt64 {
        below(1, word ^ lowBits &* UInt64(byte))
    }

    /// The position (0 to 7) of the first flagged byte of `flags`, which must not be zero.
    @inline(__always)
    static func firstFlagged(_ flags: UInt64) -> Int {
        flags.trailingZeroBitCount &>> 3
    }
}
