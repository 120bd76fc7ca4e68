import MeritDomain
import MeritJSON

/// The JSON forms of a record, all derived from its one listing of fields (`FieldRecord.encode(to:)`):
///
/// - the API's form, as a tree (`json`) or written straight to bytes (`write(to:)`), which a test holds to the same
///   bytes; both show only the fields the API shows;
/// - the stored form (`storedJSON`): every field, as logs of type 1 and snapshots of format 1 held them, read back
///   by `StoredJSONDecoder`.
extension FieldRecord {
    /// The record as the API shows it.
    var json: JSON { JSONTreeEncoder.tree(of: self, includingStored: false) }

    /// The record with every field, stored-only ones included.
    var storedJSON: JSON { JSONTreeEncoder.tree(of: self, includingStored: true) }

    /// Write the record as the API shows it straight to bytes, without building and freeing a tree: what the hot
    /// paths answer with.
    func write(to writer: inout JSONWriter) {
        writer.encodingFields { $0.writeRecord(self) }
    }
}

extension JSONWriter {
    /// Write through a `StagedFieldEncoder`: records, and the objects around them that a method answers with,
    /// straight to bytes.
    mutating func encodingFields(_ body: (inout StagedFieldEncoder) -> Void) {
        staged { json in
            withUnsafeMutablePointer(to: &json) { pointer in
                var encoder = StagedFieldEncoder(json: pointer)
                body(&encoder)
            }
        }
    }
}

/// What the API shows in a record's object besides its own fields, and which of its fields it leaves out: a review
/// shows the names of its cycle and people right after their ids, and its KPI rows and goals apart from it.
///
/// The record still lists its fields once; a decoration only adds to or drops from that listing as it is written,
/// so the object is made in one pass rather than built, then cut and copied.
protocol MemberDecoration {
    /// Whether the field `key` is left out.
    func omits(_ key: FieldKey) -> Bool
    /// Encode the members that follow the field `key`.
    func encodeMembers<Encoder: FieldEncoder & ~Copyable>(after key: FieldKey, to encoder: inout Encoder)
    /// Encode the members that follow every field.
    func encodeTrailingMembers<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder)
}

extension FieldKey {
    /// Whether the key is `name`.
    @inline(__always)
    func isNamed(_ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard self.name.utf8CodeUnitCount == count else { return false }
        let (lhs, rhs) = (self.name.utf8Start, name.utf8Start)
        for offset in 0..<count where lhs[offset] != rhs[offset] { return false }
        return true
    }
}

/// Passes a record's fields on to `base`, with the changes a decoration makes to its object. Only the record's
/// own members are decorated: the values of its fields, nested records included, are written by `base` as they
/// are.
private struct DecoratingEncoder<Base: FieldEncoder, Decoration: MemberDecoration>: FieldEncoder {
    /// The encoder writing the object, moved in for the duration of the record's `encode(to:)`.
    var base: Base
    let decoration: Decoration

    @inline(__always)
    mutating func encode<Value: FieldValue>(_ key: FieldKey, _ value: Value) {
        guard !decoration.omits(key) else { return }
        base.encode(key, value)
        decoration.encodeMembers(after: key, to: &base)
    }

    mutating func encodeIfPresent<Value: FieldValue>(_ key: FieldKey, _ value: Value?) {
        guard !decoration.omits(key) else { return }
        base.encodeIfPresent(key, value)
        decoration.encodeMembers(after: key, to: &base)
    }

    mutating func writeString(_ value: String) { base.writeString(value) }
    mutating func writeInteger(_ value: Int64) { base.writeInteger(value) }
    mutating func writeBool(_ value: Bool) { base.writeBool(value) }
    mutating func writeTimestamp(_ value: Timestamp) { base.writeTimestamp(value) }
    mutating func writeDay(_ value: Day) { base.writeDay(value) }
    mutating func writeID<Entity>(_ value: ID<Entity>) { base.writeID(value) }
    mutating func writeEnumeration<Value: FieldEnumeration>(_ value: Value) { base.writeEnumeration(value) }
    mutating func writeOptional<Value: FieldValue>(_ value: Value?) { base.writeOptional(value) }
    mutating func writeArray<Value: FieldValue>(_ values: [Value]) { base.writeArray(values) }
    mutating func writeRecord<Record: FieldRecord>(_ record: Record) { base.writeRecord(record) }
    mutating func writeCompactJSON(_ json: UnsafeBufferPointer<UInt8>) { base.writeCompactJSON(json) }

    /// Encode `record`'s fields, decorated, then the decoration's trailing members, through `base`.
    @inline(__always)
    static func encode<Record: FieldRecord>(_ record: Record, decoratedBy decoration: Decoration, to base: inout Base) {
        // Moved, not copied: a tree encoder's object would otherwise be copied on its next append.
        var decorated = DecoratingEncoder(base: consume base, decoration: decoration)
        record.encode(to: &decorated)
        base = decorated.base
        decoration.encodeTrailingMembers(to: &base)
    }
}

/// Builds a record's JSON tree.
struct JSONTreeEncoder: FieldEncoder {
    /// Whether stored-only fields are written too.
    let includingStored: Bool
    /// The members of the record being written.
    private var object = JSONObject()
    /// The value written last.
    private var value = JSON.null

    static func tree<Record: FieldRecord>(of record: Record, includingStored: Bool) -> JSON {
        var encoder = JSONTreeEncoder(includingStored: includingStored)
        encoder.writeRecord(record)
        return encoder.value
    }

    /// The record as the API shows it, with `decoration`'s changes to its object.
    static func tree<Record: FieldRecord>(of record: Record, decoratedBy decoration: some MemberDecoration) -> JSON {
        var encoder = JSONTreeEncoder(includingStored: false)
        DecoratingEncoder.encode(record, decoratedBy: decoration, to: &encoder)
        return .object(encoder.object)
    }

    private init(includingStored: Bool) {
        self.includingStored = includingStored
    }

    mutating func encode<Value: FieldValue>(_ key: FieldKey, _ value: Value) {
        guard key.isShown || includingStored else { return }
        value.write(to: &self)
        object.append(key.text, self.value)
    }

    mutating func encodeIfPresent<Value: FieldValue>(_ key: FieldKey, _ value: Value?) {
        if let value { encode(key, value) }
    }

    mutating func writeString(_ value: String) { self.value = .string(value) }
    mutating func writeInteger(_ value: Int64) { self.value = .int(value) }
    mutating func writeBool(_ value: Bool) { self.value = .bool(value) }
    mutating func writeTimestamp(_ value: Timestamp) { self.value = .string(value.description) }
    mutating func writeDay(_ value: Day) { self.value = .string(value.description) }
    mutating func writeID<Entity>(_ value: ID<Entity>) { self.value = .string(value.text) }
    mutating func writeEnumeration<Value: FieldEnumeration>(_ value: Value) { self.value = .string(value.rawValue) }

    mutating func writeOptional<Value: FieldValue>(_ value: Value?) {
        if let value { value.write(to: &self) } else { self.value = .null }
    }

    mutating func writeArray<Value: FieldValue>(_ values: [Value]) {
        var elements: [JSON] = []
        elements.reserveCapacity(values.count)
        for element in values {
            element.write(to: &self)
            elements.append(self.value)
        }
        value = .array(elements)
    }

    mutating func writeRecord<Record: FieldRecord>(_ record: Record) {
        var outer = JSONObject()
        swap(&outer, &object)
        record.encode(to: &self)
        swap(&outer, &object)
        value = .object(outer)
    }

    mutating func writeCompactJSON(_ json: UnsafeBufferPointer<UInt8>) {
        // What `writeCompactJSON` is given is JSON: a body was checked when it arrived, or when it was read back.
        value = (try? JSONParser.parse(UnsafeRawBufferPointer(json))) ?? .null
    }
}

/// Writes a record's API JSON straight into a staged block of a `JSONWriter`.
struct StagedFieldEncoder: FieldEncoder {
    /// The staged output, which lives for the duration of `FieldRecord.write(to:)`.
    private let json: UnsafeMutablePointer<StagedJSON>
    /// Whether the next member is the first of its object (or the next element the first of its array).
    private var first = true
    /// The `first` of each object or array opened by hand around the current one, innermost in the lowest bit.
    private var outerFirsts: UInt64 = 0
    /// The number of objects and arrays opened by hand and not yet closed.
    private var depth = 0

    init(json: UnsafeMutablePointer<StagedJSON>) {
        self.json = json
    }

    @inline(__always)
    mutating func encode<Value: FieldValue>(_ key: FieldKey, _ value: Value) {
        guard key.isShown else { return }
        json.pointee.memberName(key.name, first: first)
        first = false
        value.write(to: &self)
    }

    mutating func encodeIfPresent<Value: FieldValue>(_ key: FieldKey, _ value: Value?) {
        if let value { encode(key, value) }
    }

    mutating func writeString(_ value: String) { json.pointee.string(value) }
    mutating func writeInteger(_ value: Int64) { json.pointee.integer(value) }
    mutating func writeBool(_ value: Bool) { json.pointee.raw(value ? "true" : "false") }
    mutating func writeTimestamp(_ value: Timestamp) { json.pointee.timestamp(value) }
    mutating func writeDay(_ value: Day) { json.pointee.day(value) }
    mutating func writeID<Entity>(_ value: ID<Entity>) { json.pointee.id(value) }
    mutating func writeEnumeration<Value: FieldEnumeration>(_ value: Value) { json.pointee.string(value.rawValue) }

    @inline(__always)
    mutating func writeOptional<Value: FieldValue>(_ value: Value?) {
        if let value { value.write(to: &self) } else { json.pointee.raw("null") }
    }

    mutating func writeArray<Value: FieldValue>(_ values: [Value]) {
        json.pointee.raw("[")
        for (offset, element) in values.enumerated() {
            if offset > 0 { json.pointee.raw(",") }
            element.write(to: &self)
        }
        json.pointee.raw("]")
    }

    @inline(__always)
    mutating func writeRecord<Record: FieldRecord>(_ record: Record) {
        let outer = first
        first = true
        json.pointee.raw("{")
        record.encode(to: &self)
        json.pointee.raw("}")
        first = outer
    }

    mutating func writeCompactJSON(_ json: UnsafeBufferPointer<UInt8>) {
        self.json.pointee.raw(UnsafeRawBufferPointer(json))
    }

    /// Write `record` as an object with `decoration`'s changes (its nested records as they are).
    mutating func writeRecord<Record: FieldRecord>(_ record: Record, decoratedBy decoration: some MemberDecoration) {
        let outer = first
        first = true
        json.pointee.raw("{")
        DecoratingEncoder.encode(record, decoratedBy: decoration, to: &self)
        json.pointee.raw("}")
        first = outer
    }

    // MARK: - Objects and arrays written by hand around records
    //
    // Opened and closed by calls rather than written by closures, so that what a handler writes from (the state, the
    // rows) is never captured, and copied, by a closure.

    /// Open an object; its members follow (`encode`, or `memberName` and a value), then `closeObject()`.
    mutating func openObject() { open("{") }

    /// Close the object opened last.
    mutating func closeObject() { close("}") }

    /// Open an array; each element follows `nextElement()`, then `closeArray()`.
    mutating func openArray() { open("[") }

    /// Close the array opened last.
    mutating func closeArray() { close("]") }

    /// Start the next element of the open array.
    mutating func nextElement() {
        if !first { json.pointee.raw(",") }
        first = false
    }

    /// Write the name of the next member, `key`; its value follows.
    mutating func memberName(_ key: StaticString) {
        json.pointee.memberName(key, first: first)
        first = false
    }

    /// Write the name of the next member when the name is data (a rating's name); its value follows.
    mutating func memberName(text name: String) {
        nextElement()
        json.pointee.string(name)
        json.pointee.raw(":")
    }

    /// Write the name of the next member of an object keyed by ids; its value follows.
    mutating func memberName<Entity>(_ id: ID<Entity>) {
        nextElement()
        json.pointee.id(id)
        json.pointee.raw(":")
    }

    /// Write `null`.
    mutating func writeNull() { json.pointee.raw("null") }

    private mutating func open(_ bracket: StaticString) {
        precondition(depth < 64, "hand-written JSON nests at most 64 deep")
        outerFirsts = outerFirsts << 1 | (first ? 1 : 0)
        depth += 1
        first = true
        json.pointee.raw(bracket)
    }

    private mutating func close(_ bracket: StaticString) {
        json.pointee.raw(bracket)
        first = outerFirsts & 1 != 0
        outerFirsts >>= 1
        depth -= 1
    }
}

/// Reads a record back from its stored JSON: events of records of type 1 and snapshots of format 1, written by
/// earlier versions. Members are looked up by their keys; members a later version added are ignored, and every
/// error names the field.
struct StoredJSONDecoder: FieldDecoder {
    var schemaVersion: Int
    /// The members of the record being read.
    private var object: JSONObject
    /// The value to read next, or `nil` when the member is absent.
    private var value: JSON?
    /// Where the value is, for messages: `person.email`.
    private var path: String

    /// Read a `Record` from `json`, which stored it; `what` names it in messages.
    static func decode<Record: FieldRecord>(
        _ type: Record.Type, from json: JSON, what: String, schemaVersion: Int = 1
    ) throws(StoredFormError) -> Record {
        var decoder = StoredJSONDecoder(schemaVersion: schemaVersion, object: JSONObject(), value: json, path: what)
        return try decoder.readRecord(Record.self)
    }

    /// Read the resource of `kind` from `json`.
    static func decode(_ kind: ResourceKind, from json: JSON, what: String, schemaVersion: Int = 1)
        throws(StoredFormError) -> Resource
    {
        var decoder = StoredJSONDecoder(schemaVersion: schemaVersion, object: JSONObject(), value: nil, path: what)
        guard case .object(let members) = json else { throw StoredFormError("\(what) is not an object") }
        decoder.object = members
        return try Resource.decode(kind, from: &decoder)
    }

    private init(schemaVersion: Int, object: JSONObject, value: JSON?, path: String) {
        self.schemaVersion = schemaVersion
        self.object = object
        self.value = value
        self.path = path
    }

    private func failure(_ problem: String) -> StoredFormError {
        StoredFormError("\(path) \(problem)")
    }

    /// Read the value of member `key` of the current object.
    private mutating func member<Value>(_ key: FieldKey, _ read: (inout Self) throws(StoredFormError) -> Value)
        throws(StoredFormError) -> Value
    {
        let outerPath = path
        path = "\(outerPath).\(key.text)"
        value = object[key.text]
        defer { path = outerPath }
        return try read(&self)
    }

    mutating func decode<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError) -> Value {
        try member(key) { decoder throws(StoredFormError) in try Value.read(from: &decoder) }
    }

    mutating func decodeIfPresent<Value: FieldValue>(_ key: FieldKey, as type: Value.Type) throws(StoredFormError)
        -> Value?
    {
        try member(key) { decoder throws(StoredFormError) in
            decoder.value == nil ? nil : try Value.read(from: &decoder)
        }
    }

    mutating func decode<Value: FieldValue>(_ key: FieldKey, default defaultValue: Value) throws(StoredFormError)
        -> Value
    {
        try member(key) { decoder throws(StoredFormError) in
            decoder.value == nil ? defaultValue : try Value.read(from: &decoder)
        }
    }

    /// The value to read, which must be present.
    private func present() throws(StoredFormError) -> JSON {
        guard let value else { throw failure("is missing") }
        return value
    }

    mutating func readString() throws(StoredFormError) -> String {
        guard case .string(let string) = try present() else { throw failure("must be a string") }
        return string
    }

    mutating func readInteger() throws(StoredFormError) -> Int64 {
        guard let number = try present().intValue else { throw failure("must be an integer") }
        return number
    }

    mutating func readBool() throws(StoredFormError) -> Bool {
        guard case .bool(let flag) = try present() else { throw failure("must be a boolean") }
        return flag
    }

    mutating func readTimestamp() throws(StoredFormError) -> Timestamp {
        guard let timestamp = Timestamp(rfc3339: try readString()) else { throw failure("must be an RFC 3339 time") }
        return timestamp
    }

    mutating func readDay() throws(StoredFormError) -> Day {
        guard let day = Day(try readString()) else { throw failure("must be a date") }
        return day
    }

    mutating func readID<Entity>(_ type: Entity.Type) throws(StoredFormError) -> ID<Entity> {
        guard let id = ID<Entity>(try readString()) else {
            throw failure("must be an id of the form \(Entity.idPrefix)_<ULID>")
        }
        return id
    }

    mutating func readEnumeration<Value: FieldEnumeration>(_ type: Value.Type) throws(StoredFormError) -> Value {
        let name = try readString()
        guard let value = Value(rawValue: name) else { throw failure("has the unknown value \"\(name)\"") }
        return value
    }

    mutating func readOptional<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> Value? {
        guard let value, !value.isNull else { return nil }
        return try Value.read(from: &self)
    }

    mutating func readArray<Value: FieldValue>(_ type: Value.Type) throws(StoredFormError) -> [Value] {
        guard case .array(let elements) = try present() else { throw failure("must be an array") }
        let outerPath = path
        defer { path = outerPath }
        var values: [Value] = []
        for (offset, element) in elements.enumerated() {
            path = "\(outerPath)[\(offset)]"
            value = element
            values.append(try Value.read(from: &self))
        }
        return values
    }

    mutating func readRecord<Record: FieldRecord>(_ type: Record.Type) throws(StoredFormError) -> Record {
        guard case .object(let members) = try present() else { throw failure("must be an object") }
        var outer = members
        swap(&outer, &object)
        defer { swap(&outer, &object) }
        return try Record(from: &self)
    }

    mutating func readCompactJSON() throws(StoredFormError) -> SharedBytes {
        SharedBytes(try present().serialized())
    }
}

extension StagedJSON {
    /// A date, quoted, written without making a string.
    mutating func day(_ day: Day) {
        let (year, month, date) = day.components
        guard (0...9999).contains(year) else { return string(day.description) }
        raw(maximumCount: 12) { target in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var value = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    target[position] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
            }
            target[0] = UInt8(ascii: "\"")
            put(year, 4, at: 1)
            target[5] = UInt8(ascii: "-")
            put(month, 2, at: 6)
            target[8] = UInt8(ascii: "-")
            put(date, 2, at: 9)
            target[11] = UInt8(ascii: "\"")
            return 12
        }
    }
}
