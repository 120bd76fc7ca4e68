#if MERIT_HARDWARE_CRC32C
    import _Builtin_intrinsics.intel
#endif

/// CRC-32C (Castagnoli) checksums, as used by LevelDB, RocksDB, iSCSI (RFC 3720) and ext4.
///
/// This is the reflected form of polynomial 0x1EDC6F41 (0x82F63B78 bit-reversed), with the register
/// initialised to all ones and the result inverted, so `checksum("123456789".utf8) == 0xE3069283`.
/// Because the inversion is undone on entry, a previous result can be passed back in to checksum data that
/// arrives in pieces: `checksum(a + b) == checksum(b, continuing: checksum(a))`.
public enum CRC32C {
    /// The reflected Castagnoli polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// Slicing-by-8 lookup tables, stored flat: entry `slice * 256 + byte`.
    ///
    /// Slice 0 is the classic byte-at-a-time table. Slice `k` gives the contribution of a byte that still has
    /// `k` more bytes to travel through the register, which lets eight table lookups replace eight dependent
    /// byte steps.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// Checksum of `bytes`, continuing from `crc` (pass the previous result to checksum data in pieces; 0 to start).
    ///
    /// On x86-64 this is the processor's own CRC-32C instruction (SSE 4.2, which the package's manifest enables
    /// there), eight bytes at a time: replay checks every record it reads, and the instruction does in one step
    /// what the tables do in about thirty. Elsewhere it is `softwareChecksum`.
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        #if MERIT_HARDWARE_CRC32C
            return hardwareChecksum(bytes, continuing: crc)
        #else
            return softwareChecksum(bytes, continuing: crc)
        #endif
    }

    /// Whether `checksum` uses the processor's instruction (this build needs SSE 4.2 then).
    #if MERIT_HARDWARE_CRC32C
        public static let usesProcessorInstruction = true
    #else
        public static let usesProcessorInstruction = false
    #endif

    /// Whether this build needs SSE 4.2 and the processor says (in `/proc/cpuinfo`) that it lacks it: the
    /// executable checks this first, so that such a machine gets a message rather than an illegal instruction.
    public static func processorLacksInstruction() -> Bool {
        guard usesProcessorInstruction, let cpuinfo = try? POSIXFileSystem().readFile("/proc/cpuinfo") else {
            return false
        }
        let text = String(decoding: cpuinfo, as: UTF8.self)
        guard text.contains("flags") else { return false }
        return !text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).contains("sse4_2")
    }

    #if MERIT_HARDWARE_CRC32C
        /// The checksum with the SSE 4.2 `crc32` instruction.
        public static func hardwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
            var register = UInt64(~crc)
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                register = _mm_crc32_u64(register, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            var narrow = UInt32(truncatingIfNeeded: register)
            while offset < count {
                narrow = _mm_crc32_u8(narrow, bytes[offset])
                offset += 1
            }
            return ~narrow
        }
    #endif

    /// The checksum with slicing-by-8 tables: the same result as `checksum` on every machine.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var register = ~crc
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                // CRC-32C is bit-reflected, so the first byte in memory is the least significant one: load little
                // endian regardless of the host.
                let loaded = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let word = UInt64(littleEndian: loaded) ^ UInt64(register)
                let low =
                    table[7 * 256 + Int(word & 0xFF)]
                    ^ table[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((word >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int((word >> 24) & 0xFF)]
                let high =
                    table[3 * 256 + Int((word >> 32) & 0xFF)]
                    ^ table[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ table[1 * 256 + Int((word >> 48) & 0xFF)]
                    ^ table[Int(word >> 56)]
                register = low ^ high
                offset += 8
            }
            while offset < count {
                register = (register >> 8) ^ table[Int((register ^ UInt32(bytes[offset])) & 0xFF)]
                offset += 1
            }
            return ~register
        }
    }

    /// Checksum of `bytes`, continuing from `crc` (pass the previous result to checksum data in pieces; 0 to start).
    ///
    /// Contiguous collections such as `[UInt8]`, `ArraySlice<UInt8>` and native `String.UTF8View` take the
    /// slicing-by-8 path; other sequences are processed a byte at a time.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes, continuing crc: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            checksum(UnsafeRawBufferPointer(buffer), continuing: crc)
        }) {
            return result
        }
        return tables.withUnsafeBufferPointer { table in
            var register = ~crc
            for byte in bytes {
                register = (register >> 8) ^ table[Int((register ^ UInt32(byte)) & 0xFF)]
            }
            return ~register
        }
    }
}
