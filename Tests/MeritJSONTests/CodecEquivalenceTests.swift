import MeritJSON
import Testing

/// The parser and writer against `ReferenceParser` and `ReferenceWriter`, the code they replaced: the same bytes
/// out for every value, the same value or the same error for every input. The cases aim at the edges of the fast
/// paths: word-at-a-time scanning (lengths around multiples of eight, special bytes at every position, strings
/// that end the input), the writer's staging block (output around and beyond 1 KiB), and the parser's member and
/// element stacks (deep nesting, large containers).
@Suite("Codec equivalence with the previous implementation")
struct CodecEquivalenceTests {
    // MARK: - Writing strings

    /// Characters that take a path of their own in the writer or the parser, and their near misses.
    static let specials: [String] = [
        "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1}", "\u{1F}", " ", "~", "\u{7F}", "é",
        "\u{80}", "\u{7FF}", "€", "\u{2010}", "\u{2027}", "\u{2028}", "\u{2029}", "\u{202A}", "\u{2FFF}", "中",
        "\u{FFFF}", "😀", "\u{10FFFF}",
    ]

    /// `length` plain ASCII characters.
    static func plain(_ length: Int) -> String {
        let alphabet = Array(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/~!#$%&'()*+,;<=>?@[]^`{|}")
        return String((0..<length).map { alphabet[$0 % alphabet.count] })
    }

    /// Plain strings of every length from 0 to 40, and the same with each special character at each position.
    static let strings: [String] = {
        var strings: [String] = []
        for length in 0...40 {
            let base = Array(plain(length))
            strings.append(String(base))
            for special in specials {
                for position in 0...length {
                    strings.append(String(base[..<position]) + special + String(base[position...]))
                }
            }
            // Two escapes in one word, and escapes at both ends.
            strings.append("\u{2028}" + String(base) + "\"")
            strings.append("\n\u{2029}" + String(base) + "\\\u{1}")
        }
        return strings
    }()

    @Test("strings of every length, with every special character at every position, are written as before")
    func writesStrings() throws {
        for string in Self.strings {
            let expected = referenceSerialized(.string(string))
            let written = JSON.string(string).serialized()
            try expectSameBytes(written, expected)
            var writer = JSONWriter(capacity: 0)
            writer.write(string)
            try expectSameBytes(writer.bytes, expected)
        }
    }

    @Test("strings are written as before around and beyond the writer's 1 KiB staging block")
    func writesLongStrings() throws {
        var writer = JSONWriter(capacity: 0)
        var reference = ReferenceWriter(capacity: 0)
        for length in [1000, 1015, 1020, 1021, 1022, 1023, 1024, 1025, 1030, 2047, 2048, 2049, 5000] {
            for tail in ["", "\"", "\u{2028}", "é", "\n\n\n"] {
                let string = Self.plain(length) + tail
                try expectSameBytes(JSON.string(string).serialized(), referenceSerialized(.string(string)))
                let escaped = String(repeating: "\n", count: length / 2) + tail
                try expectSameBytes(JSON.string(escaped).serialized(), referenceSerialized(.string(escaped)))
                // Each write also lands at a different offset in the block.
                writer.write(string)
                reference.write(string)
                writer.write(.array([.string(escaped), .int(Int64(length))]))
                reference.write(.array([.string(escaped), .int(Int64(length))]))
            }
        }
        try expectSameBytes(writer.bytes, reference.bytes)
    }

    @Test("strings around the longest the writer escapes in its block are written as before, at any offset")
    func writesStringsAroundTheBlockLimit() throws {
        // Strings up to 170 bytes (1022 / 6) are escaped straight into the 1 KiB block; longer ones are written
        // piece by piece. Each string is written after a prefix of every length modulo 64, so that it lands at
        // every kind of offset in the block, including where the block must be flushed first.
        var writer = JSONWriter(capacity: 0)
        var reference = ReferenceWriter(capacity: 0)
        for length in 160...180 {
            let base = Array(Self.plain(length))
            var strings = [String(base)]
            for special in ["\"", "\u{1}", "\u{2028}", "é", "😀"] {
                for position in [0, 1, 7, 8, length / 2, length - 9, length - 8, length - 1, length] {
                    strings.append(String(base[..<position]) + special + String(base[position...]))
                }
            }
            strings.append(String(repeating: "\u{1}", count: length))
            for (offset, string) in strings.enumerated() {
                let prefix = JSON.string(Self.plain(offset % 64))
                let value: JSON = [prefix, .string(string), ["k": .string(string), string: .null]]
                writer.write(value)
                reference.write(value)
                writer.write(string)
                reference.write(string)
            }
        }
        try expectSameBytes(writer.bytes, reference.bytes)
    }

    @Test("the written strings parse back to themselves")
    func stringsRoundTrip() throws {
        for string in Self.strings {
            let text = JSON.string(string).serialized()
            #expect(try JSONParser.parse(text) == .string(string))
        }
    }

    // MARK: - Parsing strings

    /// Raw bytes to insert in string content: valid, invalid, escapes, and UTF-8 cut short.
    static let insertions: [[UInt8]] = [
        [], [0x00], [0x1F], [0x20], [0x22], [0x5C], [0x5C, 0x22], [0x5C, 0x5C], [0x5C, 0x2F], [0x5C, 0x62],
        [0x5C, 0x6E], [0x5C, 0x78], [0x5C, 0x75, 0x30, 0x30, 0x65, 0x39], [0x5C, 0x75, 0x32, 0x30, 0x32, 0x38],
        [0x5C, 0x75, 0x44, 0x38, 0x33, 0x44, 0x5C, 0x75, 0x44, 0x45, 0x30, 0x30], [0x5C, 0x75, 0x44, 0x38, 0x30, 0x30],
        [0x5C, 0x75, 0x31, 0x32], [0x7F], [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC2], [0xC2, 0x80],
        [0xDF, 0xBF], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xE2, 0x80], [0xE2, 0x80, 0xA8], [0xE2, 0x82, 0xAC],
        [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],
        [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xFF],
    ]

    @Test("string content of every length, with odd bytes at every position, parses as before")
    func parsesStrings() throws {
        for length in 0...40 {
            let base = Array(Self.plain(length).utf8)
            for insertion in Self.insertions {
                for position in 0...length {
                    let content = Array(base[..<position]) + insertion + Array(base[position...])
                    let quoted = [0x22] + content + [0x22]
                    // Alone, so that the string ends the input; as a key; inside an array with more after it;
                    // and without its closing quote.
                    try expectSameParse(quoted)
                    try expectSameParse(Array("{".utf8) + quoted + Array(":1}".utf8))
                    try expectSameParse(Array("[".utf8) + quoted + Array(",\"after the string\"]".utf8))
                    try expectSameParse([0x22] + content)
                }
            }
        }
    }

    // MARK: - Numbers

    static let integers: [Int64] = {
        var values: [Int64] = [0, 1, -1, 9, -9, .max, .min, .max - 1, .min + 1]
        var power: Int64 = 1
        for _ in 1...18 {
            power *= 10
            values += [power, -power, power - 1, 1 - power, power + 1, -power - 1]
            if power <= Int64.max / 10 { values += [power * 9 + 8_765, -(power * 9 + 8_765)] }
        }
        return values
    }()

    @Test("integers of every length are written and parsed as before")
    func integers() throws {
        for value in Self.integers {
            let expected = referenceSerialized(.int(value))
            try expectSameBytes(JSON.int(value).serialized(), expected)
            var writer = JSONWriter(capacity: 0)
            writer.write(value)
            try expectSameBytes(writer.bytes, expected)
            let nested: JSON = [.int(value), ["n": .int(value)]]
            try expectSameBytes(nested.serialized(), referenceSerialized(nested))
            try expectSameParse(expected)
        }
    }

    @Test("doubles are written as before")
    func doubles() throws {
        var generator = SplitMix64(seed: 7)
        var values: [Double] = [
            0, -0.0, 0.1, 1.5, -2.5e-3, 1e300, 1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude,
            .leastNormalMagnitude, 1.0 / 3.0, 123_456_789.125, 9_007_199_254_740_992, .infinity, -.infinity, .nan,
        ]
        for _ in 0..<2_000 { values.append(Double(bitPattern: generator.next())) }
        for value in values {
            let expected = referenceSerialized(.double(value))
            try expectSameBytes(JSON.double(value).serialized(), expected)
            var writer = JSONWriter(capacity: 0)
            writer.write(value)
            try expectSameBytes(writer.bytes, expected)
            try expectSameBytes(
                JSON.array([.double(value)]).serialized(), referenceSerialized(.array([.double(value)])))
        }
    }

    @Test(
        "number texts of every form parse as before",
        arguments: [
            "0", "-0", "1", "-1", "12", "-12", "0.0", "-0.0", "1.5", "-2.5E-3", "1e3", "1E+2", "1e-2", "1.25e+10",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
            "12345678901234567890", "123456789012345678901234567890", "1e308", "1e309", "-1e400", "4.9e-324",
            "1e-400", "00", "01", "-01", "-", "--1", "+1", "1.", ".5", "1e", "1e+", "1e-", "1.e3", "0x10", "1_000",
            "Infinity", "NaN", "1 ", " 1", "1 2", "[1,-0,2.5]", "[1e2,3E-1,-4.5e+6]", "{\"n\":-12.5e-1}",
        ])
    func numberTexts(text: String) throws {
        try expectSameParse(Array(text.utf8))
    }

    // MARK: - Containers

    @Test("deep nesting parses as before, up to the limit and past it")
    func deepNesting() throws {
        for depth in [1, 2, 31, 32, 33, 64, 511, 512, 513, 600] {
            let arrays = (0..<depth).map { "[\($0)," }.joined() + "\"deepest\"" + String(repeating: "]", count: depth)
            try expectSameParse(Array(arrays.utf8))
            var objects = "null"
            for level in 0..<depth {
                objects = "{\"before\(level)\":\(level),\"inner\":\(objects),\"after\":[\(level)]}"
            }
            try expectSameParse(Array(objects.utf8))
            try expectSameParse(Array(objects.dropLast().utf8))
        }
        try expectSameParse(
            Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))
        try expectSameParse(Array(String(repeating: "{\"a\":", count: 100_000).utf8))
        for maximumDepth in [0, 1, 2, 10] {
            let text = Array("[[[[[[[[[[[[1]]]]]]]]]]]]".utf8)
            let value = Result { () throws(JSONParseError) in try JSONParser.parse(text, maximumDepth: maximumDepth) }
            let expected = Result { () throws(JSONParseError) in
                try ReferenceParser.parse(text, maximumDepth: maximumDepth)
            }
            try #require(same(value, expected))
        }
    }

    @Test("large arrays and objects parse and write as before")
    func largeContainers() throws {
        let numbers = JSON.array((0..<10_000).map { .int(Int64($0 * 7 - 3_000)) })
        let strings = JSON.array((0..<5_000).map { .string(Self.plain($0 % 50)) })
        var wide = JSONObject()
        for index in 0..<1_000 { wide.append("key\(index)", index % 3 == 0 ? .null : .string("v\(index)")) }
        let people = JSON.array(
            (0..<1_000).map { index in
                [
                    "id": .string("emp_\(index)"), "name": .string("Person \(index)"), "tags": ["a", "b"],
                    "manager": index % 2 == 0 ? .null : ["id": .string("emp_\(index / 2)"), "level": .int(1)],
                    "empty_array": [], "empty_object": .object(JSONObject()),
                ]
            })
        for value in [numbers, strings, .object(wide), people, .array([numbers, strings, .object(wide), people])] {
            let expected = referenceSerialized(value)
            try expectSameBytes(value.serialized(), expected)
            try expectSameParse(expected)
        }
    }

    // MARK: - Random values and inputs

    @Test("random values are written as before, and their text parses as before")
    func randomValues() throws {
        var generator = SplitMix64(seed: 2_026)
        for _ in 0..<3_000 {
            let value = randomValue(depth: 0, &generator)
            let expected = referenceSerialized(value)
            try expectSameBytes(value.serialized(), expected)
            try expectSameParse(expected)
        }
    }

    @Test("mutated documents parse as before, whether they are still JSON or not")
    func mutatedDocuments() throws {
        var generator = SplitMix64(seed: 8_259)
        let documents = [
            #"{"id":"evt_01KP85WTM0ZPA5HF1WPDXWFCNK","sequence":123,"type":"person.updated","v":1,"#
                + #""data":{"name":"Person 12 v4021","manager_id":null,"is_admin":false,"tags":["a","b\n"]}}"#,
            #"[{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":[1,2.5,-3e7,"é\u2028"]}},{"k":true}]"#,
            "  [ \"\\ud83d\\ude00 x\" , -0.5e-3 , { \"a\" : [ ] , \"b\" : { } } ]  ",
        ]
        let alphabet =
            Array(#"{}[]:,"\ -+.0123456789eEtruefalsnl/bu"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xFF]
        for document in documents {
            let bytes = Array(document.utf8)
            try expectSameParse(bytes)
            for _ in 0..<3_000 {
                var mutated = bytes
                for _ in 0...Int(generator.next() % 3) {
                    let position = Int(generator.next() % UInt64(mutated.count))
                    let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    switch generator.next() % 3 {
                    case 0: mutated[position] = byte
                    case 1: mutated.insert(byte, at: position)
                    default: mutated.remove(at: position)
                    }
                    if mutated.isEmpty { mutated = [0x20] }
                }
                try expectSameParse(mutated)
            }
        }
    }

    // MARK: - The writer's other entry points

    @Test("a writer used piece by piece writes what the previous writer wrote")
    func pieceByPiece() throws {
        var writer = JSONWriter(capacity: 0)
        var reference = ReferenceWriter(capacity: 0)
        for round in 0..<300 {
            let string = Self.strings[(round * 97) % Self.strings.count]
            writer.writeRaw("{\"jsonrpc\":\"2.0\",\"id\":")
            reference.writeRaw("{\"jsonrpc\":\"2.0\",\"id\":")
            writer.write(Int64(round - 150))
            reference.write(Int64(round - 150))
            writer.writeRaw(",\"result\":")
            reference.writeRaw(",\"result\":")
            let value: JSON = ["s": .string(string), "n": .double(Double(round) / 8), "a": [.null, true, false]]
            writer.write(value)
            reference.write(value)
            writer.writeRaw(Array(",\"raw\":[1]".utf8))
            reference.writeRaw(Array(",\"raw\":[1]".utf8))
            writer.write(string)
            reference.write(string)
            writer.write(.null)
            reference.write(.null)
            writer.writeRaw("}\n")
            reference.writeRaw("}\n")
        }
        try expectSameBytes(writer.bytes, reference.bytes)
        writer.bytes.removeAll(keepingCapacity: true)
        writer.write(["after": "clearing"])
        #expect(writer.bytes == Array(#"{"after":"clearing"}"#.utf8))
    }

    @Test("dictionary literals keep their members in order, duplicates included")
    func dictionaryLiterals() {
        let value: JSON = ["b": 1, "a": "x", "b": 2, "nested": ["z": [], "y": [:]]]
        #expect(value.objectValue?.keys == ["b", "a", "b", "nested"])
        #expect(value["b"] == 2)
        #expect(value.jsonText == #"{"b":1,"a":"x","b":2,"nested":{"z":[],"y":{}}}"#)
        let object: JSONObject = ["one": 1, "two": "2"]
        #expect(object.members.map(\.key) == ["one", "two"])
        #expect(object == JSONObject([(key: "two", value: "2"), (key: "one", value: 1)]))
        let empty: JSONObject = [:]
        #expect(empty.isEmpty && JSON.object(empty).jsonText == "{}")
    }
}

// MARK: - Helpers

/// `value` as `ReferenceWriter` writes it.
func referenceSerialized(_ value: JSON) -> [UInt8] {
    var writer = ReferenceWriter()
    writer.write(value)
    return writer.bytes
}

/// Require `written` to be `expected`, naming both (cut short) when it is not.
func expectSameBytes(
    _ written: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let same = written == expected
    try #require(same, "\(expected.debugText) was written as \(written.debugText)", sourceLocation: sourceLocation)
}

/// Parse `bytes` with both parsers, from a buffer of exactly their size so that a read past the end is a read out
/// of bounds, and require the same value or the same error.
func expectSameParse(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { buffer.deallocate() }
    buffer.copyBytes(from: bytes)
    let parsed = Result { () throws(JSONParseError) in try JSONParser.parse(UnsafeRawBufferPointer(buffer)) }
    let expected = Result { () throws(JSONParseError) in try ReferenceParser.parse(UnsafeRawBufferPointer(buffer)) }
    try #require(
        same(parsed, expected), "\(bytes.debugText): \(parsed) instead of \(expected)", sourceLocation: sourceLocation)
}

/// Whether two parse results are the same error, or values that are identical down to member order and the
/// bits of every double.
func same(_ lhs: Result<JSON, JSONParseError>, _ rhs: Result<JSON, JSONParseError>) -> Bool {
    switch (lhs, rhs) {
    case (.success(let a), .success(let b)): return identical(a, b)
    case (.failure(let a), .failure(let b)): return a == b
    default: return false
    }
}

/// Strict identity: the same cases, members in the same order, doubles with the same bits.
func identical(_ lhs: JSON, _ rhs: JSON) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
    case (.string(let a), .string(let b)): return Array(a.utf8) == Array(b.utf8)
    case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { identical($0, $1) }
    case (.object(let a), .object(let b)):
        return a.count == b.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && identical($0.value, $1.value) }
    default: return false
    }
}

/// A random value at most five levels deep, with strings drawn from the special characters.
func randomValue(depth: Int, _ generator: inout SplitMix64) -> JSON {
    let kind = generator.next() % (depth >= 5 ? 5 : 7)
    switch kind {
    case 0: return .null
    case 1: return .bool(generator.next() % 2 == 0)
    case 2: return .int(Int64(bitPattern: generator.next()) >> (generator.next() % 64))
    case 3: return .double(Double(Int64(bitPattern: generator.next()) % 1_000_000) / 64)
    case 4: return .string(randomString(&generator))
    case 5: return .array((0..<Int(generator.next() % 12)).map { _ in randomValue(depth: depth + 1, &generator) })
    default:
        var object = JSONObject()
        for _ in 0..<Int(generator.next() % 12) {
            object.append(randomString(&generator), randomValue(depth: depth + 1, &generator))
        }
        return .object(object)
    }
}

func randomString(_ generator: inout SplitMix64) -> String {
    let length = Int(generator.next() % 40)
    let plain = Array(CodecEquivalenceTests.plain(64))
    var string = ""
    for _ in 0..<length {
        if generator.next() % 6 == 0 {
            string +=
                CodecEquivalenceTests.specials[Int(generator.next() % UInt64(CodecEquivalenceTests.specials.count))]
        } else {
            string.append(plain[Int(generator.next() % UInt64(plain.count))])
        }
    }
    return string
}

/// A small, seeded random number generator, so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension [UInt8] {
    /// The bytes as text for a failure message, cut short.
    var debugText: String {
        let text = String(decoding: prefix(300), as: UTF8.self)
        return count > 300 ? text + "… (\(count) bytes)" : text
    }
}
