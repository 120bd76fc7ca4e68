/// A field of the input that is missing, of the wrong type or otherwise unacceptable.
///
/// `field` is the path a user would write (`items[2].label`); `problem` says what is wrong in a phrase that
/// follows the field name ("is required", "must be a string").
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the field at fault; empty for the params object itself.
    public var field: String
    /// What is wrong with it.
    public var problem: String

    /// A field error.
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// One sentence naming the field: "name is required".
    public var description: String { field.isEmpty ? problem : "\(field) \(problem)" }
}

/// A type that can be read from a JSON value, with errors that name the field.
public protocol JSONReadable {
    /// Read `value`, found at `field`, or throw a `FieldError` naming `field`.
    static func read(_ value: JSON, field: String) throws(FieldError) -> Self
}

extension String: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> String {
        guard case .string(let string) = value else { throw FieldError(field: field, problem: "must be a string") }
        return string
    }
}

extension Bool: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> Bool {
        guard case .bool(let flag) = value else { throw FieldError(field: field, problem: "must be a boolean") }
        return flag
    }
}

extension Int: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> Int {
        guard let number = value.intValue, let int = Int(exactly: number) else {
            throw FieldError(field: field, problem: "must be an integer")
        }
        return int
    }
}

extension Int64: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> Int64 {
        guard let number = value.intValue else { throw FieldError(field: field, problem: "must be an integer") }
        return number
    }
}

extension Double: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> Double {
        guard let number = value.doubleValue else { throw FieldError(field: field, problem: "must be a number") }
        return number
    }
}

extension JSON: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> JSON { value }
}

extension JSONObject: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> JSONObject {
        guard case .object(let object) = value.expanded else {
            throw FieldError(field: field, problem: "must be an object")
        }
        return object
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public static func read(_ value: JSON, field: String) throws(FieldError) -> [Element] {
        guard case .array(let array) = value.expanded else {
            throw FieldError(field: field, problem: "must be an array")
        }
        var result: [Element] = []
        result.reserveCapacity(array.count)
        for (offset, element) in array.enumerated() {
            result.append(try Element.read(element, field: "\(field)[\(offset)]"))
        }
        return result
    }
}

/// A field of an update: absent (leave as is), `null` (clear) or a value (set).
public enum FieldUpdate<Value> {
    case absent
    case null
    case value(Value)

    /// The new value, or `nil` both when the field is absent and when it is cleared.
    public var newValue: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// Whether the request mentions the field at all.
    public var isPresent: Bool {
        if case .absent = self { return false }
        return true
    }
}

extension FieldUpdate: Sendable where Value: Sendable {}
extension FieldUpdate: Equatable where Value: Equatable {}

/// Reads the members of a JSON object field by field, so that handlers stay short and every error names its
/// field.
///
/// Each member read is remembered; `finish()` then rejects the members nobody asked for, which is how unknown
/// params become a `validation_error` naming them.
public struct FieldReader {
    /// The object being read.
    public let object: JSONObject
    /// The path prefix for error messages ("" at the top, "items[2]." inside).
    public let path: String
    /// Which members were read, by position: a bit set, so that reading allocates nothing for small objects.
    @usableFromInline var readMembers: [UInt64]
    /// Whether `optional` and `nested` refuse an explicit `null` instead of reading it as absent: set by updates,
    /// where `null` would otherwise look like "clear this" and silently change nothing. Members that may be
    /// cleared are read with `update`. Nested readers inherit it.
    public var refusesNull = false

    /// A reader over `value`, which must be an object; `nil` (absent params) reads as an empty object.
    public init(_ value: JSON?, path: String = "") throws(FieldError) {
        switch value?.expanded {
        case .none: object = JSONObject()
        case .object(let members)?: object = members
        case .some(let other):
            let field = path.hasSuffix(".") ? String(path.dropLast()) : path
            throw FieldError(
                field: field.isEmpty ? "params" : field, problem: "must be an object, not \(other.kindName)")
        }
        self.path = path
        self.readMembers = Array(repeating: 0, count: (object.count + 63) / 64)
    }

    @usableFromInline func name(_ key: String) -> String { path + key }

    /// Mark every member named `key` as read, and return its value (the last one where a key repeats).
    @usableFromInline mutating func take(_ key: String) -> JSON? {
        var value: JSON?
        for position in object.members.indices where object.members[position].key.isSameMemberName(as: key) {
            readMembers[position / 64] |= 1 << UInt64(position % 64)
            value = object.members[position].value
        }
        return value
    }

    /// The value of `key`, which must be present and not `null`.
    @inlinable public mutating func required<Value: JSONReadable>(_ key: String, as type: Value.Type = Value.self)
        throws(FieldError) -> Value
    {
        guard let value = take(key), !value.isNull else { throw FieldError(field: name(key), problem: "is required") }
        return try Value.read(value, field: name(key))
    }

    /// The value of `key`, or `nil` when it is absent or `null` (with `refusesNull`, `null` is an error).
    @inlinable public mutating func optional<Value: JSONReadable>(_ key: String, as type: Value.Type = Value.self)
        throws(FieldError) -> Value?
    {
        guard let value = take(key) else { return nil }
        if value.isNull {
            if refusesNull { throw nullRefused(key) }
            return nil
        }
        return try Value.read(value, field: name(key))
    }

    /// The value of `key` for an update: absent, explicitly `null`, or a value.
    @inlinable public mutating func update<Value: JSONReadable>(_ key: String, as type: Value.Type = Value.self)
        throws(FieldError) -> FieldUpdate<Value>
    {
        guard let value = take(key) else { return .absent }
        if value.isNull { return .null }
        return .value(try Value.read(value, field: name(key)))
    }

    /// A reader for the nested object at `key`, or `nil` when it is absent or `null`.
    public mutating func nested(_ key: String) throws(FieldError) -> FieldReader? {
        guard let value = take(key) else { return nil }
        if value.isNull {
            if refusesNull { throw nullRefused(key) }
            return nil
        }
        var reader = try FieldReader(value, path: name(key) + ".")
        reader.refusesNull = refusesNull
        return reader
    }

    /// The error for an explicit `null` where a value cannot be cleared.
    @usableFromInline func nullRefused(_ key: String) -> FieldError {
        FieldError(field: name(key), problem: "cannot be null; leave it out to keep the current value")
    }

    /// Mark `key` as known without reading it (for members another layer handles, such as `_meta`).
    public mutating func ignore(_ key: String) {
        _ = take(key)
    }

    /// Reject any member that was not read: unknown fields are errors, not silently dropped.
    public func finish() throws(FieldError) {
        for (position, member) in object.members.enumerated()
        where readMembers[position / 64] & (1 << UInt64(position % 64)) == 0 {
            throw FieldError(field: name(member.key), problem: "is not a known field")
        }
    }
}
