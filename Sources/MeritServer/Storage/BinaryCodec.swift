import MeritDomain

/// The compact binary form in which the log stores events: what replay reads a million of a second.
///
/// Integers are little-endian and fixed-width; a string is its UTF-8 length as an unsigned LEB128 varint, then its
/// bytes; an id is its 128 bits, the high 64 then the low 64 (records of type 2, written before, hold each id as a
/// string of its text); an optional value is a byte, 0 for none or 1 followed by the value; a timestamp is its
/// milliseconds and a day its days since the epoch. Enumerations are stored by name, so that reordering their cases
/// changes nothing on disk. The wire (JSON) never sees this form.
struct BinaryWriter: ~Copyable {
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
struct BinaryReader {
    private let base: UnsafePointer<UInt8>?
    private let end: Int
    private(set) var offset = 0
    /// Whether ids are their 128 bits (records of type 3) or strings of their text (type 2).
    let binaryIDs: Bool
    /// What is being read, for error messages ("person").
    var what = "record"

    init(_ bytes: UnsafeRawBufferPointer, binaryIDs: Bool = true) {
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        end = bytes.count
        self.binaryIDs = binaryIDs
    }

    var isAtEnd: Bool { offset == end }

    func failure(_ problem: String) -> DecodingError {
        DecodingError(description: "\(what): \(problem) at byte \(offset)")
    }

    @inline(__always)
    private mutating func take(_ count: Int) throws(DecodingError) -> UnsafePointer<UInt8> {
        guard count >= 0, end - offset >= count, let base else { throw failure("the data ends too soon") }
        defer { offset += count }
        return base + offset
    }

    mutating func byte() throws(DecodingError) -> UInt8 { try take(1).pointee }

    mutating func bool() throws(DecodingError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("a boolean is neither 0 nor 1")
        }
    }

    mutating func int() throws(DecodingError) -> Int64 {
        Int64(littleEndian: UnsafeRawPointer(try take(8)).loadUnaligned(as: Int64.self))
    }

    mutating func varint() throws(DecodingError) -> Int {
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

    mutating func string() throws(DecodingError) -> String {
        let count = try varint()
        return try string(UnsafeBufferPointer(start: try take(count), count: count))
    }

    private func string(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> String {
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
    mutating func present() throws(DecodingError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("an optional value has tag neither 0 nor 1")
        }
    }

    mutating func optionalString() throws(DecodingError) -> String? { try present() ? try string() : nil }

    /// An id: its 128 bits, or in a record of type 2 its text (read without making a string).
    mutating func id<Entity>(_ type: Entity.Type = Entity.self) throws(DecodingError) -> ID<Entity> {
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

    mutating func optionalID<Entity>(_ type: Entity.Type = Entity.self) throws(DecodingError) -> ID<Entity>? {
        try present() ? try id() : nil
    }

    mutating func timestamp() throws(DecodingError) -> Timestamp {
        let milliseconds = try int()
        guard Timestamp.writableMilliseconds.contains(milliseconds) else { throw failure("a time is out of range") }
        return Timestamp(milliseconds: milliseconds)
    }

    mutating func optionalTimestamp() throws(DecodingError) -> Timestamp? { try present() ? try timestamp() : nil }

    mutating func day() throws(DecodingError) -> Day {
        let days = try int()
        guard Day.writableDays.contains(days) else { throw failure("a date is out of range") }
        return Day(daysSinceEpoch: days)
    }

    mutating func optionalDay() throws(DecodingError) -> Day? { try present() ? try day() : nil }

    mutating func enumeration<Value: RawRepresentable<String>>(_ type: Value.Type) throws(DecodingError) -> Value {
        let name = try string()
        guard let value = Value(rawValue: name) else { throw failure("unknown value \"\(name)\"") }
        return value
    }

    /// Skip an id without reading it.
    mutating func skipID() throws(DecodingError) {
        if binaryIDs { _ = try take(16) } else { try skipString() }
    }

    /// Skip a string without building it.
    mutating func skipString() throws(DecodingError) {
        _ = try take(try varint())
    }

    /// Skip an optional string without building it.
    mutating func skipOptionalString() throws(DecodingError) {
        if try present() { try skipString() }
    }
}

// MARK: - The domain's types

extension Organization {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.string(name)
        writer.int(Int64(settings.feedbackMinimumResponses))
        writer.bool(settings.summaryReviewWorkflow)
        writer.timestamp(createdAt)
        writer.timestamp(updatedAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "organization"
        self.init(
            id: try reader.id(), name: try reader.string(),
            settings: Settings(
                feedbackMinimumResponses: Int(try reader.int()), summaryReviewWorkflow: try reader.bool()),
            createdAt: try reader.timestamp(), updatedAt: try reader.timestamp())
    }
}

extension APIKey {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.string(name)
        writer.varint(scopes.count)
        for scope in scopes { writer.string(scope.rawValue) }
        writer.optionalID(personID)
        writer.string(secretHash)
        writer.timestamp(createdAt)
        writer.optionalTimestamp(revokedAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "key"
        let id: ID<APIKey> = try reader.id()
        let name = try reader.string()
        var scopes: [Scope] = []
        for _ in 0..<(try reader.varint()) { scopes.append(try reader.enumeration(Scope.self)) }
        self.init(
            id: id, name: name, scopes: scopes, personID: try reader.optionalID(), secretHash: try reader.string(),
            createdAt: try reader.timestamp(), revokedAt: try reader.optionalTimestamp())
    }
}

extension Person {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.string(name)
        writer.string(email)
        writer.byte(role.code)
        writer.optionalID(managerID)
        writer.optionalString(squad)
        writer.optionalString(reviewTemplateID)
        writer.bool(isAdmin)
        writer.timestamp(createdAt)
        writer.timestamp(updatedAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "person"
        self.init(
            id: try reader.id(), name: try reader.string(), email: try reader.string(),
            role: try Role(code: reader.byte(), reader), managerID: try reader.optionalID(),
            squad: try reader.optionalString(), reviewTemplateID: try reader.optionalString(),
            isAdmin: try reader.bool(), createdAt: try reader.timestamp(), updatedAt: try reader.timestamp())
    }
}

extension Person.Role {
    /// The role's code in the binary form: stable, never reused.
    var code: UInt8 {
        switch self {
        case .employee: return 1
        case .lead: return 2
        case .manager: return 3
        case .head: return 4
        case .executive: return 5
        }
    }

    init(code: UInt8, _ reader: BinaryReader) throws(DecodingError) {
        switch code {
        case 1: self = .employee
        case 2: self = .lead
        case 3: self = .manager
        case 4: self = .head
        case 5: self = .executive
        default: throw reader.failure("unknown role code \(code)")
        }
    }
}

extension Template {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.string(name)
        writer.varint(items.count)
        for item in items {
            writer.id(item.id)
            writer.string(item.area)
            writer.string(item.label)
            writer.bool(item.isMandatory)
            writer.int(Int64(item.sortOrder))
        }
        writer.timestamp(createdAt)
        writer.timestamp(updatedAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "template"
        let id: ID<Template> = try reader.id()
        let name = try reader.string()
        var items: [Item] = []
        for _ in 0..<(try reader.varint()) {
            items.append(
                Item(
                    id: try reader.id(), area: try reader.string(), label: try reader.string(),
                    isMandatory: try reader.bool(), sortOrder: Int(try reader.int())))
        }
        self.init(
            id: id, name: name, items: items, createdAt: try reader.timestamp(), updatedAt: try reader.timestamp())
    }
}

extension Observation {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.id(employeeID)
        writer.string(authorID)
        writer.string(text)
        writer.day(observedOn)
        writer.timestamp(createdAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "observation"
        self.init(
            id: try reader.id(), employeeID: try reader.id(), authorID: try reader.string(), text: try reader.string(),
            observedOn: try reader.day(), createdAt: try reader.timestamp())
    }
}

extension Objective {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.id(employeeID)
        writer.string(authorID)
        writer.string(title)
        writer.optionalString(description)
        writer.optionalDay(dueDate)
        writer.string(status.rawValue)
        writer.timestamp(createdAt)
        writer.timestamp(updatedAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "objective"
        self.init(
            id: try reader.id(), employeeID: try reader.id(), authorID: try reader.string(),
            title: try reader.string(), description: try reader.optionalString(), dueDate: try reader.optionalDay(),
            status: try reader.enumeration(Status.self), createdAt: try reader.timestamp(),
            updatedAt: try reader.timestamp())
    }
}

extension Notification {
    func encode(to writer: inout BinaryWriter) {
        writer.id(id)
        writer.id(recipientID)
        writer.string(kind.rawValue)
        writer.string(subjectID)
        writer.string(message)
        writer.timestamp(createdAt)
        writer.optionalTimestamp(readAt)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        reader.what = "notification"
        self.init(
            id: try reader.id(), recipientID: try reader.id(), kind: try reader.enumeration(Kind.self),
            subjectID: try reader.string(), message: try reader.string(), createdAt: try reader.timestamp(),
            readAt: try reader.optionalTimestamp())
    }
}
