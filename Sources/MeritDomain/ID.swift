/// A kind of record that has its own id prefix (`emp_`, `key_`, …).
public protocol Identified {
    /// The prefix of this kind's ids, without the underscore.
    static var idPrefix: String { get }
}

/// A typed id: `ID<Person>` cannot be passed where an `ID<APIKey>` is expected.
///
/// The raw value is the whole wire form, `<prefix>_<ULID>`, so ids round-trip without reformatting.
public struct ID<Entity: Identified>: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The wire form, such as `emp_01HXX9YK7Z8N2P3Q4R5S6T7U8V`.
    public let rawValue: String

    /// An id from its wire form, or `nil` when it has the wrong prefix or is not a ULID.
    public init?(_ text: String) {
        let prefix = Entity.idPrefix
        guard text.utf8.count == prefix.utf8.count + 27, text.hasPrefix(prefix + "_"),
            ULID.isValid(text.utf8.suffix(26))
        else { return nil }
        rawValue = text
    }

    /// An id from a wire form already known to be valid (read back from the log).
    public init(trusted text: String) {
        rawValue = text
    }

    /// The id `<prefix>_<ulid>`, built in one string (every change makes at least two).
    public init(_ ulid: ULID) {
        var prefix = Entity.idPrefix
        rawValue = prefix.withUTF8 { prefix in
            String(unsafeUninitializedCapacity: prefix.count + 27) { characters in
                _ = characters.initialize(from: prefix)
                characters[prefix.count] = UInt8(ascii: "_")
                ulid.encode(into: UnsafeMutableBufferPointer(rebasing: characters[(prefix.count + 1)...]))
                return prefix.count + 27
            }
        }
    }

    public var description: String { rawValue }

    public static func < (lhs: ID, rhs: ID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A ULID: 48 bits of milliseconds and 80 bits of randomness, written as 26 Crockford base-32 characters.
public struct ULID: Sendable, Hashable, CustomStringConvertible {
    /// Milliseconds since the epoch (48 bits).
    public var milliseconds: UInt64
    /// The 80 random bits: the high 16 and the low 64.
    public var randomHigh: UInt16
    /// The low 64 random bits.
    public var randomLow: UInt64

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The 26-character form.
    public var description: String {
        String(unsafeUninitializedCapacity: 26) { characters in
            encode(into: characters)
            return 26
        }
    }

    /// Write the 26 characters at the start of `characters`.
    func encode(into characters: UnsafeMutableBufferPointer<UInt8>) {
        // 128 bits: the top two of the first character are always zero for 48-bit times.
        let high = milliseconds << 16 | UInt64(randomHigh)
        let low = randomLow
        ULID.alphabet.withUnsafeBufferPointer { alphabet in
            // 26 characters carry 130 bits: the first holds the top 3 of the 128, each later one the 5 bits
            // starting at bit 125 - 5 × index.
            characters[0] = alphabet[Int(high >> 61)]
            for index in 1..<26 {
                let shift = 125 - 5 * index
                let value: UInt64
                if shift >= 64 {
                    value = high >> UInt64(shift - 64)
                } else if shift <= 59 {
                    value = low >> UInt64(shift)
                } else {
                    value = high << UInt64(64 - shift) | low >> UInt64(shift)
                }
                characters[index] = alphabet[Int(value & 31)]
            }
        }
    }

    static func isValid<Characters: Collection>(_ characters: Characters) -> Bool where Characters.Element == UInt8 {
        guard characters.count == 26, let first = characters.first, first <= UInt8(ascii: "7") else { return false }
        return characters.allSatisfy { alphabet.contains($0) }
    }
}

/// Makes ids: monotonic within a process, and reproducible when seeded.
///
/// With a seed, the random bits come from a SplitMix64 stream keyed by the seed and by `stream` (the position in
/// the log at start-up), so two runs over the same log make the same ids, and a run that continues a log never
/// repeats the ids of the run before it.
public struct IDGenerator: Sendable {
    private var random: SplitMix64
    private var last = ULID(milliseconds: 0, randomHigh: 0, randomLow: 0)

    /// A generator; `seed` makes it reproducible, `stream` separates runs over the same log.
    public init(seed: UInt64?, stream: UInt64) {
        if let seed {
            random = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 ^ stream)
        } else {
            var system = SystemRandomNumberGenerator()
            random = SplitMix64(state: system.next())
        }
    }

    /// The next ULID at `time`: later than every one made before by this generator.
    public mutating func next(at time: Timestamp) -> ULID {
        let milliseconds = UInt64(max(0, time.milliseconds)) & 0xFFFF_FFFF_FFFF
        var ulid: ULID
        if milliseconds > last.milliseconds {
            ulid = ULID(
                milliseconds: milliseconds, randomHigh: UInt16(truncatingIfNeeded: random.next() >> 1),
                randomLow: random.next())
        } else {
            // Same (or a frozen) millisecond: increment the random part, as the ULID spec's monotonic mode does.
            ulid = last
            let (low, carry) = ulid.randomLow.addingReportingOverflow(1)
            ulid.randomLow = low
            if carry { ulid.randomHigh &+= 1 }
        }
        last = ulid
        return ulid
    }

    /// A fresh id for an entity.
    public mutating func id<Entity>(at time: Timestamp, for type: Entity.Type = Entity.self) -> ID<Entity> {
        ID(next(at: time))
    }

    /// `count` random bytes (for secrets such as API keys).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            var word = random.next()
            for _ in 0..<8 where result.count < count {
                result.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return result
    }

    /// A value in `0..<bound`, for reproducible shuffles.
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(random.next() % UInt64(bound))
    }
}

/// SplitMix64: a small, fast, well-distributed generator; reproducible from its state.
struct SplitMix64: Sendable {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
