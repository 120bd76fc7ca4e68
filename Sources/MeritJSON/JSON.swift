/// A JSON value as RFC 8259 defines it.
///
/// Integers that fit in 64 bits are kept exactly as `.int`; every other number is a `.double`.
/// Objects keep their members in the order they were written, so output is stable and reads like the input.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
    /// An object or an array kept as its compact JSON rather than as a tree: what the parser makes of the members
    /// its caller names (`JSONParser.parse(_:maximumDepth:compactMembers:)`), values that are stored and answered
    /// as they came, which would otherwise be built into a tree only to be written back. It equals the tree it
    /// stands for; reads of its members go through that tree (`expanded`).
    case compact(CompactJSON)
}

/// An object or an array as its compact JSON: exactly the bytes `JSONWriter` writes for its tree.
///
/// Only the parser makes one, from input it has checked as strictly as a tree's (`JSONParser.compactValue()`), so
/// the bytes are always one valid JSON value, with no member repeated in any of its objects.
public struct CompactJSON: Sendable {
    /// The value's compact JSON, in UTF-8.
    public let bytes: [UInt8]

    init(checked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The value as a tree.
    public var tree: JSON {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            preconditionFailure("the parser kept as compact JSON what it cannot read back: \(error)")
        }
    }
}

extension JSON {
    /// The value as a tree: a compact value's tree, else the value itself.
    public var expanded: JSON {
        if case .compact(let compact) = self { return compact.tree }
        return self
    }

    /// The member `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSON? {
        if case .object(let object) = expanded { return object[key] }
        return nil
    }

    /// The element at `index` when this is an array and the index is in range, else `nil`.
    public subscript(index: Int) -> JSON? {
        if case .array(let array) = expanded, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// The string payload, or `nil` for any other kind of value.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The integer payload (also for a double with an exact integer value), or `nil`.
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// The numeric payload as a `Double`, or `nil` for anything that is not a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The boolean payload, or `nil`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, or `nil` when this is not an array.
    public var arrayValue: [JSON]? {
        if case .array(let array) = expanded { return array }
        return nil
    }

    /// The members, or `nil` when this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let object) = expanded { return object }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The name of this value's kind as a user would say it, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .compact(let compact): return compact.bytes.first == UInt8(ascii: "[") ? "an array" : "an object"
        }
    }
}

extension JSON: Equatable {
    /// Structural equality: numbers compare by value (`1 == 1.0`), objects regardless of member order.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return lhs.doubleValue == rhs.doubleValue
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.compact, _), (_, .compact): return lhs.expanded == rhs.expanded
        default: return false
        }
    }
}

extension JSON: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(literal: elements))
    }
}

extension JSON {
    /// `value` as a JSON string, or `null` when it is `nil`.
    public init(_ value: String?) { self = value.map(JSON.string) ?? .null }
    /// `value` as a JSON integer, or `null` when it is `nil`.
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    /// `value` as a JSON boolean, or `null` when it is `nil`.
    public init(_ value: Bool?) { self = value.map(JSON.bool) ?? .null }
    /// The strings as a JSON array.
    public init(_ values: [String]) { self = .array(values.map(JSON.string)) }
}

/// The members of a JSON object, in the order they were written.
///
/// Lookup is a linear scan from the end, which beats hashing for the small objects JSON-RPC carries, and makes
/// the last of duplicated keys win, as most parsers do.
public struct JSONObject: Sendable {
    /// The members in order; a key may repeat when the input repeated it.
    public private(set) var members: [(key: String, value: JSON)]

    /// An empty object.
    public init() { members = [] }

    /// An object with these members, in this order.
    public init(_ members: [(key: String, value: JSON)]) { self.members = members }

    /// Reserve room for `count` members.
    public mutating func reserveCapacity(_ count: Int) { members.reserveCapacity(count) }

    /// The number of members.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The keys, in order.
    public var keys: [String] { members.map(\.key) }

    /// The value of `key`, or `nil`; setting `nil` removes the key, setting a value replaces it in place or
    /// appends it.
    public subscript(key: String) -> JSON? {
        get {
            var index = members.count
            while index > 0 {
                index -= 1
                if members[index].key.isSameMemberName(as: key) { return members[index].value }
            }
            return nil
        }
        set {
            if let index = members.lastIndex(where: { $0.key.isSameMemberName(as: key) }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.removeAll { $0.key.isSameMemberName(as: key) }
                }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Append a member without looking for an existing one; the parser and builders use this.
    public mutating func append(_ key: String, _ value: JSON) {
        members.append((key, value))
    }
}

extension String {
    /// Whether the two strings are the same member name: most names that differ differ in length, which is at
    /// hand, while `==` goes through a comparison that allows for canonical equivalence.
    @inlinable
    public func isSameMemberName(as other: String) -> Bool {
        utf8.count == other.utf8.count && self == other
    }
}

extension JSONObject: Equatable {
    /// Objects are equal when they have the same keys with equal values, whatever the order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        // Compare what a reader sees: each key's value, the last one where a key repeats.
        for (key, _) in lhs.members where lhs[key] != rhs[key] {
            return false
        }
        return true
    }
}

extension JSONObject {
    /// The first member name that appears more than once, or `nil`.
    public var firstRepeatedName: String? {
        // Objects are small: comparing each name with those before it beats hashing them.
        for later in members.indices.dropFirst() {
            for earlier in members.startIndex..<later
            where members[earlier].key.isSameMemberName(as: members[later].key) {
                return members[later].key
            }
        }
        return nil
    }
}

extension JSON {
    /// The path of the first member that an object anywhere inside this value repeats (`items[2].label`), or `nil`.
    public var firstRepeatedMember: String? {
        // The path is only made on the way back from a repeat, so a clean value costs no allocation.
        switch self {
        case .object(let object):
            if let name = object.firstRepeatedName { return name }
            for (key, value) in object.members {
                if let inner = value.firstRepeatedMember { return value.isArray ? key + inner : key + "." + inner }
            }
            return nil
        case .array(let elements):
            for (offset, element) in elements.enumerated() {
                if let inner = element.firstRepeatedMember {
                    return element.isArray ? "[\(offset)]" + inner : "[\(offset)]." + inner
                }
            }
            return nil
        default:
            // Scalars hold no members, and the parser keeps nothing as compact JSON that repeats one.
            return nil
        }
    }

    private var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> {
        members.makeIterator()
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(literal: elements)
    }

    /// An object with the members of a dictionary literal, in order.
    ///
    /// The members are moved, not copied, out of the literal's array: copying would retain every key and value
    /// and leave the runtime to release them again, member by member, when the literal's array is freed.
    /// `popLast` moves a member out and shrinks the array, so the array is empty by the time it is freed; popping
    /// from the end needs the members in reverse order first, and reversing through a buffer pointer moves them
    /// rather than copying.
    init(literal elements: consuming [(String, JSON)]) {
        var elements = elements
        elements.withUnsafeMutableBufferPointer { $0.reverse() }
        var members: [(key: String, value: JSON)] = []
        members.reserveCapacity(elements.count)
        while let (key, value) = elements.popLast() {
            members.append((key, value))
        }
        self.init(members)
    }
}
