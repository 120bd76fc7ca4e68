import MeritDomain

#if canImport(Glibc)
    import Glibc
#endif

/// The compact binary form in which the log and snapshots store resources: what replay reads a million of a second.
///
/// A record's fields follow each other in the order its `encode(to:)` lists them, with no names. Integers are
/// little-endian and fixed-width (8 bytes); a boolean is a byte; a string is its UTF-8 length as an unsigned LEB128
/// varint, then its bytes; an id is its 128 bits, the high 64 then the low 64 (records of type 2, written before,
/// hold each id as a string of its text); an optional value, and a field written only when present, is a byte, 0
/// for none or 1 followed by the value; an array is its count as a varint, then its elements; a nested record is its
/// fields; a timestamp is its milliseconds and a day its days since the epoch. Enumerations are stored by name, so
/// that reordering their cases changes nothing on disk, or by the one-byte code their `storedCodes` give. The wire
/// (JSON) never sees this form.
struct BinaryWriter: ~Copyable, FieldEncoder {
    // Written through a pointer: appending to an array costs a uniqueness and capacity check per call, and a
    // generic copy per multi-byte value, which was a tenth of a durable write.
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far.
    func withBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the bytes written so far.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Forget the bytes written, keeping the memory for the next ones.
    mutating func removeAll() { count = 0 }

    /// Room for `extra` more bytes, at the end.
    @inline(__always)
    private mutating func reserve(_ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if capacity - count < extra { grow(extra) }
        defer { count += extra }
        return base + count
    }

    private mutating func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    mutating func byte(_ value: UInt8) { reserve(1).pointee = value }

    mutating func bool(_ value: Bool) { byte(value ? 1 : 0) }

    mutating func int(_ value: Int64) {
        UnsafeMutableRawPointer(reserve(8)).storeBytes(of: value.littleEndian, as: Int64.self)
    }

    mutating func varint(_ value: Int) {
        var remaining = UInt(value)
        while remaining >= 0x80 {
            byte(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        byte(UInt8(remaining))
    }

    mutating func bytes(_ value: UnsafeBufferPointer<UInt8>) {
        guard let source = value.baseAddress else { return }
        reserve(value.count).update(from: source, count: value.count)
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(utf8.count)
            bytes(utf8)
        }
    }

    mutating func optionalString(_ value: String?) {
        guard let value else { return byte(0) }
        byte(1)
        string(value)
    }

    /// An id, as its 128 bits.
    mutating func id<Entity>(_ value: ID<Entity>) {
        let target = UnsafeMutableRawPointer(reserve(16))
        target.storeBytes(of: value.high.littleEndian, as: UInt64.self)
        target.storeBytes(of: value.low.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    mutating func optionalID<Entity>(_ value: ID<Entity>?) {
        guard let value else { return byte(0) }
        byte(1)
        id(value)
    }

    mutating func timestamp(_ value: Timestamp) { int(value.milliseconds) }

    mutating func optionalTimestamp(_ value: Timestamp?) {
        guard let value else { return byte(0) }
        byte(1)
        timestamp(value)
    }

    mutating func day(_ value: Day) { int(value.daysSinceEpoch) }

    mutating func optionalDay(_ value: Day?) {
        guard let value else { return byte(0) }
        byte(1)
        day(value)
    }
}

/// Reads what `BinaryWriter` wrote; every read checks the bounds, and errors name the byte offset.
struct BinaryReader: FieldDecoder {
    private let base: UnsafePointer<UInt8>?
    private let end: Int
    private(set) var offset = 0
    /// Whether ids are their 128 bits (records of type 3) or strings of their text (type 2).
    let binaryIDs: Bool
    /// What is being read, for error messages ("event"), when no change kind is being read.
    var what = "record"
    /// The kind of the change being read, which names it in error messages.
    var changeKind: ChangeKind?
    /// The schema version of the change being read.
    var schemaVersion = 1
    /// Where strings read recently are kept, to be handed out again when the same bytes come back (a snapshot
    /// repeats a review template's labels in every review); `nil`: every string is made afresh.
    var strings: StringTable?
    /// Where the enumeration cases read recently are kept by their names; `nil`: each name is matched afresh.
    var cases: CaseTable?
    /// Where rich-text bodies are copied, one after another (a snapshot's); `nil`: each takes an array of its own.
    var arena: ByteArena?

    init(_ bytes: UnsafeRawBufferPointer, binaryIDs: Bool = true) {
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        end = bytes.count
        self.binaryIDs = binaryIDs
    }

    var isAtEnd: Bool { offset == end }

    /// The bytes left to read.
    var remaining: Int { end - offset }

    func failure(_ problem: String) -> StoredFormError {
        StoredFormError("\(changeKind.map(\.row.type) ?? what): \(problem) at byte \(offset)")
    }

    @inline(__always)
    private mutating func take(_ count: Int) throws(StoredFormError) -> UnsafePointer<UInt8> {
        guard count >= 0, end - offset >= count, let base else { throw failure("the data ends too soon") }
        defer { offset += count }
        return base + offset
    }

    mutating func byte() throws(StoredFormError) -> UInt8 { try take(1).pointee }

    mutating func bool() throws(StoredFormError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("a boolean is neither 0 nor 1")
        }
    }

    mutating func int() throws(StoredFormError) -> Int64 {
        Int64(littleEndian: UnsafeRawPointer(try take(8)).loadUnaligned(as: Int64.self))
    }

    mutating func varint() throws(StoredFormError) -> Int {
        // Almost every length is under 128: one byte.
        if let base, offset < end, base[offset] < 0x80 {
            offset += 1
            return Int(base[offset - 1])
        }
        var value = 0
        var shift = 0
        while true {
            let next = try byte()
            guard shift < 63 else { throw failure("a length is too long") }
            value |= Int(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    mutating func string() throws(StoredFormError) -> String {
        let count = try varint()
        let bytes = UnsafeBufferPointer(start: try take(count), count: count)
        if let strings, StringTable.holds(count) {
            return try strings.string(bytes) { bytes throws(StoredFormError) in try string(bytes) }
        }
        return try string(bytes)
    }

    private func string(_ bytes: UnsafeBufferPointer<UInt8>) throws(StoredFormError) -> String {
        // Nearly every stored string is ASCII, which is valid UTF-8 as it stands; only the others need the
        // general check (which costs several times as much).
        if Self.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw failure("a string is not UTF-8") }
        return string
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        var high: UInt64 = 0
        while bytes.count - offset >= 8 {
            high |= UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
            offset += 8
        }
        while offset < bytes.count {
            high |= UInt64(base[offset])
            offset += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    /// Whether an optional value follows (reading its tag).
    mutating func present() throws(StoredFormError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("an optional value has tag neither 0 nor 1")
        }
    }

    mutating func optionalString() throws(StoredFormError) -> String? { try present() ? try string() : nil }

    /// An id: its 128 bits, or in a record of type 2 its text (read without making a string).
    mutating func id<Entity>(_ type: Entity.Type = Entity.self) throws(StoredFormError) -> ID<Entity> {
        if binaryIDs {
            let bits = UnsafeRawPointer(try take(16))
            return ID(
                high: UInt64(littleEndian: bits.loadUnaligned(as: UInt64.self)),
                low: UInt64(littleEndian: bits.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        let count = try varint()
        guard let id = ID<Entity>(utf8: UnsafeBufferPointer(start: try take(count), count: count)) else {
            throw failure("expected an id of the form \(Entity.idPrefix)_<ULID>")
        }
        return id
    }

    mutating func optionalID<Entity>(_ type: Entity.Type = Entity.self) throws(StoredFormError) -> ID<Entity>? {
        try present() ? try id() : nil
    }

    mutating func timestamp() throws(StoredFormError) -> Timestamp {
        let milliseconds = try int()
        guard Timestamp.writableMilliseconds.contains(milliseconds) else { throw failure("a time is out of range") }
        return Timestamp(milliseconds: milliseconds)
    }

    mutating func optionalTimestamp() throws(StoredFormError) -> Timestamp? { try present() ? try timestamp() : nil }

    mutating func day() throws(StoredFormError) -> Day {
        let days = try int()
        guard Day.writableDays.contains(days) else { throw failure("a date is out of range") }
        return Day(daysSinceEpoch: days)
    }

    mutating func optionalDay() throws(StoredFormError) -> Day? { try present() ? try day() : nil }

    /// Skip an id without reading it.
    mutating func skipID() throws(StoredFormError) {
        if binaryIDs { _ = try take(16) } else { try skipString() }
    }

    /// Skip a string without building it.
    mutating func skipString() throws(StoredFormError) {
        _ = try take(try varint())
    }

    /// Skip an optional string without building it.
    mutating func skipOptionalString() throws(StoredFormError) {
        if try present() { try skipString() }
    }
}

// MARK: - Fields

extension BinaryWriter {
    @inline(__always)
    mutating func encode<Value: FieldValue>(_ key: FieldKey, _ value: Value) {
        value.write(to: &self)
    }

    @inline(__always)
    mutating func encodeIfPresent<Value: FieldValue>(_ key: FieldKey, _ value: Value?) {
        writeOptional(value)
    }

    mutating func writeString(_ value: String) { string(value) }
    mutating func writeInteger(_ value: Int64) { int(value) }
    mutating func writeBool(_ value: Bool) { bool(value) }
    mutating func writeTimestamp(_ value: Timestamp) { timestamp(value) }
    mutating func writeDay(_ value: Day) { day(value) }
    mutating func writeID<Entity>(_ value: ID<Entity>) { id(value) }

    mutating func writeEnumeration<Value: FieldEnumeration>(_ value: Value) {
        if Value.isStoredByCode { byte(value.storedCode) } else { string(value.rawValue) }
    }

    @inline(__always)
    mutating func writeOptional<Value: FieldValue>(_ value: Value?) {
        guard let value else { return byte(0) }
        byte(1)
        value.write(to: &self)
    }

    mutating func writeArray<Value: FieldValue>(_ values: [Value]) {
        varint(values.count)
        for value in values { value.write(to: &self) }
    }

    @inline(__always)
    mutating func writeRecord<Record: FieldRecord>(_ record: Record) {
        record.encode(to: &self)
    }

    /// Compact JSON, stored as a string's bytes are.
    mutating func writeCompactJSON(_ json: UnsafeBufferPointer<UInt8>) {
        varint(json.count)
        bytes(json)
    }
}

extension BinaryReader {
    @inline(__always)
    mutating func decode<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError) -> Value {
        try Value.read(from: &self)
    }

    @inline(__always)
    mutating func decodeIfPresent<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError)
        -> Value?
    {
        try readOptional(Value.self)
    }

    @inline(__always)
    mutating func decode<Value: FieldValue>(_ key: FieldKey, default value: Value) throws(StoredFormError) -> Value {
        try Value.read(from: &self)
    }

    mutating func readString() throws(StoredFormError) -> String { try string() }
    mutating func readInteger() throws(StoredFormError) -> Int64 { try int() }
    mutating func readBool() throws(StoredFormError) -> Bool { try bool() }
    mutating func readTimestamp() throws(StoredFormError) -> Timestamp { try timestamp() }
    mutating func readDay() throws(StoredFormError) -> Day { try day() }
    mutating func readID<Entity>(_ type: Entity.Type) throws(StoredFormError) -> ID<Entity> { try id() }

    mutating func readEnumeration<Value: FieldEnumeration>(_ type: Value.Type) throws(StoredFormError) -> Value {
        if Value.isStoredByCode {
            let code = try byte()
            guard let value = Value(storedCode: code) else { throw failure("unknown \(Value.self) code \(code)") }
            return value
        }
        let count = try varint()
        let name = UnsafeBufferPointer(start: try take(count), count: count)
        let all = Value.allCases
        if let cases, let position = cases.position(of: name, in: Value.self) {
            return all[all.index(all.startIndex, offsetBy: position)]
        }
        // The name is compared as bytes with each case's: making a string of it first (on the heap, for a name
        // longer than 15 bytes) and matching that cost more than all the rest of reading a review's KPI row.
        for (position, value) in all.enumerated() where Self.equal(value.rawValue, name) {
            cases?.remember(name, at: position, in: Value.self)
            return value
        }
        throw failure("unknown value \"\(String(decoding: name, as: UTF8.self))\"")
    }

    /// Whether `string`'s UTF-8 is `bytes`.
    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            guard utf8.count == bytes.count else { return false }
            for index in 0..<utf8.count where utf8[index] != bytes[index] { return false }
            return true
        }
    }

    @inline(__always)
    mutating func readOptional<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> Value? {
        try present() ? try Value.read(from: &self) : nil
    }

    mutating func readArray<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> [Value] {
        let count = try varint()
        // Every element takes at least a byte: a count beyond the bytes left is damage, not a reason to allocate.
        guard count <= end - offset else { throw failure("an array claims \(count) elements") }
        var values: [Value] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try Value.read(from: &self)) }
        return values
    }

    @inline(__always)
    mutating func readRecord<Record: FieldRecord>(_ type: Record.Type) throws(StoredFormError) -> Record {
        try Record(from: &self)
    }

    /// Compact JSON: copied as it is, once its bytes are known to be UTF-8 (what the API writes out must be).
    mutating func readCompactJSON() throws(StoredFormError) -> SharedBytes {
        let count = try varint()
        let bytes = UnsafeBufferPointer(start: try take(count), count: count)
        guard Self.isASCII(bytes) || String(validating: bytes, as: UTF8.self) != nil else {
            throw failure("a rich-text body is not UTF-8")
        }
        return arena?.copy(bytes) ?? SharedBytes(copying: bytes)
    }
}

/// Strings read recently, by their bytes: a reader that keeps one hands out the same string again (one more
/// reference to it) instead of allocating a copy each time the same text comes back.
///
/// Direct-mapped and of fixed size: a string takes the slot its bytes hash to, replacing the one there, so that
/// text that never repeats costs a hash and a comparison and the table never grows. Only strings long enough to
/// live on the heap are kept; shorter ones are stored inline in the `String` itself and cost nothing to make.
final class StringTable {
    private static let slotCount = 4096
    private let slots: UnsafeMutablePointer<String?>

    init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: nil, count: Self.slotCount)
    }

    deinit {
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
    }

    /// Whether strings of `count` bytes are kept: those on the heap (over 15 bytes), up to a length that text which
    /// repeats (labels, names, short phrases) seldom exceeds.
    @inline(__always)
    static func holds(_ count: Int) -> Bool { count > 15 && count <= 256 }

    /// The string whose UTF-8 is `bytes`: the one kept for them, or the one `make` makes of them, kept from then on.
    @inline(__always)
    func string<Failure: Error>(
        _ bytes: UnsafeBufferPointer<UInt8>, make: (UnsafeBufferPointer<UInt8>) throws(Failure) -> String
    ) throws(Failure) -> String {
        let slot = slots + Int(Self.hash(bytes) & UInt64(Self.slotCount - 1))
        if let kept = slot.pointee, Self.equal(kept, bytes) { return kept }
        let made = try make(bytes)
        slot.pointee = made
        return made
    }

    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        string.utf8.withContiguousStorageIfAvailable { utf8 in
            utf8.count == bytes.count && memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        } ?? false
    }

    /// A hash of `bytes` (at least 8 of them), eight bytes at a time.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        var hash = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        var offset = 0
        while bytes.count - offset >= 8 {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            offset += 8
        }
        // The last eight bytes, overlapping the words before when the count is not a multiple of eight.
        hash = (hash ^ base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 32)
    }
}

/// The enumeration cases read recently, by their stored names: a reader that keeps one finds the case of a name it
/// read before with one comparison, instead of comparing the name with each case's in turn (a review's KPI rows
/// hold a rating each).
///
/// Direct-mapped and of fixed size, like `StringTable`; names of up to 24 bytes are kept, longer ones matched afresh.
final class CaseTable {
    private struct Entry {
        /// The enumeration, and the name's length and bytes (zero after its end).
        var type: ObjectIdentifier?
        var count = 0
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        /// The case's position among the enumeration's `allCases`.
        var position = 0
    }

    private static let slotCount = 256
    private static let longestName = 24
    private let slots: UnsafeMutablePointer<Entry>

    init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Entry(), count: Self.slotCount)
    }

    deinit {
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
    }

    /// The position among `Value.allCases` of the case whose name `name` is, if it was remembered.
    @inline(__always)
    func position<Value>(of name: UnsafeBufferPointer<UInt8>, in type: Value.Type) -> Int? {
        guard name.count <= Self.longestName else { return nil }
        let (words, slot) = Self.slot(of: name, in: type, slots: slots)
        let entry = slot.pointee
        guard entry.type == ObjectIdentifier(type), entry.count == name.count, entry.words == words else { return nil }
        return entry.position
    }

    /// Remember that `name` is the case at `position` among `Value.allCases`.
    func remember<Value>(_ name: UnsafeBufferPointer<UInt8>, at position: Int, in type: Value.Type) {
        guard name.count <= Self.longestName else { return }
        let (words, slot) = Self.slot(of: name, in: type, slots: slots)
        slot.pointee = Entry(type: ObjectIdentifier(type), count: name.count, words: words, position: position)
    }

    /// The name's bytes as three words, and the slot they and the enumeration hash to.
    @inline(__always)
    private static func slot<Value>(
        of name: UnsafeBufferPointer<UInt8>, in type: Value.Type, slots: UnsafeMutablePointer<Entry>
    ) -> ((UInt64, UInt64, UInt64), UnsafeMutablePointer<Entry>) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        if let base = name.baseAddress {
            withUnsafeMutableBytes(of: &words) { $0.baseAddress!.copyMemory(from: base, byteCount: name.count) }
        }
        var hash = UInt64(UInt(bitPattern: ObjectIdentifier(type))) ^ UInt64(name.count)
        hash = (hash ^ words.0) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ words.1 ^ (words.2 << 1)) &* 0xBF58_476D_1CE4_E5B9
        return (words, slots + Int((hash ^ (hash >> 32)) & UInt64(slotCount - 1)))
    }
}
