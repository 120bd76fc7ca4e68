/// A streaming SHA-256 hasher (FIPS 180-4).
///
/// Feed data with any number of `update` calls, in chunks of any size, then call `finalize()` once to obtain
/// the 32-byte digest. For one-shot hashing use `SHA256.hash(_:)` or `SHA256.hexDigest(_:)`.
public struct SHA256: Sendable {
    /// The size in bytes of one compression block.
    static let blockByteCount = 64

    /// The size in bytes of a digest.
    public static let digestByteCount = 32

    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2).
    static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// The eight working hash words, H0 through H7.
    private struct State {
        var h0: UInt32 = 0x6a09_e667
        var h1: UInt32 = 0xbb67_ae85
        var h2: UInt32 = 0x3c6e_f372
        var h3: UInt32 = 0xa54f_f53a
        var h4: UInt32 = 0x510e_527f
        var h5: UInt32 = 0x9b05_688c
        var h6: UInt32 = 0x1f83_d9ab
        var h7: UInt32 = 0x5be0_cd19

        /// Mixes one 64-byte block into the state (FIPS 180-4 §6.2.2).
        mutating func compress(_ block: UnsafeRawBufferPointer, schedule: UnsafeMutableBufferPointer<UInt32>) {
            for index in 0..<16 {
                schedule[index] = UInt32(
                    bigEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            }
            for index in 16..<64 {
                let early = schedule[index - 15]
                let late = schedule[index - 2]
                let sigma0 = early.rotatedRight(by: 7) ^ early.rotatedRight(by: 18) ^ (early >> 3)
                let sigma1 = late.rotatedRight(by: 17) ^ late.rotatedRight(by: 19) ^ (late >> 10)
                schedule[index] = schedule[index - 16] &+ sigma0 &+ schedule[index - 7] &+ sigma1
            }

            var a = h0
            var b = h1
            var c = h2
            var d = h3
            var e = h4
            var f = h5
            var g = h6
            var h = h7
            SHA256.roundConstants.withUnsafeBufferPointer { constants in
                for index in 0..<64 {
                    let sum1 = e.rotatedRight(by: 6) ^ e.rotatedRight(by: 11) ^ e.rotatedRight(by: 25)
                    let choice = (e & f) ^ (~e & g)
                    let temporary1 = h &+ sum1 &+ choice &+ constants[index] &+ schedule[index]
                    let sum0 = a.rotatedRight(by: 2) ^ a.rotatedRight(by: 13) ^ a.rotatedRight(by: 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let temporary2 = sum0 &+ majority
                    h = g
                    g = f
                    f = e
                    e = d &+ temporary1
                    d = c
                    c = b
                    b = a
                    a = temporary1 &+ temporary2
                }
            }
            h0 = h0 &+ a
            h1 = h1 &+ b
            h2 = h2 &+ c
            h3 = h3 &+ d
            h4 = h4 &+ e
            h5 = h5 &+ f
            h6 = h6 &+ g
            h7 = h7 &+ h
        }
    }

    private var state = State()

    /// Bytes received that do not yet fill a whole block; always fewer than `blockByteCount`.
    private var pending: [UInt8] = []

    /// The total message length so far, needed for the final padding.
    private var messageByteCount: UInt64 = 0

    /// Creates a hasher for an empty message.
    public init() {
        pending.reserveCapacity(Self.blockByteCount)
    }

    /// Appends `bytes` to the message.
    ///
    /// Contiguous collections such as `[UInt8]`, `ArraySlice<UInt8>` and native `String.UTF8View` are hashed
    /// in place; other sequences are gathered a block at a time.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let hashedInPlace: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if hashedInPlace != nil {
            return
        }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            for byte in bytes {
                pending.append(byte)
                messageByteCount &+= 1
                if pending.count == Self.blockByteCount {
                    compressPending(schedule: schedule)
                }
            }
        }
    }

    /// Appends the bytes in `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        messageByteCount &+= UInt64(bytes.count)
        var remaining = bytes
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            if !pending.isEmpty {
                let taken = min(Self.blockByteCount - pending.count, remaining.count)
                pending.append(contentsOf: remaining.prefix(taken))
                remaining = UnsafeRawBufferPointer(rebasing: remaining.dropFirst(taken))
                guard pending.count == Self.blockByteCount else {
                    return
                }
                compressPending(schedule: schedule)
            }
            while remaining.count >= Self.blockByteCount {
                let block = UnsafeRawBufferPointer(rebasing: remaining.prefix(Self.blockByteCount))
                state.compress(block, schedule: schedule)
                remaining = UnsafeRawBufferPointer(rebasing: remaining.dropFirst(Self.blockByteCount))
            }
            pending.append(contentsOf: remaining)
        }
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        let messageBitCount = messageByteCount &* 8
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            pending.append(0x80)
            // The 64-bit length must fit after the marker; if it does not, it goes in an extra block.
            if pending.count > Self.blockByteCount - 8 {
                pending.append(contentsOf: repeatElement(0, count: Self.blockByteCount - pending.count))
                compressPending(schedule: schedule)
            }
            pending.append(contentsOf: repeatElement(0, count: Self.blockByteCount - 8 - pending.count))
            withUnsafeBytes(of: messageBitCount.bigEndian) { pending.append(contentsOf: $0) }
            compressPending(schedule: schedule)
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(Self.digestByteCount)
        for word in [state.h0, state.h1, state.h2, state.h3, state.h4, state.h5, state.h6, state.h7] {
            withUnsafeBytes(of: word.bigEndian) { digest.append(contentsOf: $0) }
        }
        return digest
    }

    /// Returns the SHA-256 digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Returns the lowercase hexadecimal SHA-256 digest of the UTF-8 encoding of `string`.
    public static func hexDigest(_ string: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(digestByteCount * 2)
        for byte in hash(string.utf8) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Compresses the full block held in `pending` and empties it.
    private mutating func compressPending(schedule: UnsafeMutableBufferPointer<UInt32>) {
        pending.withUnsafeBytes { state.compress($0, schedule: schedule) }
        pending.removeAll(keepingCapacity: true)
    }
}

extension UInt32 {
    /// Rotates the bits right by `count` (1...31); the masking shifts let the optimiser emit a single rotate.
    fileprivate func rotatedRight(by count: UInt32) -> UInt32 {
        (self &>> count) | (self &<< (32 &- count))
    }
}
