/// A field's stable key: its name in the API's JSON and in stored JSON. Once written to a log, never renamed.
public struct FieldKey: Sendable, ExpressibleByStringLiteral {
    /// The snake_case name, as the contract spells it.
    public let name: StaticString
    /// Whether the API shows the field. Stored-only fields, such as a key's secret hash, are written to the log and
    /// to snapshots but never to a response or the event feed.
    public let isShown: Bool

    /// A field the API shows.
    public init(stringLiteral name: StaticString) {
        self.name = name
        self.isShown = true
    }

    /// A field that is stored but never shown.
    public static func stored(_ name: StaticString) -> FieldKey { FieldKey(name: name, isShown: false) }

    private init(name: StaticString, isShown: Bool) {
        self.name = name
        self.isShown = isShown
    }

    /// The name as a string, for messages and lookups.
    public var text: String { name.description }
}

/// A value whose stored data could not be read back: it is not what this version wrote.
public struct StoredFormError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, and where.
    public var description: String

    /// An error.
    public init(_ description: String) { self.description = description }
}

/// A record whose fields are listed once, in `encode(to:)` and `init(from:)`, in the same order: every form of it
/// (the log's binary form, snapshots, the API's JSON and the direct writer) is derived from that one listing, as
/// GRDB derives a row from a record's `encode(to:)`.
///
/// The binary form is positional, so the order of the fields is part of the stored format: a field is appended at
/// the end, with a new schema version of the change kinds that carry the record, and `init(from:)` reads the old
/// layout when `decoder.schemaVersion` says so. The keys are the stable names of the JSON forms.
public protocol FieldRecord: FieldValue, Equatable {
    /// Write every field, in order.
    func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder)
    /// Read every field, in the same order.
    init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError)
}

extension FieldRecord {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.writeRecord(self)
    }

    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Self {
        try decoder.readRecord(Self.self)
    }
}

/// A value a field can hold: it writes itself with an encoder's primitives and reads itself back.
public protocol FieldValue: Sendable {
    /// Write the value.
    func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder)
    /// Read a value.
    static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Self
}

/// An enumeration a field can hold, shown and stored by its raw name (reordering its cases changes nothing), or
/// in the binary form by a stable one-byte code when `isStoredByCode`.
public protocol FieldEnumeration: FieldValue, RawRepresentable<String>, CaseIterable, Equatable {
    /// Whether the binary form stores `storedCode` rather than the name.
    static var isStoredByCode: Bool { get }
    /// The case's code in the binary form (never reused), when stored by code.
    var storedCode: UInt8 { get }
    /// The case whose code is `storedCode`.
    init?(storedCode: UInt8)
}

extension FieldEnumeration {
    public static var isStoredByCode: Bool { false }
    public var storedCode: UInt8 { 0 }
    public init?(storedCode: UInt8) { nil }

    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.writeEnumeration(self)
    }

    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Self {
        try decoder.readEnumeration(Self.self)
    }

    /// Every case's name, for messages: "employee, lead, manager".
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Writes a record's fields: the binary form, a JSON tree, JSON bytes.
public protocol FieldEncoder: ~Copyable {
    /// Write the field `key` holding `value` (a JSON form skips a field it does not show).
    mutating func encode<Value: FieldValue>(_ key: FieldKey, _ value: Value)
    /// Write the field only when `value` is not `nil`: a JSON form omits it, the binary form writes a tag.
    mutating func encodeIfPresent<Value: FieldValue>(_ key: FieldKey, _ value: Value?)

    mutating func writeString(_ value: String)
    mutating func writeInteger(_ value: Int64)
    mutating func writeBool(_ value: Bool)
    mutating func writeTimestamp(_ value: Timestamp)
    mutating func writeDay(_ value: Day)
    mutating func writeID<Entity>(_ value: ID<Entity>)
    mutating func writeEnumeration<Value: FieldEnumeration>(_ value: Value)
    mutating func writeOptional<Value: FieldValue>(_ value: Value?)
    mutating func writeArray<Value: FieldValue>(_ values: [Value])
    mutating func writeRecord<Record: FieldRecord>(_ record: Record)
    /// Write a value held as its compact JSON (a rich-text body): the JSON forms copy it as it stands.
    mutating func writeCompactJSON(_ json: UnsafeBufferPointer<UInt8>)
}

/// Reads a record's fields back, in the order they were written.
public protocol FieldDecoder {
    /// The schema version of the change kind being read: a record whose layout changed reads the old one when it
    /// is lower than the current version.
    var schemaVersion: Int { get }

    /// Read the field `key`.
    mutating func decode<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError) -> Value
    /// Read a field written with `encodeIfPresent`.
    mutating func decodeIfPresent<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError)
        -> Value?
    /// Read a field that stored JSON written by an earlier version may lack (the binary form always holds it).
    mutating func decode<Value: FieldValue>(_ key: FieldKey, default value: Value) throws(StoredFormError) -> Value

    mutating func readString() throws(StoredFormError) -> String
    mutating func readInteger() throws(StoredFormError) -> Int64
    mutating func readBool() throws(StoredFormError) -> Bool
    mutating func readTimestamp() throws(StoredFormError) -> Timestamp
    mutating func readDay() throws(StoredFormError) -> Day
    mutating func readID<Entity>(_ type: Entity.Type) throws(StoredFormError) -> ID<Entity>
    mutating func readEnumeration<Value: FieldEnumeration>(_ type: Value.Type) throws(StoredFormError) -> Value
    mutating func readOptional<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> Value?
    mutating func readArray<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> [Value]
    mutating func readRecord<Record: FieldRecord>(_ type: Record.Type) throws(StoredFormError) -> Record
    /// Read a value written with `writeCompactJSON`.
    mutating func readCompactJSON() throws(StoredFormError) -> SharedBytes
}

extension FieldDecoder {
    /// Read the field `key`, of the type the context expects.
    @inlinable
    public mutating func decode<Value: FieldValue>(_ key: FieldKey) throws(StoredFormError) -> Value {
        try decode(key, as: Value.self)
    }

    /// Read a field written with `encodeIfPresent`, of the type the context expects.
    @inlinable
    public mutating func decodeIfPresent<Value: FieldValue>(_ key: FieldKey) throws(StoredFormError) -> Value? {
        try decodeIfPresent(key, as: Value.self)
    }
}

// MARK: - The values fields hold

extension String: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeString(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> String {
        try decoder.readString()
    }
}

extension Int: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.writeInteger(Int64(self))
    }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Int {
        Int(try decoder.readInteger())
    }
}

extension Bool: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeBool(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Bool {
        try decoder.readBool()
    }
}

extension Timestamp: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.writeTimestamp(self)
    }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Timestamp {
        try decoder.readTimestamp()
    }
}

extension Day: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeDay(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Day {
        try decoder.readDay()
    }
}

extension ID: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeID(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> ID {
        try decoder.readID(Entity.self)
    }
}

extension Optional: FieldValue where Wrapped: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeOptional(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> Wrapped? {
        try decoder.readOptional(Wrapped.self)
    }
}

extension Array: FieldValue where Element: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) { encoder.writeArray(self) }
    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> [Element] {
        try decoder.readArray(Element.self)
    }
}
