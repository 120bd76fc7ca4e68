// The JSON parser and writer as they were before they were optimised, kept as oracles for the equivalence tests.
// Do not optimise this file: its value is that it is the old, simple code.

import MeritJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `JSONParser` as it was before the optimisations, unchanged but for its name: the oracle the new parser must
/// agree with, value for value and error for error.
///
/// A strict RFC 8259 parser working directly on UTF-8 bytes.
///
/// It accepts exactly the JSON grammar: no comments, no trailing commas, no leading zeros, no bare control
/// characters in strings, no invalid UTF-8 and no unpaired surrogate escapes. Nesting is capped so that hostile
/// input cannot exhaust the stack.
struct ReferenceParser: ~Copyable {
    /// The nesting depth a document may reach before it is rejected.
    static let defaultMaximumDepth = 512

    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var index: Int = 0
    private let maximumDepth: Int
    private var depth: Int = 0
    private var scratch: [UInt8] = []

    private init(base: UnsafePointer<UInt8>, count: Int, maximumDepth: Int) {
        self.base = base
        self.end = count
        self.maximumDepth = maximumDepth
    }

    /// Parse one JSON text that spans all of `bytes` (surrounding whitespace allowed).
    static func parse(
        _ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSON {
        guard let start = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(offset: 0, reason: "empty input")
        }
        var parser = ReferenceParser(
            base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count, maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index != parser.end {
            throw parser.failure("unexpected data after the JSON value")
        }
        return value
    }

    /// Parse one JSON text from an array of bytes.
    static func parse(_ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth) throws(JSONParseError)
        -> JSON
    {
        let result: Result<JSON, JSONParseError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONParseError) {
                return .success(try parse(buffer, maximumDepth: maximumDepth))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parse one JSON text from a string.
    static func parse(_ text: String, maximumDepth: Int = defaultMaximumDepth) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }

    // MARK: - Grammar

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    private func unexpected() -> JSONParseError {
        guard index < end else { return failure("unexpected end of input") }
        let byte = base[index]
        if byte >= 0x20 && byte < 0x7F {
            return failure("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
        return failure("unexpected byte 0x\(String(byte, radix: 16, uppercase: true))")
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < end {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSON {
        guard index < end else { throw failure("unexpected end of input") }
        switch base[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpected()
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { throw failure("invalid literal") }
        let bytes = literal.utf8Start
        for offset in 0..<count where base[index + offset] != bytes[offset] {
            index += offset
            throw failure("invalid literal")
        }
        index += count
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > maximumDepth {
            throw failure("nesting deeper than \(maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSON {
        try enterContainer()
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        // Most objects have a handful of members: one allocation instead of growing 1 → 2 → 4.
        object.reserveCapacity(4)
        while true {
            guard index < end, base[index] == UInt8(ascii: "\"") else {
                throw index < end ? failure("expected a string key") : failure("unexpected end of input")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: ":") else {
                throw index < end ? failure("expected ':' after an object key") : failure("unexpected end of input")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            object.append(key, value)
            skipWhitespace()
            guard index < end else { throw failure("unexpected end of input") }
            switch base[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(object)
            default:
                throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSON {
        try enterContainer()
        index += 1
        var array: [JSON] = []
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(array)
        }
        while true {
            array.append(try parseValue())
            skipWhitespace()
            guard index < end else { throw failure("unexpected end of input") }
            switch base[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(array)
            default:
                throw failure("expected ',' or ']' in an array")
            }
        }
    }

    // MARK: - Strings

    /// Parse a string whose opening quote is at `index`.
    ///
    /// The fast path covers strings without escapes: validate in place and build the `String` straight from the
    /// input bytes. Escapes switch to a scratch buffer.
    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(start: base + start, count: index - start)
                index += 1
                return Self.internedString(bytes) ?? String(decoding: bytes, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            if byte < 0x80 {
                index += 1
            } else {
                try skipMultibyteScalar()
            }
        }
        guard index < end else { throw failure("unterminated string") }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
        while index < end {
            let byte = base[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw failure("unescaped control character in a string")
            case 0..<0x80:
                scratch.append(byte)
                index += 1
            default:
                let scalarStart = index
                try skipMultibyteScalar()
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + scalarStart, count: index - scalarStart))
            }
        }
        throw failure("unterminated string")
    }

    /// The strings every JSON-RPC message repeats: comparing a few bytes is cheaper than building and
    /// validating a new `String` for each.
    @inline(__always)
    private static func internedString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        switch bytes.count {
        case 2: return matches(bytes, "id") ? "id" : nil
        case 3: return matches(bytes, "2.0") ? "2.0" : nil
        case 5: return matches(bytes, "_meta") ? "_meta" : matches(bytes, "error") ? "error" : nil
        case 6:
            if matches(bytes, "method") { return "method" }
            if matches(bytes, "params") { return "params" }
            return matches(bytes, "result") ? "result" : nil
        case 7: return matches(bytes, "jsonrpc") ? "jsonrpc" : nil
        default: return nil
        }
    }

    @inline(__always)
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0
    }

    private mutating func parseEscape() throws(JSONParseError) {
        index += 1
        guard index < end else { throw failure("unterminated string") }
        let byte = base[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard end - index >= 6, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired surrogate in a \\u escape")
                }
                index += 2
                let low = try parseHex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw failure("unpaired surrogate in a \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw failure("unpaired surrogate in a \\u escape")
            }
            appendUTF8(scalar)
        default:
            index -= 1
            throw failure("invalid escape sequence")
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard end - index >= 4 else { throw failure("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = base[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Step over one multi-byte UTF-8 scalar at `index`, rejecting overlong forms, surrogates and values above
    /// U+10FFFF (RFC 3629 table 3-7).
    private mutating func skipMultibyteScalar() throws(JSONParseError) {
        let lead = base[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw failure("invalid UTF-8")
        }
        guard end - index >= length else { throw failure("invalid UTF-8") }
        let second = base[index + 1]
        guard second >= lower && second <= upper else { throw failure("invalid UTF-8") }
        for offset in 2..<max(length, 2) where base[index + offset] & 0xC0 != 0x80 {
            throw failure("invalid UTF-8")
        }
        index += length
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = index
        var negative = false
        if base[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < end else { throw failure("incomplete number") }
        let digitsStart = index
        if base[index] == UInt8(ascii: "0") {
            index += 1
            if index < end && isDigit(base[index]) { throw failure("leading zero in a number") }
        } else if isDigit(base[index]) {
            while index < end && isDigit(base[index]) { index += 1 }
        } else {
            throw failure("invalid number")
        }
        let digitsEnd = index
        var isInteger = true
        if index < end && base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < end && isDigit(base[index]) else { throw failure("a digit must follow the decimal point") }
            while index < end && isDigit(base[index]) { index += 1 }
        }
        if index < end && (base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < end && (base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < end && isDigit(base[index]) else { throw failure("a digit must follow the exponent") }
            while index < end && isDigit(base[index]) { index += 1 }
        }
        if isInteger && digitsEnd - digitsStart <= 19 {
            // Accumulate negatively so that Int64.min parses without overflow.
            var value: Int64 = 0
            var overflow = false
            for position in digitsStart..<digitsEnd {
                let digit = Int64(base[position] &- UInt8(ascii: "0"))
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times10.subtractingReportingOverflow(digit)
                if overflow1 || overflow2 {
                    overflow = true
                    break
                }
                value = next
            }
            if !overflow {
                if !negative {
                    if value != Int64.min { return .int(-value) }
                } else {
                    return .int(value)
                }
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            index = start
            throw failure("number out of range")
        }
        return .double(value)
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}

/// `JSONWriter` as it was before the optimisations, unchanged but for its name: the oracle the new writer must
/// agree with, byte for byte.
///
/// Writes JSON values as compact UTF-8 text.
///
/// Output never contains a raw line break: control characters and U+2028/U+2029 are escaped, so one value is
/// always one line, as line-framed JSON-RPC needs. Non-finite doubles, which JSON cannot express, are written
/// as `null`.
struct ReferenceWriter {
    /// The bytes written so far.
    var bytes: [UInt8]

    /// A writer with an empty buffer of the given capacity.
    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Append `value`.
    mutating func write(_ value: JSON) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let flag): writeRaw(flag ? "true" : "false")
        case .int(let number): write(number)
        case .double(let number): write(number)
        case .string(let string): write(string)
        case .array(let array):
            bytes.append(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object.members {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(key)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        case .compact:
            // The reference knows only trees: it writes the one the compact value stands for.
            write(value.expanded)
        }
    }

    /// Append text that is already JSON (a literal or punctuation).
    mutating func writeRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Append bytes that are already one JSON value.
    mutating func writeRaw(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    /// Append an integer.
    mutating func write(_ number: Int64) {
        if number >= 0 && number < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(number))
            return
        }
        // Digits are produced backwards into a fixed buffer; 20 bytes hold Int64.min.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var magnitude = number.magnitude
            var position = 20
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if number < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<20]))
        }
    }

    /// Append a double in its shortest round-trip form, or `null` when it is not finite.
    mutating func write(_ number: Double) {
        guard number.isFinite else {
            writeRaw("null")
            return
        }
        bytes.append(contentsOf: number.description.utf8)
    }

    /// Append a quoted, escaped string.
    mutating func write(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
                let byte = utf8[index]
                // One table lookup decides whether a byte may need escaping: the common case is one load and one
                // branch per byte.
                if Self.mayNeedEscape[Int(byte)] == 0 {
                    index += 1
                    continue
                }
                if byte == 0xE2 {
                    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9: legal in JSON, but line breaks to JavaScript
                    // and to some line readers.
                    guard index + 2 < count, utf8[index + 1] == 0x80, utf8[index + 2] & 0xFE == 0xA8 else {
                        index += 1
                        continue
                    }
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                switch byte {
                case UInt8(ascii: "\""): writeRaw("\\\"")
                case UInt8(ascii: "\\"): writeRaw("\\\\")
                case 0x0A: writeRaw("\\n")
                case 0x0D: writeRaw("\\r")
                case 0x09: writeRaw("\\t")
                case 0x08: writeRaw("\\b")
                case 0x0C: writeRaw("\\f")
                case 0xE2:
                    writeRaw(utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                    index += 2
                default:
                    writeRaw("\\u00")
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                }
                index += 1
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// 1 for the bytes that may need escaping: control characters, the quote, the backslash, and 0xE2 (which
    /// starts U+2028 and U+2029).
    private static let mayNeedEscape: [UInt8] = (0...255).map { byte in
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2 ? 1 : 0
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
