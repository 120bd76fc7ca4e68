import Foundation
import MeritJSON

/// One way an instance fails its schema: where the failing value is, and what is wrong with it.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// The instance path of the failing value, like `$.methods[3].name`.
    public var path: String
    /// What is wrong, naming what the schema expects.
    public var message: String

    /// A violation of the value at `path`, described by `message`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The path and the message, as `$.a.b: message`.
    public var description: String { "\(path): \(message)" }
}

/// Validates JSON values against a JSON Schema draft-07 document.
///
/// Every draft-07 validation keyword is checked. The limitations, all of which the schemas this project checks
/// (its OpenRPC document and the OpenRPC meta-schema) can live with:
/// - `$ref` resolves only local JSON pointers ("#/definitions/name") in `root`; `$id` sets no new base URI.
/// - The one remote `$ref` understood is the draft-07 meta-schema ("http://json-schema.org/draft-07/schema#"),
///   which is not bundled and is taken to accept any value, so a value it governs (a schema inside an OpenRPC
///   document) is not checked.
/// - `format` is an annotation, except `date` (YYYY-MM-DD) and `date-time` (RFC 3339), which are checked.
/// - Patterns are ICU regular expressions (`NSRegularExpression`), which agree with ECMA 262 on common syntax.
/// - Following more than `maximumReferenceDepth` nested `$ref`s is reported as a violation, so a schema that
///   refers to itself without consuming the instance cannot recurse without end.
public struct JSONSchemaValidator: Sendable {
    /// How many `$ref`s may be followed inside one another before validation stops with a violation.
    public static let maximumReferenceDepth = 64

    private static let metaSchemaReferences: Set<String> = [
        "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft-07/schema#", "https://json-schema.org/draft-07/schema",
    ]

    private let root: JSON
    private let patterns = PatternCache()

    /// A validator for the schema document `root`, against which every `$ref` resolves.
    public init(root: JSON) {
        self.root = root
    }

    /// The ways `instance` fails the subschema at the JSON pointer `pointer` ("#" for the whole document).
    public func validate(_ instance: JSON, against pointer: String = "#") -> [SchemaViolation] {
        guard let schema = resolve(pointer) else {
            return [SchemaViolation(path: "$", message: "the schema document has nothing at \(pointer)")]
        }
        return validate(instance, schema: schema)
    }

    /// The ways `instance` fails `schema`, whose `$ref`s resolve in the root document.
    public func validate(_ instance: JSON, schema: JSON) -> [SchemaViolation] {
        collectedViolations(of: instance, schema, path: "$", depth: 0)
    }

    // MARK: - Keywords for every kind of value

    private func collectedViolations(
        of instance: JSON, _ schema: JSON, path: String, depth: Int
    ) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(instance, schema, path: path, depth: depth, into: &violations)
        return violations
    }

    private func matches(_ instance: JSON, _ schema: JSON, path: String, depth: Int) -> Bool {
        collectedViolations(of: instance, schema, path: path, depth: depth).isEmpty
    }

    private func check(
        _ instance: JSON, _ schema: JSON, path: String, depth: Int, into violations: inout [SchemaViolation]
    ) {
        // What a value means is its tree, however the parser kept it.
        let instance = instance.expanded
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        let keywords: JSONObject
        switch schema {
        case .bool(false): return fail("no value is allowed here")
        case .object(let object): keywords = object
        default: return  // `true`, or something that is not a schema: everything passes.
        }
        // Draft-07 ignores every keyword beside `$ref`.
        if case .string(let reference) = keywords["$ref"] {
            if Self.metaSchemaReferences.contains(reference) { return }
            guard depth < Self.maximumReferenceDepth else {
                let limit = Self.maximumReferenceDepth
                return fail("more than \(limit) nested $refs at \"\(reference)\"; does the schema refer to itself?")
            }
            guard let target = resolve(reference) else {
                return fail("cannot resolve $ref \"\(reference)\"; only local pointers like \"#/definitions/x\" work")
            }
            return check(instance, target, path: path, depth: depth + 1, into: &violations)
        }
        if let type = keywords["type"] {
            let names = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !names.isEmpty && !names.contains(where: { Self.value(instance, hasType: $0) }) {
                fail("expected \(names.joined(separator: " or ")), found \(instance.kindName)")
            }
        }
        if case .array(let options) = keywords["enum"], !options.contains(instance) {
            fail("\(instance.jsonText) is not one of \(JSON.array(options).jsonText)")
        }
        if let constant = keywords["const"], constant != instance {
            fail("\(instance.jsonText) is not \(constant.jsonText)")
        }
        if case .array(let schemas) = keywords["allOf"] {
            for subschema in schemas { check(instance, subschema, path: path, depth: depth, into: &violations) }
        }
        if case .array(let schemas) = keywords["anyOf"] {
            let results = schemas.map { collectedViolations(of: instance, $0, path: path, depth: depth) }
            if !results.contains(where: \.isEmpty) {
                fail("matches none of the \(schemas.count) schemas in anyOf\(Self.closest(results))")
            }
        }
        if case .array(let schemas) = keywords["oneOf"] {
            let results = schemas.map { collectedViolations(of: instance, $0, path: path, depth: depth) }
            let matching = results.indices.filter { results[$0].isEmpty }
            if matching.isEmpty {
                fail("matches none of the \(schemas.count) schemas in oneOf\(Self.closest(results))")
            } else if matching.count > 1 {
                let positions = matching.map(String.init).joined(separator: ", ")
                fail("matches the schemas at \(positions) in oneOf, but must match exactly one")
            }
        }
        if let negated = keywords["not"], matches(instance, negated, path: path, depth: depth) {
            fail("matches the schema in \"not\"")
        }
        if let condition = keywords["if"] {
            let branch = matches(instance, condition, path: path, depth: depth) ? keywords["then"] : keywords["else"]
            if let branch { check(instance, branch, path: path, depth: depth, into: &violations) }
        }
        switch instance {
        case .object(let object): checkObject(object, keywords, path: path, depth: depth, into: &violations)
        case .array(let elements): checkArray(elements, keywords, path: path, depth: depth, into: &violations)
        case .string(let text): checkString(text, keywords, path: path, into: &violations)
        case .int, .double: checkNumber(instance, keywords, path: path, into: &violations)
        case .null, .bool, .compact: break
        }
    }

    // MARK: - Objects

    private func checkObject(
        _ object: JSONObject, _ keywords: JSONObject, path: String, depth: Int,
        into violations: inout [SchemaViolation]
    ) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        let properties = keywords["properties"]?.objectValue ?? JSONObject()
        let patternSchemas = keywords["patternProperties"]?.objectValue ?? JSONObject()
        for pattern in patternSchemas.keys where patterns.expression(pattern) == nil {
            fail("the schema's patternProperties key \"\(pattern)\" is not a valid regular expression")
        }
        for (key, value) in object {
            let memberPath = Self.path(path, key: key)
            var matched = false
            if let propertySchema = properties[key] {
                matched = true
                check(value, propertySchema, path: memberPath, depth: depth, into: &violations)
            }
            for (pattern, patternSchema) in patternSchemas where patterns.expression(pattern)?.matches(key) == true {
                matched = true
                check(value, patternSchema, path: memberPath, depth: depth, into: &violations)
            }
            if !matched, let additional = keywords["additionalProperties"] {
                if case .bool(false) = additional {
                    let allowed = properties.keys.map { "\"\($0)\"" }.joined(separator: ", ")
                    var message = "property \"\(key)\" is not allowed"
                    if !allowed.isEmpty { message += " (allowed: \(allowed))" }
                    violations.append(SchemaViolation(path: memberPath, message: message))
                } else {
                    check(value, additional, path: memberPath, depth: depth, into: &violations)
                }
            }
            if let names = keywords["propertyNames"] {
                check(.string(key), names, path: memberPath, depth: depth, into: &violations)
            }
        }
        if case .array(let required) = keywords["required"] {
            for case .string(let name) in required where object[name] == nil {
                fail("missing required property \"\(name)\"")
            }
        }
        let count = Set(object.keys).count
        if let minimum = keywords["minProperties"]?.intValue, count < minimum {
            fail("has \(count) properties, fewer than the minimum \(minimum)")
        }
        if let maximum = keywords["maxProperties"]?.intValue, count > maximum {
            fail("has \(count) properties, more than the maximum \(maximum)")
        }
        for (key, dependency) in keywords["dependencies"]?.objectValue ?? JSONObject() where object[key] != nil {
            if case .array(let names) = dependency {
                for case .string(let name) in names where object[name] == nil {
                    fail("missing property \"\(name)\", which \"\(key)\" requires")
                }
            } else {
                check(.object(object), dependency, path: path, depth: depth, into: &violations)
            }
        }
    }

    // MARK: - Arrays

    private func checkArray(
        _ elements: [JSON], _ keywords: JSONObject, path: String, depth: Int,
        into violations: inout [SchemaViolation]
    ) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        for (index, element) in elements.enumerated() {
            let elementPath = "\(path)[\(index)]"
            switch keywords["items"] {
            case .array(let itemSchemas):
                if index < itemSchemas.count {
                    check(element, itemSchemas[index], path: elementPath, depth: depth, into: &violations)
                } else if case .bool(false) = keywords["additionalItems"] {
                    let message = "the array allows at most \(itemSchemas.count) items"
                    violations.append(SchemaViolation(path: elementPath, message: message))
                } else if let additional = keywords["additionalItems"] {
                    check(element, additional, path: elementPath, depth: depth, into: &violations)
                }
            case .some(let itemSchema):
                check(element, itemSchema, path: elementPath, depth: depth, into: &violations)
            case nil:
                break
            }
        }
        if let minimum = keywords["minItems"]?.intValue, elements.count < minimum {
            fail("has \(elements.count) items, fewer than the minimum \(minimum)")
        }
        if let maximum = keywords["maxItems"]?.intValue, elements.count > maximum {
            fail("has \(elements.count) items, more than the maximum \(maximum)")
        }
        if case .bool(true) = keywords["uniqueItems"] {
            duplicates: for later in elements.indices {
                for earlier in 0..<later where elements[earlier] == elements[later] {
                    fail("items \(earlier) and \(later) are equal, but the items must be unique")
                    break duplicates
                }
            }
        }
        if let contained = keywords["contains"],
            !elements.indices.contains(where: {
                matches(elements[$0], contained, path: "\(path)[\($0)]", depth: depth)
            })
        {
            fail("no item matches the schema in \"contains\"")
        }
    }

    // MARK: - Strings and numbers

    private func checkString(
        _ text: String, _ keywords: JSONObject, path: String, into violations: inout [SchemaViolation]
    ) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        let length = text.unicodeScalars.count
        if let minimum = keywords["minLength"]?.intValue, length < minimum {
            fail("\"\(text)\" has \(length) characters, fewer than the minimum \(minimum)")
        }
        if let maximum = keywords["maxLength"]?.intValue, length > maximum {
            fail("\"\(text)\" has \(length) characters, more than the maximum \(maximum)")
        }
        if let pattern = keywords["pattern"]?.stringValue {
            switch patterns.expression(pattern)?.matches(text) {
            case false?: fail("\"\(text)\" does not match the pattern \(pattern)")
            case nil: fail("the schema's pattern \"\(pattern)\" is not a valid regular expression")
            case true?: break
            }
        }
        switch keywords["format"]?.stringValue {
        case "date" where !Self.isDate(Array(text.utf8)[...]):
            fail("\"\(text)\" is not a date in the form YYYY-MM-DD")
        case "date-time" where !Self.isDateTime(Array(text.utf8)):
            fail("\"\(text)\" is not an RFC 3339 date-time like 2026-04-01T09:12:00.000Z")
        default: break
        }
    }

    private func checkNumber(
        _ number: JSON, _ keywords: JSONObject, path: String, into violations: inout [SchemaViolation]
    ) {
        func fail(_ message: String) { violations.append(SchemaViolation(path: path, message: message)) }
        func order(_ keyword: String) -> (limit: String, order: ComparisonResult)? {
            guard let limit = keywords[keyword], let order = Self.compare(number, limit) else { return nil }
            return (limit.jsonText, order)
        }
        let text = number.jsonText
        if let (limit, order) = order("minimum"), order == .orderedAscending {
            fail("\(text) is less than the minimum \(limit)")
        }
        if let (limit, order) = order("maximum"), order == .orderedDescending {
            fail("\(text) is more than the maximum \(limit)")
        }
        if let (limit, order) = order("exclusiveMinimum"), order != .orderedDescending {
            fail("\(text) is not more than the exclusive minimum \(limit)")
        }
        if let (limit, order) = order("exclusiveMaximum"), order != .orderedAscending {
            fail("\(text) is not less than the exclusive maximum \(limit)")
        }
        if let divisor = keywords["multipleOf"], !Self.isMultiple(number, of: divisor) {
            fail("\(text) is not a multiple of \(divisor.jsonText)")
        }
    }

    // MARK: - Helpers

    /// The value at the local JSON pointer `reference` ("#", "#/definitions/a~1b"), or `nil`.
    private func resolve(_ reference: String) -> JSON? {
        guard reference.hasPrefix("#") else { return nil }
        let pointer = reference.dropFirst()
        guard !pointer.isEmpty else { return root }
        guard pointer.hasPrefix("/") else { return nil }
        var current = root
        for encoded in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = (String(encoded).removingPercentEncoding ?? String(encoded))
                .replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let member = current[token] {
                current = member
            } else if let index = Int(token), let element = current[index] {
                current = element
            } else {
                return nil
            }
        }
        return current
    }

    private static func value(_ instance: JSON, hasType name: String) -> Bool {
        switch (name, instance) {
        case ("null", .null), ("boolean", .bool), ("object", .object), ("array", .array), ("string", .string),
            ("number", .int), ("number", .double), ("integer", .int):
            return true
        case ("integer", .double(let value)): return value.isFinite && value.rounded() == value
        default: return false
        }
    }

    /// The first violation of the branch that came closest to matching, as a hint for anyOf and oneOf.
    private static func closest(_ results: [[SchemaViolation]]) -> String {
        guard let best = results.indices.min(by: { results[$0].count < results[$1].count }),
            let first = results[best].first
        else { return "" }
        return "; schema \(best) comes closest, failing with \(first)"
    }

    private static func path(_ parent: String, key: String) -> String {
        let isIdentifier =
            key.first.map { $0 == "_" || $0.isLetter } == true
            && key.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
        return isIdentifier ? "\(parent).\(key)" : "\(parent)[\(JSON.string(key).jsonText)]"
    }

    private static func compare(_ lhs: JSON, _ rhs: JSON) -> ComparisonResult? {
        if case .int(let left) = lhs, case .int(let right) = rhs {
            return left < right ? .orderedAscending : left > right ? .orderedDescending : .orderedSame
        }
        guard let left = lhs.doubleValue, let right = rhs.doubleValue else { return nil }
        return left < right ? .orderedAscending : left > right ? .orderedDescending : .orderedSame
    }

    /// Exact for integers; for doubles the quotient must be integral, as the reference Python validator decides.
    private static func isMultiple(_ number: JSON, of divisor: JSON) -> Bool {
        if case .int(let value) = number, case .int(let step) = divisor, step > 0 { return value % step == 0 }
        guard let value = number.doubleValue, let step = divisor.doubleValue, step > 0 else { return true }
        let quotient = value / step
        return !quotient.isFinite || quotient.rounded() == quotient
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func isDate(_ text: ArraySlice<UInt8>) -> Bool {
        let start = text.startIndex
        guard text.count == 10, text[start + 4] == UInt8(ascii: "-"), text[start + 7] == UInt8(ascii: "-"),
            let year = number(text[start..<start + 4]), let month = number(text[start + 5..<start + 7]),
            let day = number(text[start + 8..<start + 10]), (1...12).contains(month)
        else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...days[month - 1]).contains(day)
    }

    private static func isDateTime(_ text: [UInt8]) -> Bool {
        func byte(_ index: Int, is characters: String) -> Bool {
            index < text.count && characters.utf8.contains(text[index])
        }
        guard text.count >= 20, isDate(text[0..<10]), byte(10, is: "Tt"), byte(13, is: ":"), byte(16, is: ":"),
            let hour = number(text[11..<13]), let minute = number(text[14..<16]), let second = number(text[17..<19]),
            hour < 24, minute < 60, second <= 60
        else { return false }
        var index = 19
        if byte(index, is: ".") {
            index += 1
            let digitsStart = index
            while byte(index, is: "0123456789") { index += 1 }
            guard index > digitsStart else { return false }
        }
        if byte(index, is: "Zz") { return index + 1 == text.count }
        guard byte(index, is: "+-"), text.count == index + 6, byte(index + 3, is: ":"),
            let offsetHour = number(text[index + 1..<index + 3]), let offsetMinute = number(text[index + 4..<index + 6])
        else { return false }
        return offsetHour < 24 && offsetMinute < 60
    }
}

/// Compiled regular expressions by pattern, shared by copies of a validator.
///
/// `@unchecked Sendable`: the dictionary is only read or written while holding `lock`, and
/// `NSRegularExpression` is immutable and documented as safe to use from several threads.
private final class PatternCache: @unchecked Sendable {
    private let lock = NSLock()
    private var expressions: [String: NSRegularExpression?] = [:]

    /// The compiled `pattern`, or `nil` when it is not a valid regular expression.
    func expression(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = expressions[pattern] { return cached }
        let compiled = try? NSRegularExpression(pattern: pattern)
        expressions[pattern] = compiled
        return compiled
    }
}

extension NSRegularExpression {
    /// Whether the pattern matches anywhere in `text`; JSON Schema patterns are not anchored.
    fileprivate func matches(_ text: String) -> Bool {
        firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
