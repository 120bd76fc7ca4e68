/// A kind of record that has its own id prefix (`emp_`, `key_`, …).
public protocol Identified {
    /// The prefix of this kind's ids, without the underscore: three lower-case ASCII letters.
    static var idPrefix: StaticString { get }
}

/// A typed id: `ID<Person>` cannot be passed where an `ID<APIKey>` is expected.
///
/// An id is a ULID, held as its 128 bits, so that it takes no allocation and hashes and compares as two integers
/// (the state is a set of dictionaries keyed by ids: replay and every write look ids up). Its text form,
/// `<prefix>_<26 Crockford characters>`, is made only where it is written out; the characters sort as the bits
/// do, so ids order the same either way.
public struct ID<Entity: Identified>: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The high 64 bits: the ULID's 48 bits of milliseconds, then its top 16 random bits.
    public let high: UInt64
    /// The low 64 random bits.
    public let low: UInt64

    /// The length of every id's text: a three-letter prefix, `_`, and 26 characters.
    public static var textLength: Int { 30 }

    /// An id from its text form, or `nil` when it has the wrong prefix or is not a ULID.
    ///
    /// Inlinable, as what it calls, so that it is specialized for the kind of id where params are read: generic, it
    /// found the prefix through the kind's witness table and cost several times as much.
    @inlinable
    public init?(_ text: String) {
        var text = text
        guard let id = text.withUTF8({ ID(utf8: $0) }) else { return nil }
        self = id
    }

    /// An id from the UTF-8 bytes of its text form, or `nil` when they are not one of this kind's ids.
    @inlinable
    public init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        guard text.count == Self.textLength, text[3] == UInt8(ascii: "_"), Self.hasPrefix(text),
            let (high, low) = ULID.decode(UnsafeBufferPointer(rebasing: text[4...]))
        else { return nil }
        self.high = high
        self.low = low
    }

    /// The id whose 128 bits are `high` and `low`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The id of a ULID.
    public init(_ ulid: ULID) {
        high = ulid.milliseconds << 16 | UInt64(ulid.randomHigh)
        low = ulid.randomLow
    }

    /// The ULID this id holds.
    public var ulid: ULID {
        ULID(milliseconds: high >> 16, randomHigh: UInt16(truncatingIfNeeded: high), randomLow: low)
    }

    /// The prefix's three bytes (checked to be three).
    @inlinable
    static var prefix: UnsafePointer<UInt8> {
        let prefix = Entity.idPrefix
        precondition(prefix.utf8CodeUnitCount == 3 && prefix.hasPointerRepresentation, "an id prefix is three letters")
        return prefix.utf8Start
    }

    @inlinable
    static func hasPrefix(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let prefix = Self.prefix
        return text[0] == prefix[0] && text[1] == prefix[1] && text[2] == prefix[2]
    }

    /// Write the text form at `target`, which has room for `textLength` bytes.
    public func writeText(to target: UnsafeMutablePointer<UInt8>) {
        let prefix = Self.prefix
        target[0] = prefix[0]
        target[1] = prefix[1]
        target[2] = prefix[2]
        target[3] = UInt8(ascii: "_")
        ULID.encode(high: high, low: low, into: target + 4)
    }

    /// The text form, such as `emp_01HXX9YK7Z8N2P3Q4R5S6T7U8V`.
    public var text: String {
        String(unsafeUninitializedCapacity: Self.textLength) { characters in
            writeText(to: characters.baseAddress!)
            return Self.textLength
        }
    }

    public var description: String { text }

    public static func < (lhs: ID, rhs: ID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }
}

/// A ULID: 48 bits of milliseconds and 80 bits of randomness, written as 26 Crockford base-32 characters.
public struct ULID: Sendable, Hashable, CustomStringConvertible {
    /// Milliseconds since the epoch (48 bits).
    public var milliseconds: UInt64
    /// The 80 random bits: the high 16 and the low 64.
    public var randomHigh: UInt16
    /// The low 64 random bits.
    public var randomLow: UInt64

    /// A ULID from its parts.
    public init(milliseconds: UInt64, randomHigh: UInt16, randomLow: UInt64) {
        self.milliseconds = milliseconds
        self.randomHigh = randomHigh
        self.randomLow = randomLow
    }

    /// The 26-character form.
    public var description: String {
        String(unsafeUninitializedCapacity: 26) { characters in
            ULID.encode(high: milliseconds << 16 | UInt64(randomHigh), low: randomLow, into: characters.baseAddress!)
            return 26
        }
    }

    /// Write the 26 characters of the 128 bits `high` and `low` at `target`.
    static func encode(high: UInt64, low: UInt64, into target: UnsafeMutablePointer<UInt8>) {
        // 26 characters carry 130 bits: the first holds the top 3 of the 128, each later one the 5 bits starting
        // at bit 125 - 5 × index. Characters 1-12 lie in `high`, 13 straddles the two, 14-25 lie in `low`.
        let alphabet = alphabetBytes.utf8Start
        target[0] = alphabet[Int(truncatingIfNeeded: high >> 61)]
        for index in 1..<13 {
            target[index] = alphabet[Int(truncatingIfNeeded: high >> UInt64(61 - 5 * index)) & 31]
        }
        target[13] = alphabet[Int(truncatingIfNeeded: high << 4 | low >> 60) & 31]
        for index in 14..<26 {
            target[index] = alphabet[Int(truncatingIfNeeded: low >> UInt64(125 - 5 * index)) & 31]
        }
    }

    /// Crockford's base-32 alphabet, in ASCII order.
    private static let alphabetBytes: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    /// The 128 bits that 26 characters stand for, or `nil` when they are not a ULID (a character outside the
    /// upper-case alphabet, or a first character above `7`, which would need more than 128 bits).
    @usableFromInline
    static func decode(_ characters: UnsafeBufferPointer<UInt8>) -> (high: UInt64, low: UInt64)? {
        guard characters.count == 26, characters[0] <= UInt8(ascii: "7") else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var invalid: UInt8 = 0
        values.withUnsafeBufferPointer { values in
            for character in characters {
                let value = values[Int(character)]
                invalid |= value
                high = high << 5 | low >> 59
                low = low << 5 | UInt64(value)
            }
        }
        return invalid & 0x80 == 0 ? (high, low) : nil
    }

    /// The value of each byte as a character of the alphabet, or 0x80 for a byte that is not one.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0x80, count: 256)
        for value in 0..<32 { values[Int(alphabetBytes.utf8Start[value])] = UInt8(value) }
        return values
    }()
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
