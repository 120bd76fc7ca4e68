#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a byte sequence is not JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset at which the problem was found.
    public var offset: Int
    /// What is wrong, as a short phrase ("unexpected character 'x'").
    public var reason: String

    /// A parse error at `offset`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// A description naming the reason and the offset.
    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 parser working directly on UTF-8 bytes.
///
/// It accepts exactly the JSON grammar: no comments, no trailing commas, no leading zeros, no bare control
/// characters in strings, no invalid UTF-8 and no unpaired surrogate escapes. Nesting is capped so that hostile
/// input cannot exhaust the stack.
public struct JSONParser: ~Copyable {
    /// The nesting depth a document may reach before it is rejected.
    public static let defaultMaximumDepth = 512

    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var index: Int = 0
    private let maximumDepth: Int
    private var depth: Int = 0
    private var scratch: [UInt8] = []
    /// For pulling: whether the container just opened has yet to give its first member or element.
    private var atContainerStart = false
    /// The members of the objects being parsed, innermost last; each object moves its own into an array of
    /// exactly the right size when it closes.
    private var members: ValueStack<(key: String, value: JSON)>
    /// The elements of the arrays being parsed, in the same way.
    private var elements: ValueStack<JSON>
    /// The names of the members whose objects and arrays are kept as compact JSON (`JSON.compact`).
    private let compactMembers: [String]

    private init(
        base: UnsafePointer<UInt8>, count: Int, maximumDepth: Int, compactMembers: [String] = [],
        members: consuming ValueStack<(key: String, value: JSON)>, elements: consuming ValueStack<JSON>
    ) {
        self.base = base
        self.end = count
        self.maximumDepth = maximumDepth
        self.compactMembers = compactMembers
        self.members = members
        self.elements = elements
    }

    /// Parse one JSON text that spans all of `bytes` (surrounding whitespace allowed).
    ///
    /// The object or array of a member named in `compactMembers`, at any depth, is kept as its compact JSON
    /// (`JSON.compact`) when it can be copied as `JSONWriter` would write its tree (`compactValue()`), and is parsed
    /// into a tree otherwise: either way what it means, and what is wrong with it, is the same.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth, compactMembers: [String] = []
    ) throws(JSONParseError) -> JSON {
        guard let start = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(offset: 0, reason: "empty input")
        }
        // The member and element stacks start on the machine stack, which spares most documents two
        // allocations; 16 members (640 bytes) and 16 elements (384 bytes) stay within what
        // `withUnsafeTemporaryAllocation` places there without asking how much stack is left.
        return try withUnsafeTemporaryAllocation(of: (key: String, value: JSON).self, capacity: 16) {
            members throws(JSONParseError) in
            try withUnsafeTemporaryAllocation(of: JSON.self, capacity: 16) { elements throws(JSONParseError) in
                var parser = JSONParser(
                    base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count, maximumDepth: maximumDepth,
                    compactMembers: compactMembers, members: ValueStack(startingIn: members),
                    elements: ValueStack(startingIn: elements))
                parser.skipWhitespace()
                let value = try parser.parseValue()
                parser.skipWhitespace()
                if parser.index != parser.end {
                    throw parser.failure("unexpected data after the JSON value")
                }
                return value
            }
        }
    }

    /// Parse one JSON text from an array of bytes.
    public static func parse(_ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth) throws(JSONParseError)
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
    public static func parse(_ text: String, maximumDepth: Int = defaultMaximumDepth) throws(JSONParseError) -> JSON {
        // Native strings lend their UTF-8 in place; others are copied.
        let parsed: Result<JSON, JSONParseError>? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            Result { () throws(JSONParseError) in try parse(UnsafeRawBufferPointer(utf8), maximumDepth: maximumDepth) }
        }
        if let parsed { return try parsed.get() }
        return try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }

    // MARK: - Grammar

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    /// The error for a value that cannot start at `index`.
    ///
    /// It takes what it needs rather than the parser: a method of the parser would be passed a copy of it, which
    /// would take room in the frame of every `parseValue` and so in the stack that nesting needs.
    @inline(never)
    private static func unexpected(_ base: UnsafePointer<UInt8>, at index: Int, end: Int) -> JSONParseError {
        guard index < end else { return JSONParseError(offset: index, reason: "unexpected end of input") }
        let byte = base[index]
        if byte >= 0x20 && byte < 0x7F {
            return JSONParseError(offset: index, reason: "unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
        return JSONParseError(offset: index, reason: "unexpected byte 0x\(String(byte, radix: 16, uppercase: true))")
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
        default: throw Self.unexpected(base, at: index, end: end)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { throw failure("invalid literal") }
        let bytes = literal.utf8Start
        // Every literal is four or five bytes: compare the first four at once.
        if UnsafeRawPointer(base + index).loadUnaligned(as: UInt32.self)
            == UnsafeRawPointer(bytes).loadUnaligned(as: UInt32.self)
            && (count == 4 || base[index + 4] == bytes[4])
        {
            index += count
            return
        }
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
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject())
        }
        let first = members.count
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
            var value: JSON
            if !compactMembers.isEmpty, compactMembers.contains(where: { key.isSameMemberName(as: $0) }),
                let compact = compactValue()
            {
                value = .compact(compact)
            } else {
                value = try parseValue()
            }
            members.push((key, value))
            skipWhitespace()
            guard index < end else { throw failure("unexpected end of input") }
            switch base[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(JSONObject(members.popArray(from: first)))
            default:
                throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSON {
        try enterContainer()
        index += 1
        skipWhitespace()
        if index < end && base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array([])
        }
        let first = elements.count
        while true {
            let element = try parseValue()
            elements.push(element)
            skipWhitespace()
            guard index < end else { throw failure("unexpected end of input") }
            switch base[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements.popArray(from: first))
            default:
                throw failure("expected ',' or ']' in an array")
            }
        }
    }

    // MARK: - Compact values

    /// The object or array at `index` as its compact JSON, leaving `index` after it; or `nil`, with `index` where it
    /// was, when it is anything else or cannot be copied as `JSONWriter` writes its tree.
    ///
    /// It is checked as strictly as `parseValue` checks it, then copied without its whitespace (in one piece when it
    /// has none). It is not copied, and the caller parses a tree instead (which also finds what is wrong), when the
    /// writer would write it otherwise: a string with an escape other than `\"`, `\\`, `\b`, `\f`, `\n`, `\r` and
    /// `\t` (such as `\u00e9` or `\/`), or with U+2028 or U+2029 unescaped; a number other than an integer of at
    /// most 18 digits, or `-0`; and when an object repeats a member (which the tree names), it nests more than 64
    /// deep or its open objects hold more than 128 members (limits of the scan), or it is not JSON.
    private mutating func compactValue() -> CompactJSON? {
        guard index < end, base[index] == UInt8(ascii: "{") || base[index] == UInt8(ascii: "[") else { return nil }
        let start = index
        let startDepth = depth
        var spaced = false
        guard scanCompact(spaced: &spaced) else {
            index = start
            depth = startDepth
            return nil
        }
        let value = UnsafeBufferPointer(start: base + start, count: index - start)
        guard spaced else { return CompactJSON(checked: Array(value)) }
        // Drop the whitespace between tokens: outside strings, which the scan found well formed.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.count)
        var inString = false
        var position = 0
        while position < value.count {
            let byte = value[position]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    bytes.append(byte)
                    position += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                bytes.append(value[position])
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                bytes.append(byte)
            } else if byte != 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 {
                bytes.append(byte)
            }
            position += 1
        }
        return CompactJSON(checked: bytes)
    }

    /// Step over the value at `index` if it can be kept as compact JSON (see `compactValue()`); `spaced` is set when
    /// whitespace was stepped over.
    ///
    /// One loop over the value's tokens rather than a call per value, which cost three times as much: the open
    /// containers are bits of a word (so at most 64 of them), and the member names of the open objects, to find a
    /// repeated one, lie in memory on the stack (at most 128 at a time). Anything deeper or wider is left to the tree.
    private mutating func scanCompact(spaced: inout Bool) -> Bool {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64 + 2 * 128) { scratch in
            scanCompact(spaced: &spaced, scratch: scratch.baseAddress!)
        }
    }

    private mutating func scanCompact(spaced: inout Bool, scratch: UnsafeMutablePointer<Int>) -> Bool {
        // Where the names of each open object start among the names; the names' offsets and lengths.
        let firstName = scratch
        let nameStart = scratch + 64
        let nameLength = scratch + 64 + 128
        var names = 0
        // The open containers, innermost last: bit `level - 1` is set when it is an object.
        var objects: UInt64 = 0
        var level = 0

        // Read the name of a member of the innermost object (refusing one it already has), and its colon.
        func member(_ parser: inout JSONParser, _ spaced: inout Bool) -> Bool {
            guard parser.index < parser.end, parser.base[parser.index] == UInt8(ascii: "\"") else { return false }
            let start = parser.index
            guard parser.scanCompactString() else { return false }
            let length = parser.index - start
            var earlier = firstName[level - 1]
            while earlier < names {
                if nameLength[earlier] == length
                    && Self.sameBytes(parser.base + nameStart[earlier], parser.base + start, length)
                {
                    return false
                }
                earlier += 1
            }
            guard names < 128 else { return false }
            nameStart[names] = start
            nameLength[names] = length
            names += 1
            parser.skipCompactWhitespace(spaced: &spaced)
            guard parser.index < parser.end, parser.base[parser.index] == UInt8(ascii: ":") else { return false }
            parser.index += 1
            parser.skipCompactWhitespace(spaced: &spaced)
            return true
        }

        while true {
            // A value starts at `index`.
            guard index < end else { return false }
            switch base[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = base[index] == UInt8(ascii: "{")
                depth += 1
                guard depth <= maximumDepth, level < 64 else { return false }
                if isObject {
                    objects |= 1 << UInt64(level)
                    firstName[level] = names
                } else {
                    objects &= ~(1 << UInt64(level))
                }
                level += 1
                index += 1
                skipCompactWhitespace(spaced: &spaced)
                guard index < end else { return false }
                if base[index] != (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    if isObject { guard member(&self, &spaced) else { return false } }
                    continue
                }
                // Empty: closed below.
                index += 1
                level -= 1
                depth -= 1
                if isObject { names = firstName[level] }
            case UInt8(ascii: "\""):
                guard scanCompactString() else { return false }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard scanCompactInteger() else { return false }
            case UInt8(ascii: "t"):
                guard (try? expectLiteral("true")) != nil else { return false }
            case UInt8(ascii: "f"):
                guard (try? expectLiteral("false")) != nil else { return false }
            case UInt8(ascii: "n"):
                guard (try? expectLiteral("null")) != nil else { return false }
            default:
                return false
            }
            // After a value: close the containers it ends, until another member or element follows.
            while true {
                guard level > 0 else { return true }
                skipCompactWhitespace(spaced: &spaced)
                guard index < end else { return false }
                let isObject = objects & (1 << UInt64(level - 1)) != 0
                if base[index] == UInt8(ascii: ",") {
                    index += 1
                    skipCompactWhitespace(spaced: &spaced)
                    if isObject { guard member(&self, &spaced) else { return false } }
                    break
                }
                guard base[index] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return false }
                index += 1
                level -= 1
                depth -= 1
                if isObject { names = firstName[level] }
            }
        }
    }

    @inline(__always)
    private mutating func skipCompactWhitespace(spaced: inout Bool) {
        // Machine-written JSON has none: one comparison says so (every whitespace byte is below 0x21).
        guard index < end, base[index] < 0x21 else { return }
        let before = index
        skipWhitespace()
        if index != before { spaced = true }
    }

    @inline(__always)
    private static func sameBytes(_ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for offset in 0..<count where left[offset] != right[offset] { return false }
        return true
    }

    /// Step over the string at `index`, if the writer writes it as it is written.
    private mutating func scanCompactString() -> Bool {
        index += 1
        while true {
            skipPlainASCII()
            guard index < end else { return false }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return true
            }
            if byte == UInt8(ascii: "\\") {
                guard end - index >= 2 else { return false }
                switch base[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                default:
                    return false
                }
                continue
            }
            if byte < 0x20 { return false }
            // U+2028 and U+2029 (E2 80 A8, E2 80 A9), which the writer escapes.
            if byte == 0xE2 && end - index >= 3 && base[index + 1] == 0x80 && base[index + 2] & 0xFE == 0xA8 {
                return false
            }
            guard (try? skipMultibyteScalar()) != nil else { return false }
        }
    }

    /// Step over the number at `index`, if it is an integer the writer writes as it is written.
    private mutating func scanCompactInteger() -> Bool {
        let start = index
        if base[index] == UInt8(ascii: "-") { index += 1 }
        let digits = index
        while index < end && isDigit(base[index]) { index += 1 }
        let count = index - digits
        guard count > 0, count <= 18, base[digits] != UInt8(ascii: "0") || (count == 1 && digits == start) else {
            return false
        }
        guard index < end else { return true }
        switch base[index] {
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return false
        default: return true
        }
    }

    // MARK: - Strings

    /// Parse a string whose opening quote is at `index`.
    ///
    /// The fast path covers strings without escapes: validate in place and build the `String` straight from the
    /// input bytes. Escapes switch to a scratch buffer.
    private mutating func parseString() throws(JSONParseError) -> String {
        let scanned = try scanString()
        if scanned.escaped { return String(decoding: scratch, as: UTF8.self) }
        let bytes = UnsafeBufferPointer(start: base + scanned.start, count: scanned.count)
        return Self.internedString(bytes) ?? Self.makeString(validated: bytes)
    }

    /// Scan a string whose opening quote is at `index`, leaving `index` after its closing quote.
    ///
    /// Without escapes (the fast path) its validated UTF-8 is `count` bytes of the input from `start`; with
    /// escapes it is decoded into `scratch`, and `escaped` is true.
    private mutating func scanString() throws(JSONParseError) -> (start: Int, count: Int, escaped: Bool) {
        index += 1
        let start = index
        while true {
            skipPlainASCII()
            guard index < end else { throw failure("unterminated string") }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start, index - 1 - start, false)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            try skipMultibyteScalar()
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
        while true {
            let runStart = index
            skipPlainASCII()
            if index > runStart {
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart))
            }
            guard index < end else { throw failure("unterminated string") }
            switch base[index] {
            case UInt8(ascii: "\""):
                index += 1
                return (start, scratch.count, true)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw failure("unescaped control character in a string")
            default:
                let scalarStart = index
                try skipMultibyteScalar()
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + scalarStart, count: index - scalarStart))
            }
        }
    }

    /// Advance `index` past bytes that stand for themselves in a string: ASCII other than control characters,
    /// the quote and the backslash. It stops at the first other byte, or at the end of the input.
    @inline(__always)
    private mutating func skipPlainASCII() {
        // Eight bytes at a time: strings are mostly plain ASCII, and one test per word instead of per byte is
        // what makes the common case fast.
        while end - index >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            let stops =
                WordBytes.below(0x20, word) | WordBytes.equal(to: 0x22, word) | WordBytes.equal(to: 0x5C, word)
                | word & WordBytes.highBits
            if stops != 0 {
                index += WordBytes.firstFlagged(stops)
                return
            }
            index += 8
        }
        while index < end {
            let byte = base[index]
            guard byte >= 0x20 && byte < 0x80 && byte != 0x22 && byte != 0x5C else { return }
            index += 1
        }
    }

    /// A `String` of `bytes`, which are valid UTF-8.
    @inline(__always)
    private static func makeString(validated bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Up to 15 bytes fit in a String's inline storage; filling it directly skips the general initializer's
        // copy and second scan, which costs as much again for keys and short values.
        if bytes.count <= 15 {
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                    from: bytes.baseAddress!, byteCount: bytes.count)
                return bytes.count
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
        // The integer part's value, exact while it has at most 19 digits (10^19 - 1 < 2^64), which is all that
        // is used of it.
        var magnitude: UInt64 = 0
        if base[index] == UInt8(ascii: "0") {
            index += 1
            if index < end && isDigit(base[index]) { throw failure("leading zero in a number") }
        } else if isDigit(base[index]) {
            while index < end && isDigit(base[index]) {
                magnitude = magnitude &* 10 &+ UInt64(base[index] &- UInt8(ascii: "0"))
                index += 1
            }
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
            if !negative {
                if magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
            } else if magnitude <= Int64.min.magnitude {
                // 0 - magnitude in two's complement, which is also right for Int64.min.
                return .int(Int64(bitPattern: 0 &- magnitude))
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

// MARK: - Pulling values one at a time

/// The key of the object member being read, as `JSONParser.nextKey()` gives it: valid until the next call.
///
/// Compare it with string literals, as in `switch key { case "id": … }`, without building a `String`.
public struct JSONKey {
    /// The key's UTF-8 in the input, when it has no escapes (the common case).
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    /// The key decoded, when it has escapes.
    fileprivate let decoded: String?

    /// The key as a `String`, for messages.
    public var text: String { decoded ?? String(decoding: bytes, as: UTF8.self) }

    /// Whether `key` is `pattern`.
    @inline(__always)
    public static func ~= (pattern: StaticString, key: JSONKey) -> Bool {
        if let decoded = key.decoded { return decoded == pattern.description }
        return key.bytes.count == pattern.utf8CodeUnitCount
            && (key.bytes.isEmpty || memcmp(key.bytes.baseAddress!, pattern.utf8Start, key.bytes.count) == 0)
    }
}

extension JSONParser {
    /// Read one JSON text that spans all of `bytes` by pulling its values one at a time with `body`, straight into
    /// the caller's types and without building a tree.
    ///
    /// `body` reads exactly one value, with `beginObject`/`nextKey`, `beginArray`/`nextElement`, `string`, `int`
    /// and the like; the grammar is checked as strictly as `parse` checks it. Returns `nil` when what follows the
    /// value is not whitespace (callers say what that means to them); `body`'s own errors pass through.
    public static func pull<Result, Failure: Error>(
        _ bytes: UnsafeRawBufferPointer, _ body: (inout JSONParser) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return nil }
        return try withUnsafeTemporaryAllocation(of: (key: String, value: JSON).self, capacity: 4) {
            members throws(Failure) in
            try withUnsafeTemporaryAllocation(of: JSON.self, capacity: 4) { elements throws(Failure) in
                var parser = JSONParser(
                    base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count,
                    maximumDepth: defaultMaximumDepth, members: ValueStack(startingIn: members),
                    elements: ValueStack(startingIn: elements))
                parser.skipWhitespace()
                let result = try body(&parser)
                parser.skipWhitespace()
                return parser.index == parser.end ? result : nil
            }
        }
    }

    /// The offset of the next byte to read.
    public var offset: Int { index }

    /// Open the object that must come next; then call `nextKey()` until it returns `nil`.
    public mutating func beginObject() throws(JSONParseError) {
        try open(UInt8(ascii: "{"), "an object")
    }

    /// The key of the object's next member, leaving the reader at its value (which must be read or skipped), or
    /// `nil` after the object's closing brace.
    public mutating func nextKey() throws(JSONParseError) -> JSONKey? {
        guard try hasNext(closing: UInt8(ascii: "}")) else { return nil }
        guard index < end, base[index] == UInt8(ascii: "\"") else {
            throw index < end ? failure("expected a string key") : failure("unexpected end of input")
        }
        let scanned = try scanString()
        skipWhitespace()
        guard index < end, base[index] == UInt8(ascii: ":") else {
            throw index < end ? failure("expected ':' after an object key") : failure("unexpected end of input")
        }
        index += 1
        skipWhitespace()
        if scanned.escaped {
            return JSONKey(
                bytes: UnsafeBufferPointer(start: nil, count: 0), decoded: String(decoding: scratch, as: UTF8.self))
        }
        return JSONKey(bytes: UnsafeBufferPointer(start: base + scanned.start, count: scanned.count), decoded: nil)
    }

    /// Open the array that must come next; then call `nextElement()` before each element until it returns `false`.
    public mutating func beginArray() throws(JSONParseError) {
        try open(UInt8(ascii: "["), "an array")
    }

    /// Whether the array has another element (the reader is then at it), or `false` after its closing bracket.
    public mutating func nextElement() throws(JSONParseError) -> Bool {
        try hasNext(closing: UInt8(ascii: "]"))
    }

    /// The string that must come next.
    public mutating func string() throws(JSONParseError) -> String {
        atContainerStart = false
        guard index < end, base[index] == UInt8(ascii: "\"") else { throw expected("a string") }
        let scanned = try scanString()
        if scanned.escaped { return String(decoding: scratch, as: UTF8.self) }
        return Self.makeString(validated: UnsafeBufferPointer(start: base + scanned.start, count: scanned.count))
    }

    /// The string that must come next, as UTF-8 lent to `body` (for parsing it without building a `String`).
    public mutating func withStringBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) throws(JSONParseError)
        -> Result
    {
        atContainerStart = false
        guard index < end, base[index] == UInt8(ascii: "\"") else { throw expected("a string") }
        let scanned = try scanString()
        if scanned.escaped { return scratch.withUnsafeBufferPointer(body) }
        return body(UnsafeBufferPointer(start: base + scanned.start, count: scanned.count))
    }

    /// The integer that must come next (a number with no fraction that fits in 64 bits).
    public mutating func int() throws(JSONParseError) -> Int64 {
        atContainerStart = false
        let start = index
        guard index < end, base[index] == UInt8(ascii: "-") || isDigit(base[index]) else {
            throw expected("an integer")
        }
        guard case .int(let value) = try parseNumber() else {
            index = start
            throw expected("an integer")
        }
        return value
    }

    /// The boolean that must come next.
    public mutating func bool() throws(JSONParseError) -> Bool {
        atContainerStart = false
        guard index < end else { throw expected("a boolean") }
        switch base[index] {
        case UInt8(ascii: "t"): try expectLiteral("true"); return true
        case UInt8(ascii: "f"): try expectLiteral("false"); return false
        default: throw expected("a boolean")
        }
    }

    /// If `null` comes next, read it and return `true`; otherwise read nothing and return `false`.
    public mutating func null() throws(JSONParseError) -> Bool {
        atContainerStart = false
        guard index < end, base[index] == UInt8(ascii: "n") else { return false }
        try expectLiteral("null")
        return true
    }

    /// The value that must come next, whatever it is, as a tree (also the way to skip a value).
    public mutating func value() throws(JSONParseError) -> JSON {
        let value = try parseValue()
        atContainerStart = false
        return value
    }

    private mutating func open(_ bracket: UInt8, _ what: String) throws(JSONParseError) {
        guard index < end, base[index] == bracket else { throw expected(what) }
        try enterContainer()
        index += 1
        skipWhitespace()
        atContainerStart = true
    }

    /// After the container's previous member or element (or its opening): whether another follows.
    private mutating func hasNext(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < end else { throw failure("unexpected end of input") }
        let byte = base[index]
        if byte == closing {
            index += 1
            depth -= 1
            atContainerStart = false
            return false
        }
        if atContainerStart {
            atContainerStart = false
            return true
        }
        guard byte == UInt8(ascii: ",") else {
            throw failure(
                closing == UInt8(ascii: "}") ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
        }
        index += 1
        skipWhitespace()
        return true
    }

    private func expected(_ what: String) -> JSONParseError {
        guard index < end else { return failure("unexpected end of input") }
        return failure("expected \(what)")
    }
}

/// A stack of values in unsafe memory, for the members and elements of the containers being parsed.
///
/// Collecting a container's values here and moving them into an array of exactly their number when it closes
/// costs one allocation per container, where appending to a fresh array grows it (and copies it) several times.
/// One stack serves every level of nesting: an inner container pushes above its parent's values and pops back
/// to them when it closes.
///
/// The stack starts in memory lent by its creator (on the machine stack) and moves to memory of its own when it
/// outgrows it.
private struct ValueStack<Element>: ~Copyable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// Whether `storage` was allocated here (else it is the lent memory, which is not freed).
    private var ownsStorage = false
    /// The number of values on the stack, initialized from the start of `storage`.
    private(set) var count = 0

    /// A stack that starts in `initialStorage`, which must outlive the stack.
    init(startingIn initialStorage: UnsafeMutableBufferPointer<Element>) {
        storage = initialStorage.baseAddress!
        capacity = initialStorage.count
    }

    deinit {
        // Values left behind by a parse error are still owned here.
        storage.deinitialize(count: count)
        if ownsStorage { storage.deallocate() }
    }

    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + count).initialize(to: element)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = max(32, capacity * 2)
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newStorage.moveInitialize(from: storage, count: count)
        if ownsStorage { storage.deallocate() }
        storage = newStorage
        capacity = newCapacity
        ownsStorage = true
    }

    /// Move the values from position `first` to the top into a new array, leaving `first` values on the stack.
    mutating func popArray(from first: Int) -> [Element] {
        precondition(first >= 0 && first < count, "popping values that were not pushed")
        let source = storage
        // `reserveCapacity` and `append` are specialised for `Element` in this module; the one-step
        // `Array(unsafeUninitializedCapacity:)` goes through an unspecialised allocator that looks up the
        // array's type at run time, which costs more than the loop.
        let top = count
        count = first
        var array: [Element] = []
        array.reserveCapacity(top - first)
        for position in first..<top {
            array.append((source + position).move())
        }
        return array
    }
}
