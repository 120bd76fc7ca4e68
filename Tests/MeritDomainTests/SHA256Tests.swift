import Testing

@testable import MeritDomain

/// A message and its SHA-256 digest in lowercase hexadecimal.
struct SHA256KnownAnswer: Sendable, CustomTestStringConvertible {
    let name: String
    let message: String
    let expected: String

    var testDescription: String { name }
}

@Suite("SHA-256")
struct SHA256Tests {
    static let millionA = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    static let millionADigest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    /// FIPS 180-2 appendix B and the NIST CSRC example values.
    static let nistVectors: [SHA256KnownAnswer] = [
        SHA256KnownAnswer(
            name: "empty",
            message: "",
            expected: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        SHA256KnownAnswer(
            name: "abc",
            message: "abc",
            expected: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        SHA256KnownAnswer(
            name: "448 bits",
            message: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            expected: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        SHA256KnownAnswer(
            name: "896 bits",
            message: "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                + "mnopqrstnopqrstu",
            expected: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        SHA256KnownAnswer(
            name: "one million a",
            message: String(repeating: "a", count: 1_000_000),
            expected: millionADigest),
    ]

    /// Lengths around the padding boundaries: 55 bytes is the longest message whose length still fits in its
    /// only block, 56 through 63 need a second block, and 64 and 65 straddle a whole block.
    /// Expected digests were computed with Python's `hashlib.sha256(b"a" * length).hexdigest()`.
    static let paddingBoundaries: [SHA256KnownAnswer] = [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
    ].map { length, digest in
        SHA256KnownAnswer(
            name: "\(length) × a", message: String(repeating: "a", count: length), expected: digest)
    }

    @Test("NIST vectors", arguments: nistVectors)
    func nistVector(_ answer: SHA256KnownAnswer) {
        #expect(SHA256.hexDigest(answer.message) == answer.expected)
    }

    @Test("Padding boundaries", arguments: paddingBoundaries)
    func paddingBoundary(_ answer: SHA256KnownAnswer) {
        #expect(SHA256.hexDigest(answer.message) == answer.expected)
        #expect(Self.hex(SHA256.hash(Array(answer.message.utf8))) == answer.expected)
    }

    @Test("Digest is 32 bytes")
    func digestLength() {
        #expect(SHA256.hash("abc".utf8).count == 32)
        #expect(SHA256().finalize().count == SHA256.digestByteCount)
    }

    @Test("Streaming in chunks matches the one-shot digest", arguments: [1, 63, 64, 65, 1000])
    func streaming(chunkSize: Int) {
        var sequenceHasher = SHA256()
        var rawHasher = SHA256()
        for start in stride(from: 0, to: Self.millionA.count, by: chunkSize) {
            let chunk = Self.millionA[start..<min(start + chunkSize, Self.millionA.count)]
            sequenceHasher.update(chunk)
            chunk.withUnsafeBytes { rawHasher.update($0) }
        }
        #expect(Self.hex(sequenceHasher.finalize()) == Self.millionADigest)
        #expect(Self.hex(rawHasher.finalize()) == Self.millionADigest)
    }

    @Test("Sequences without contiguous storage")
    func nonContiguousSequence() throws {
        let message = repeatElement(UInt8(ascii: "a"), count: 1_000_000)
        #expect(Self.hex(SHA256.hash(message)) == Self.millionADigest)

        // Mixing the buffered byte path with the in-place path must not disturb the block boundaries.
        var hasher = SHA256()
        hasher.update(repeatElement(UInt8(ascii: "a"), count: 3))
        hasher.update(Self.millionA.dropFirst(3))
        #expect(Self.hex(hasher.finalize()) == Self.millionADigest)

        let abc = try #require(Self.nistVectors.first { $0.name == "abc" })
        #expect(Self.hex(SHA256.hash("abc".utf8.lazy.map { $0 })) == abc.expected)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
