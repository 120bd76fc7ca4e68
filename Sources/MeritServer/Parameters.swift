import MeritDomain
import MeritJSON

/// The params readers every method shares: ids, enumerations, dates, id lists and pages. Each error names the field
/// as a user would write it (`items[2].id`) and says what was expected.
extension FieldReader {
    /// The id at `key`, which must be present.
    mutating func id<Entity>(_ key: String, of type: Entity.Type = Entity.self) throws -> ID<Entity> {
        try parseID(try required(key, as: String.self), as: Entity.self, field: path + key)
    }

    /// The id at `key`, or `nil` when it is absent or `null`.
    mutating func optionalID<Entity>(_ key: String, of type: Entity.Type = Entity.self) throws -> ID<Entity>? {
        try optional(key, as: String.self).map { text throws(DomainError) in
            try parseID(text, as: Entity.self, field: path + key)
        }
    }

    /// The list of ids at `key`, which must be present.
    mutating func ids<Entity>(_ key: String, of type: Entity.Type = Entity.self) throws -> [ID<Entity>] {
        try parseIDs(try required(key, as: [String].self), key: key)
    }

    /// The list of ids at `key`, or `nil` when it is absent or `null`.
    mutating func optionalIDs<Entity>(_ key: String, of type: Entity.Type = Entity.self) throws -> [ID<Entity>]? {
        try optional(key, as: [String].self).map { texts in try parseIDs(texts, key: key) }
    }

    private func parseIDs<Entity>(_ texts: [String], key: String) throws(DomainError) -> [ID<Entity>] {
        var ids: [ID<Entity>] = []
        ids.reserveCapacity(texts.count)
        for (offset, text) in texts.enumerated() {
            ids.append(try parseID(text, as: Entity.self, field: "\(path)\(key)[\(offset)]"))
        }
        return ids
    }

    /// The enumeration value at `key`, which must be present.
    mutating func enumeration<Value: FieldEnumeration>(_ key: String, _ type: Value.Type = Value.self) throws
        -> Value
    {
        try parseEnumeration(try required(key, as: String.self), as: Value.self, field: path + key)
    }

    /// The enumeration value at `key`, or `nil` when it is absent or `null`.
    mutating func optionalEnumeration<Value: FieldEnumeration>(_ key: String, _ type: Value.Type = Value.self) throws
        -> Value?
    {
        try optional(key, as: String.self).map { text throws(DomainError) in
            try parseEnumeration(text, as: Value.self, field: path + key)
        }
    }

    /// The `YYYY-MM-DD` date at `key`, which must be present.
    mutating func day(_ key: String) throws -> Day {
        try parseDay(try required(key, as: String.self), field: path + key)
    }

    /// The `YYYY-MM-DD` date at `key`, or `nil` when it is absent or `null`.
    mutating func optionalDay(_ key: String) throws -> Day? {
        try optional(key, as: String.self).map { text throws(DomainError) in try parseDay(text, field: path + key) }
    }
}

/// Parse an id of `type` from a field, or throw a validation error naming the field.
///
/// The field's name is made only for the error (here and below): most params are valid, and building a path for each
/// one cost more than reading it.
func parseID<Entity>(_ text: String, as type: Entity.Type, field: @autoclosure () -> String) throws(DomainError)
    -> ID<Entity>
{
    guard let id = ID<Entity>(text) else {
        throw DomainError.invalid(
            field(), "must be an id of the form \(Entity.idPrefix)_<26 characters>, not '\(text)'")
    }
    return id
}

/// Parse one of an enumeration's names from a field.
func parseEnumeration<Value: FieldEnumeration>(_ text: String, as type: Value.Type, field: @autoclosure () -> String)
    throws(DomainError) -> Value
{
    guard let value = Value(rawValue: text) else {
        throw DomainError.invalid(field(), "must be one of \(Value.names), not '\(text)'")
    }
    return value
}

/// Parse a `YYYY-MM-DD` date from a field.
func parseDay(_ text: String, field: @autoclosure () -> String) throws(DomainError) -> Day {
    guard let day = Day(text) else { throw DomainError.invalid(field(), "must be a date YYYY-MM-DD, not '\(text)'") }
    return day
}

/// `limit` (default 50, at most 100) and `cursor` of a list, and the `{data, next_cursor}` envelope.
///
/// The cursor is the sort key of the last item returned, so a page is stable while items are added.
struct PageRequest {
    var limit: Int
    var after: String?

    init(_ params: inout FieldReader) throws {
        let limit = try params.optional("limit", as: Int.self) ?? 50
        guard (1...100).contains(limit) else { throw DomainError.invalid("limit", "must be between 1 and 100") }
        self.limit = limit
        if let cursor = try params.optional("cursor", as: String.self) {
            guard let decoded = Cursor.decode(cursor) else {
                throw DomainError.invalid("cursor", "is not a cursor this server returned")
            }
            after = decoded
        }
    }

    /// The page of `found`: up to `limit + 1` items in order after the cursor, the last only saying that more
    /// follow.
    func render<Item>(_ found: [Item], key: (Item) -> String, json: (Item) -> JSON) -> JSON {
        let page = found.prefix(limit)
        let next = found.count > limit ? page.last.map { Cursor.encode(key($0)) } : nil
        return ["data": .array(page.map(json)), "next_cursor": JSON(next)]
    }

    /// The page of `rows`, in id order, after the cursor.
    func render<Row: TableRow>(_ rows: [Row]) -> JSON {
        let remaining = after.map { after in rows.drop { $0.id.text <= after } } ?? rows[...]
        return render(Array(remaining.prefix(limit + 1)), key: \.id.text, json: \.json)
    }
}

/// Opaque cursors: the sort key, hex-encoded, so that clients do not build them by hand.
enum Cursor {
    static func encode(_ key: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = Array("c1.".utf8)
        for byte in key.utf8 {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ cursor: String) -> String? {
        guard cursor.hasPrefix("c1."), cursor.utf8.count % 2 == 1 else { return nil }
        var bytes: [UInt8] = []
        var digits = cursor.utf8.dropFirst(3).makeIterator()
        while let high = digits.next(), let low = digits.next() {
            guard let high = hexValue(high), let low = hexValue(low) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
