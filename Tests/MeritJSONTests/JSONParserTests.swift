import Foundation
import MeritJSON
import Testing

@Suite("JSONParser")
struct JSONParserTests {
    @Test(
        "integers are exact to 64 bits; larger ones become doubles",
        arguments: [
            ("0", JSON.int(0)), ("-0", .int(0)), ("9223372036854775807", .int(Int64.max)),
            ("-9223372036854775808", .int(Int64.min)), ("9223372036854775808", .double(9_223_372_036_854_775_808)),
            ("-9223372036854775809", .double(-9_223_372_036_854_775_808)), ("1.5", .double(1.5)),
            ("1e3", .double(1000)), ("-2.5E-3", .double(-0.0025)), ("12345678901234567", .int(12_345_678_901_234_567)),
        ])
    func numbers(text: String, expected: JSON) throws {
        let value = try JSONParser.parse(text)
        #expect(value == expected)
        if case .int = expected {
            #expect(value.intValue == expected.intValue)
            #expect(value.jsonText == (text == "-0" ? "0" : text))
        }
    }

    @Test("numbers too large for a double are rejected", arguments: ["1e400", "-1e400", "123e99999"])
    func hugeNumbers(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test(
        "strings are fully unescaped",
        arguments: [
            (#""a\"b\\c\/d""#, "a\"b\\c/d"), (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"), (#""\u00e9\u4e2d""#, "é中"),
            (#""\ud83d\ude00""#, "😀"), (#""\u0000""#, "\u{0}"), ("\"é中😀\"", "é中😀"),
        ])
    func strings(text: String, expected: String) throws {
        #expect(try JSONParser.parse(text) == .string(expected))
    }

    @Test(
        "malformed strings are rejected",
        arguments: [#""\ud800""#, #""\udc00x""#, #""\x""#, "\"a\u{1}\"", #""\u12""#, "\"abc"])
    func badStrings(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test(
        "invalid UTF-8 is rejected",
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
        ]
            as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test("deep nesting is an error, not a crash")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let objects = String(repeating: "{\"a\":", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(objects) }
        let allowed = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect((try? JSONParser.parse(allowed)) != nil)
    }

    @Test("errors say what and where")
    func errorMessages() {
        #expect(throws: JSONParseError(offset: 1, reason: "expected a string key")) { try JSONParser.parse("{1:2}") }
        #expect(throws: JSONParseError(offset: 0, reason: "empty input")) { try JSONParser.parse("") }
        #expect(throws: JSONParseError(offset: 3, reason: "unexpected data after the JSON value")) {
            try JSONParser.parse("[] x")
        }
    }

    @Test("objects keep member order and the last duplicate wins on lookup")
    func objects() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":2,"b":3}"#)
        #expect(value.objectValue?.keys == ["b", "a", "b"])
        #expect(value["b"] == 3)
        #expect(value.jsonText == #"{"b":1,"a":2,"b":3}"#)
    }
}

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test(
        "escapes control characters, quotes, backslashes and U+2028/U+2029",
        arguments: [
            ("a\"b", #""a\"b""#), ("a\\b", #""a\\b""#), ("line\nbreak", #""line\nbreak""#),
            ("\u{1}\u{1F}", #""\u0001\u001f""#), ("\u{2028}\u{2029}", #""\u2028\u2029""#), ("é/中", "\"é/中\""),
            ("\u{7F}", "\"\u{7F}\""), ("€", "\"€\""),
        ])
    func escaping(value: String, expected: String) throws {
        let text = JSON.string(value).jsonText
        #expect(text == expected)
        #expect(try JSONParser.parse(text) == .string(value))
    }

    @Test(
        "numbers",
        arguments: [
            (JSON.int(-42), "-42"), (.int(Int64.min), "-9223372036854775808"), (.double(0.1), "0.1"),
            (.double(1e300), "1e+300"), (.double(.infinity), "null"), (.double(.nan), "null"),
        ])
    func numbers(value: JSON, expected: String) {
        #expect(value.jsonText == expected)
    }

    @Test("output is one line for any string")
    func oneLine() throws {
        let all = String((0..<0x3000).compactMap { Unicode.Scalar($0).map(Character.init) })
        let bytes = JSON.array([.string(all)]).serialized()
        #expect(!bytes.contains(0x0A) && !bytes.contains(0x0D))
        #expect(try JSONParser.parse(bytes) == .array([.string(all)]))
    }
}

/// Pulling values one at a time (how the log's JSON records and snapshots are read): the same strict grammar,
/// without a tree.
@Suite("JSONParser.pull")
struct JSONPullTests {
    struct Item: Equatable {
        var name = ""
        var count: Int64 = 0
        var tags: [String] = []
        var flag: Bool?
        var note: String?
    }

    static func read(_ text: String) throws(JSONParseError) -> Item? {
        let bytes = Array(text.utf8)
        let result: Result<Item?, JSONParseError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) in
                try JSONParser.pull(buffer) { reader throws(JSONParseError) -> Item in
                    var item = Item()
                    try reader.beginObject()
                    while let key = try reader.nextKey() {
                        switch key {
                        case "name": item.name = try reader.string()
                        case "count": item.count = try reader.int()
                        case "tags":
                            try reader.beginArray()
                            while try reader.nextElement() { item.tags.append(try reader.string()) }
                        case "flag": item.flag = try reader.bool()
                        case "note": item.note = try reader.null() ? nil : try reader.string()
                        default: _ = try reader.value()
                        }
                    }
                    return item
                }
            }
        }
        return try result.get()
    }

    @Test("reads members in any order, escaped keys and strings, and skips unknown members")
    func reads() throws {
        let item = try Self.read(
            #" { "count" : -12, "n\u0061me": "a\"b\u00e9", "extra": {"deep": [1, {"x": null}]}, "tags": ["x", ""], "#
                + #""flag": false, "note": null, "tags2": [] } "#)
        #expect(item == Item(name: "a\"bé", count: -12, tags: ["x", ""], flag: false, note: nil))
        #expect(try Self.read(#"{"tags":[],"note":"n"}"#) == Item(note: "n"))
        #expect(try Self.read("{}") == Item())
    }

    @Test(
        "rejects what parse rejects, naming the offset",
        arguments: [
            (#"{"name":"a",}"#, "expected a string key"),
            (#"{"tags":["a",]}"#, "expected a string"),
            (#"{"name" "a"}"#, "expected ':' after an object key"),
            (#"{"name":"a" "count":1}"#, "expected ',' or '}' in an object"),
            (#"{"tags":["a" "b"]}"#, "expected ',' or ']' in an array"),
            (#"{"count":1.5}"#, "expected an integer"),
            (#"{"count":"1"}"#, "expected an integer"),
            (#"{"name":1}"#, "expected a string"),
            (#"{"flag":null}"#, "expected a boolean"),
            (#"{"name":"a"#, "unterminated string"),
            (#"{"name":"a""#, "unexpected end of input"),
            (#"["#, "expected an object"),
        ])
    func rejects(_ text: String, _ reason: String) {
        #expect(throws: JSONParseError.self) { try Self.read(text) }
        do {
            _ = try Self.read(text)
        } catch {
            #expect(error.reason == reason, "\(text)")
        }
    }

    @Test("a reader that reads the first element before asking for the next still needs the comma")
    func firstElementThenNext() {
        func strings(_ text: String) throws(JSONParseError) -> [String]? {
            let bytes = Array(text.utf8)
            let result: Result<[String]?, JSONParseError> = bytes.withUnsafeBytes { buffer in
                Result { () throws(JSONParseError) in
                    try JSONParser.pull(buffer) { reader throws(JSONParseError) -> [String] in
                        var strings: [String] = []
                        try reader.beginArray()
                        repeat { strings.append(try reader.string()) } while try reader.nextElement()
                        return strings
                    }
                }
            }
            return try result.get()
        }
        #expect((try? strings(#"["a", "b"]"#)) == ["a", "b"])
        #expect(throws: JSONParseError.self) { try strings(#"["a" "b"]"#) }
    }

    @Test("data after the value gives nil, not a value")
    func trailingData() throws {
        #expect(try Self.read(#"{"name":"a"} x"#) == nil)
        #expect(try Self.read(#"{"name":"a"}{}"#) == nil)
    }
}

@Suite("JSONParser: members kept as compact JSON")
struct CompactMemberTests {
    /// `text` parsed with the objects and arrays of `body` members kept as compact JSON, or without.
    static func parse(_ text: String, compact: Bool) -> Result<JSON, JSONParseError> {
        parse(Array(text.utf8), compact: compact)
    }

    static func parse(_ bytes: [UInt8], compact: Bool) -> Result<JSON, JSONParseError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) in
                try JSONParser.parse(buffer, compactMembers: compact ? ["body"] : [])
            }
        }
    }

    /// Whether keeping `body` compact changes nothing a reader sees (the same value, or the same error), and a
    /// compact value is exactly what the writer writes for the tree; returns whether `body` was kept compact.
    static func keepsMeaning(_ bytes: [UInt8]) throws -> Bool {
        let tree = parse(bytes, compact: false)
        let kept = parse(bytes, compact: true)
        switch (tree, kept) {
        case (.failure(let expected), .failure(let found)):
            #expect(found == expected)
            return false
        case (.success(let expected), .success(let found)):
            #expect(found == expected)
            guard case .compact(let compact)? = firstBody(in: found) else { return false }
            #expect(compact.bytes == firstBody(in: expected)?.serialized())
            #expect(compact.tree == firstBody(in: expected))
            return true
        default:
            Issue.record("one parse failed and the other did not: \(tree), \(kept)")
            return false
        }
    }

    /// The value of the first `body` member in `value`, depth first.
    static func firstBody(in value: JSON) -> JSON? {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if key == "body" { return member }
                if let found = firstBody(in: member) { return found }
            }
            return nil
        case .array(let elements): return elements.lazy.compactMap { firstBody(in: $0) }.first
        default: return nil
        }
    }

    @Test(
        "an object or array is kept as the writer's bytes for its tree, whitespace dropped, escapes the writer uses kept",
        arguments: [
            #"{"id":1,"body": { "type" : "doc" , "content" : [ ] , "n" : -12 , "yes" : true , "no" : false , "nil" : null } }"#,
            #"{"body":[1, [2, {}], "x\"\\\b\f\n\r\t", "é中😀", "\#u{7F}", 0, -7, 123456789012345678]}"#,
            #"{"body":{}}"#, #"{"body" : [ ] }"#,
            #"{"params":{"body":{"a":{"body":[1]},"b":{"a":2}}}}"#,
            "[{\"body\":\n[\"a\"\t,\r\n\"b\"]}]",
            #"{"body":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":{"a":8},"i":9}}"#,
            "{\"body\":{" + (0..<128).map { "\"m\($0)\":1" }.joined(separator: ",") + "}}",
        ])
    func kept(text: String) throws {
        #expect(try Self.keepsMeaning(Array(text.utf8)))
    }

    @Test(
        "what the writer would write otherwise, and what is not an object or array, is parsed as a tree",
        arguments: [
            #"{"body":{"t":"\u00e9"}}"#, #"{"body":["\/"]}"#, #"{"body":[1.5]}"#, #"{"body":[-0]}"#, #"{"body":[1e2]}"#,
            #"{"body":[1234567890123456789]}"#, #"{"body":{"a":1,"a":2}}"#, #"{"body":[{"a":1,"b":{"a":2},"a":3}]}"#,
            "{\"body\":[\"\u{2028}\"]}", #"{"body":"text"}"#, #"{"body":5}"#, #"{"body":null}"#,
            #"{"bodies":{"a":1}}"#,
            #"{"body":[{"a":{"b":{"c":[1]}}}]}"#.replacingOccurrences(
                of: "1", with: String(repeating: "[", count: 70) + String(repeating: "]", count: 70)),
            "{\"body\":{" + (0..<129).map { "\"m\($0)\":1" }.joined(separator: ",") + "}}",
        ])
    func tree(text: String) throws {
        #expect(try !Self.keepsMeaning(Array(text.utf8)))
    }

    @Test(
        "what is not JSON is the same error at the same place",
        arguments: [
            #"{"body":{"a":}}"#, #"{"body":[1,]}"#, #"{"body":{"a":1,}}"#, #"{"body":[01]}"#, #"{"body":["\x"]}"#,
            #"{"body":["a"#, #"{"body":{"a" 1}}"#, #"{"body":[1 2]}"#, #"{"body":[tru]}"#, #"{"body":[-]}"#,
            #"{"body":[1] x}"#, #"{"body":{"a":1]}"#, #"{"body":[1}"#, "{\"body\":[\"\u{1}\"]}",
        ])
    func errors(text: String) throws {
        #expect(try !Self.keepsMeaning(Array(text.utf8)))
    }

    @Test("invalid UTF-8 and nesting too deep inside the member are the tree's errors; 64 deep is kept compact")
    func limits() throws {
        for invalid: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82]] {
            #expect(try !Self.keepsMeaning(Array(#"{"body":[""#.utf8) + invalid + Array(#""]}"#.utf8)))
        }
        func nested(_ count: Int) -> [UInt8] {
            Array(
                (#"{"body":"# + String(repeating: "[", count: count) + String(repeating: "]", count: count) + "}").utf8)
        }
        #expect(try !Self.keepsMeaning(nested(600)))
        #expect(try !Self.keepsMeaning(nested(511)))
        #expect(try Self.keepsMeaning(nested(64)))
        #expect(try !Self.keepsMeaning(nested(65)))
    }

    @Test("random documents, compact and spaced out, mean the same kept compact as parsed into trees")
    func randomDocuments() throws {
        var generator = SplitMix64(seed: 20_261)
        var kept = 0
        for _ in 0..<400 {
            let document: JSON = [randomValue(depth: 1, &generator), randomValue(depth: 1, &generator)]
            let compact = document.serialized()
            // The same text with whitespace after every comma, colon and opening bracket outside strings.
            var spaced: [UInt8] = []
            var inString = false
            var escaped = false
            for byte in compact {
                spaced.append(byte)
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if [UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "{")].contains(byte) {
                    spaced += [0x20, 0x0A, 0x09, 0x0D].prefix(Int(generator.next() % 5))
                }
            }
            for text in [compact, spaced] {
                if try Self.keepsMeaning(Array(#"{"body":"#.utf8) + text + [UInt8(ascii: "}")]) { kept += 1 }
            }
        }
        // Most have a double somewhere, which keeps them trees; the rest are kept, spaced out or not.
        #expect(kept > 20)
    }
}
