import Testing

@testable import MeritLog

/// A known input and the CRC-32C that published references give for it.
struct CRC32CKnownAnswer: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: UInt32

    var testDescription: String { name }
}

@Suite("CRC-32C")
struct CRC32CTests {
    static let knownAnswers: [CRC32CKnownAnswer] = [
        // The conventional "check" value from the CRC catalogue.
        CRC32CKnownAnswer(name: "\"123456789\"", bytes: Array("123456789".utf8), expected: 0xE306_9283),
        // RFC 3720 (iSCSI) appendix B.4.
        CRC32CKnownAnswer(name: "32 × 0x00", bytes: [UInt8](repeating: 0x00, count: 32), expected: 0x8A91_36AA),
        CRC32CKnownAnswer(name: "32 × 0xFF", bytes: [UInt8](repeating: 0xFF, count: 32), expected: 0x62A8_AB43),
        CRC32CKnownAnswer(name: "0x00...0x1F", bytes: Array(0x00...0x1F), expected: 0x46DD_794E),
        CRC32CKnownAnswer(name: "0x1F...0x00", bytes: Array((0x00...0x1F).reversed()), expected: 0x113F_DB5C),
        CRC32CKnownAnswer(name: "empty", bytes: [], expected: 0),
    ]

    @Test("Known answers", arguments: knownAnswers)
    func knownAnswer(_ answer: CRC32CKnownAnswer) {
        #expect(CRC32C.checksum(answer.bytes) == answer.expected)
        #expect(answer.bytes.withUnsafeBytes { CRC32C.checksum($0) } == answer.expected)
        // A lazy map has no contiguous storage, so this exercises the byte-at-a-time path.
        #expect(CRC32C.checksum(answer.bytes.lazy.map { $0 }) == answer.expected)
        #expect(Self.referenceChecksum(answer.bytes) == answer.expected)
    }

    @Test("String UTF-8 view")
    func stringUTF8View() {
        #expect(CRC32C.checksum("123456789".utf8) == 0xE306_9283)
    }

    @Test("Continuing from any split point matches a single call and the bitwise reference")
    func splitting() {
        let bytes = Self.pseudoRandomBytes(count: 1000)
        let whole = CRC32C.checksum(bytes)
        #expect(whole == Self.referenceChecksum(bytes))
        for split in 0...bytes.count {
            let first = CRC32C.checksum(bytes[..<split])
            #expect(CRC32C.checksum(bytes[split...], continuing: first) == whole, "split at \(split)")
        }
    }

    @Test("Every length and alignment matches the bitwise reference")
    func lengthsAndAlignments() {
        let bytes = Self.pseudoRandomBytes(count: 64)
        bytes.withUnsafeBytes { buffer in
            for start in 0..<8 {
                for end in start...buffer.count {
                    let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    #expect(CRC32C.checksum(slice) == Self.referenceChecksum(slice), "bytes \(start)..<\(end)")
                }
            }
        }
    }

    @Test("The table-driven path matches the bitwise reference too (checksum may use the processor's instruction)")
    func softwarePath() {
        let bytes = Self.pseudoRandomBytes(count: 300)
        bytes.withUnsafeBytes { buffer in
            for start in 0..<8 {
                for end in stride(from: start, through: buffer.count, by: 7) {
                    let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    #expect(CRC32C.softwareChecksum(slice) == Self.referenceChecksum(slice), "bytes \(start)..<\(end)")
                    #expect(CRC32C.softwareChecksum(slice) == CRC32C.checksum(slice), "bytes \(start)..<\(end)")
                }
            }
        }
        for answer in Self.knownAnswers {
            #expect(answer.bytes.withUnsafeBytes { CRC32C.softwareChecksum($0) } == answer.expected)
        }
    }

    /// The textbook bit-at-a-time CRC-32C, deliberately sharing no code with the table-driven implementation.
    static func referenceChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1)))
            }
        }
        return ~crc
    }

    /// Deterministic bytes from SplitMix64, so failures reproduce.
    static func pseudoRandomBytes(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 31
            return UInt8(truncatingIfNeeded: mixed)
        }
    }
}

@Suite("CRC-32C and the processor")
struct CRC32CProcessorTests {
    @Test("this machine runs the build it was built for")
    func processor() {
        // The tests themselves have just used the instruction (if the build uses it), so this must agree.
        #expect(!CRC32C.processorLacksInstruction())
    }
}
