import Foundation
import MeritJSON
import MeritTestSupport
import Testing

/// One row of the keyword table: a schema, an instance, and whether the instance is valid.
struct SchemaCase: Sendable, CustomTestStringConvertible {
    let keyword: String
    let schema: String
    let instance: String
    let isValid: Bool

    init(_ keyword: String, _ schema: String, _ instance: String, _ isValid: Bool) {
        self.keyword = keyword
        self.schema = schema
        self.instance = instance
        self.isValid = isValid
    }

    var testDescription: String { "\(keyword): \(instance) \(isValid ? "passes" : "fails") \(schema)" }
}

/// The verdicts agree with Python's `jsonschema.Draft7Validator` using its format checker, except the `email` row:
/// this validator treats formats other than `date` and `date-time` as annotations, as draft-07 allows.
private let keywordCases: [SchemaCase] = [
    SchemaCase("type", #"{"type":"string"}"#, #""x""#, true),
    SchemaCase("type", #"{"type":"string"}"#, "1", false),
    SchemaCase("type", #"{"type":"integer"}"#, "1", true),
    SchemaCase("type", #"{"type":"integer"}"#, "1.0", true),
    SchemaCase("type", #"{"type":"integer"}"#, "1.5", false),
    SchemaCase("type", #"{"type":"number"}"#, "1", true),
    SchemaCase("type", #"{"type":"number"}"#, "1.5", true),
    SchemaCase("type", #"{"type":"number"}"#, #""1""#, false),
    SchemaCase("type", #"{"type":["string","null"]}"#, "null", true),
    SchemaCase("type", #"{"type":["string","null"]}"#, "true", false),
    SchemaCase("type", #"{"type":"boolean"}"#, "0", false),
    SchemaCase("type", #"{"type":"object"}"#, "[]", false),
    SchemaCase("type", #"{"type":"array"}"#, "[]", true),
    SchemaCase("enum", #"{"enum":["a",1,null]}"#, "1.0", true),
    SchemaCase("enum", #"{"enum":["a",1,null]}"#, #""b""#, false),
    SchemaCase("enum", #"{"enum":[1]}"#, "true", false),
    SchemaCase("const", #"{"const":{"a":[1,2]}}"#, #"{"a":[1,2]}"#, true),
    SchemaCase("const", #"{"const":{"a":[1,2]}}"#, #"{"a":[2,1]}"#, false),
    SchemaCase("properties", #"{"properties":{"a":{"type":"integer"}}}"#, #"{"a":1}"#, true),
    SchemaCase("properties", #"{"properties":{"a":{"type":"integer"}}}"#, #"{"a":"x"}"#, false),
    SchemaCase("properties", #"{"properties":{"a":{"type":"integer"}}}"#, #""not an object""#, true),
    SchemaCase("required", #"{"required":["a","b"]}"#, #"{"a":1,"b":2}"#, true),
    SchemaCase("required", #"{"required":["a","b"]}"#, #"{"a":1}"#, false),
    SchemaCase("additionalProperties", #"{"properties":{"a":{}},"additionalProperties":false}"#, #"{"a":1}"#, true),
    SchemaCase(
        "additionalProperties", #"{"properties":{"a":{}},"additionalProperties":false}"#, #"{"a":1,"b":2}"#, false),
    SchemaCase("additionalProperties", #"{"additionalProperties":{"type":"string"}}"#, #"{"x":"y"}"#, true),
    SchemaCase("additionalProperties", #"{"additionalProperties":{"type":"string"}}"#, #"{"x":1}"#, false),
    SchemaCase(
        "patternProperties", #"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#,
        #"{"x-a":"s"}"#, true),
    SchemaCase(
        "patternProperties", #"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#,
        #"{"x-a":1}"#, false),
    SchemaCase(
        "patternProperties", #"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#,
        #"{"y":1}"#, false),
    SchemaCase("propertyNames", #"{"propertyNames":{"maxLength":3}}"#, #"{"abc":1}"#, true),
    SchemaCase("propertyNames", #"{"propertyNames":{"maxLength":3}}"#, #"{"abcd":1}"#, false),
    SchemaCase("minProperties", #"{"minProperties":1}"#, "{}", false),
    SchemaCase("minProperties", #"{"minProperties":1}"#, #"{"a":1}"#, true),
    SchemaCase("maxProperties", #"{"maxProperties":1}"#, #"{"a":1,"b":2}"#, false),
    SchemaCase("maxProperties", #"{"maxProperties":1}"#, #"{"a":1}"#, true),
    SchemaCase("items", #"{"items":{"type":"integer"}}"#, "[1,2]", true),
    SchemaCase("items", #"{"items":{"type":"integer"}}"#, #"[1,"x"]"#, false),
    SchemaCase("items", #"{"items":[{"type":"integer"},{"type":"string"}]}"#, #"[1,"a",true]"#, true),
    SchemaCase("items", #"{"items":[{"type":"integer"},{"type":"string"}]}"#, "[1,2]", false),
    SchemaCase("additionalItems", #"{"items":[{"type":"integer"}],"additionalItems":false}"#, "[1]", true),
    SchemaCase("additionalItems", #"{"items":[{"type":"integer"}],"additionalItems":false}"#, "[1,2]", false),
    SchemaCase("additionalItems", #"{"items":[{}],"additionalItems":{"type":"string"}}"#, #"[1,"a"]"#, true),
    SchemaCase("additionalItems", #"{"items":[{}],"additionalItems":{"type":"string"}}"#, "[1,2]", false),
    SchemaCase("additionalItems", #"{"additionalItems":false}"#, "[1,2]", true),
    SchemaCase("minItems", #"{"minItems":2}"#, "[1]", false),
    SchemaCase("minItems", #"{"minItems":2}"#, "[1,2]", true),
    SchemaCase("maxItems", #"{"maxItems":1}"#, "[1,2]", false),
    SchemaCase("maxItems", #"{"maxItems":1}"#, "[1]", true),
    SchemaCase("uniqueItems", #"{"uniqueItems":true}"#, "[1,2]", true),
    SchemaCase("uniqueItems", #"{"uniqueItems":true}"#, "[1,1.0]", false),
    SchemaCase("uniqueItems", #"{"uniqueItems":true}"#, #"[{"a":1,"b":2},{"b":2,"a":1}]"#, false),
    SchemaCase("uniqueItems", #"{"uniqueItems":true}"#, "[1,true]", true),
    SchemaCase("uniqueItems", #"{"uniqueItems":false}"#, "[1,1]", true),
    SchemaCase("contains", #"{"contains":{"type":"string"}}"#, #"[1,"a"]"#, true),
    SchemaCase("contains", #"{"contains":{"type":"string"}}"#, "[1,2]", false),
    SchemaCase("contains", #"{"contains":{"type":"string"}}"#, "[]", false),
    SchemaCase("minLength", #"{"minLength":2}"#, #""é""#, false),
    SchemaCase("minLength", #"{"minLength":2}"#, #""ab""#, true),
    SchemaCase("maxLength", #"{"maxLength":2}"#, #""日本""#, true),
    SchemaCase("maxLength", #"{"maxLength":2}"#, #""日本語""#, false),
    SchemaCase("maxLength", #"{"maxLength":2}"#, #""😀😀""#, true),
    SchemaCase("pattern", #"{"pattern":"^[a-z]+$"}"#, #""abc""#, true),
    SchemaCase("pattern", #"{"pattern":"^[a-z]+$"}"#, #""abC""#, false),
    SchemaCase("pattern", #"{"pattern":"b"}"#, #""abc""#, true),
    SchemaCase("pattern", #"{"pattern":"^1\\.[0-4]\\.\\d+$"}"#, #""1.3.2""#, true),
    SchemaCase("pattern", #"{"pattern":"^1\\.[0-4]\\.\\d+$"}"#, #""1.5.0""#, false),
    SchemaCase("format", #"{"format":"email"}"#, #""nope""#, true),
    SchemaCase("format", #"{"format":"date"}"#, #""2024-02-29""#, true),
    SchemaCase("format", #"{"format":"date"}"#, #""2026-02-29""#, false),
    SchemaCase("format", #"{"format":"date"}"#, #""2026-2-28""#, false),
    SchemaCase("format", #"{"format":"date"}"#, "2026", true),
    SchemaCase("format", #"{"format":"date-time"}"#, #""2026-04-01T09:12:00.000Z""#, true),
    SchemaCase("format", #"{"format":"date-time"}"#, #""2026-04-01T09:12:00+02:00""#, true),
    SchemaCase("format", #"{"format":"date-time"}"#, #""2026-04-01 09:12:00Z""#, false),
    SchemaCase("format", #"{"format":"date-time"}"#, #""2026-04-01T25:00:00Z""#, false),
    SchemaCase("format", #"{"format":"date-time"}"#, #""2026-04-01T09:12:00""#, false),
    SchemaCase("minimum", #"{"minimum":1}"#, "1", true),
    SchemaCase("minimum", #"{"minimum":1}"#, "0.5", false),
    SchemaCase("maximum", #"{"maximum":1}"#, "1.0", true),
    SchemaCase("maximum", #"{"maximum":1}"#, "2", false),
    SchemaCase("maximum", #"{"maximum":9007199254740992}"#, "9007199254740993", false),
    SchemaCase("exclusiveMinimum", #"{"exclusiveMinimum":1}"#, "1", false),
    SchemaCase("exclusiveMinimum", #"{"exclusiveMinimum":1}"#, "1.1", true),
    SchemaCase("exclusiveMaximum", #"{"exclusiveMaximum":1}"#, "1", false),
    SchemaCase("exclusiveMaximum", #"{"exclusiveMaximum":1}"#, "0", true),
    SchemaCase("multipleOf", #"{"multipleOf":3}"#, "9", true),
    SchemaCase("multipleOf", #"{"multipleOf":3}"#, "10", false),
    SchemaCase("multipleOf", #"{"multipleOf":0.5}"#, "2.5", true),
    SchemaCase("multipleOf", #"{"multipleOf":0.5}"#, "2.3", false),
    SchemaCase("multipleOf", #"{"multipleOf":2}"#, "4.0", true),
    SchemaCase("allOf", #"{"allOf":[{"type":"integer"},{"minimum":2}]}"#, "3", true),
    SchemaCase("allOf", #"{"allOf":[{"type":"integer"},{"minimum":2}]}"#, "1", false),
    SchemaCase("anyOf", #"{"anyOf":[{"type":"string"},{"minimum":2}]}"#, #""a""#, true),
    SchemaCase("anyOf", #"{"anyOf":[{"type":"string"},{"minimum":2}]}"#, "3", true),
    SchemaCase("anyOf", #"{"anyOf":[{"type":"string"},{"minimum":2}]}"#, "1", false),
    SchemaCase("oneOf", #"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "1", true),
    SchemaCase("oneOf", #"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "2.5", true),
    SchemaCase("oneOf", #"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "3", false),
    SchemaCase("oneOf", #"{"oneOf":[{"type":"integer"},{"type":"string"}]}"#, "null", false),
    SchemaCase("not", #"{"not":{"type":"string"}}"#, "1", true),
    SchemaCase("not", #"{"not":{"type":"string"}}"#, #""a""#, false),
    SchemaCase("if", #"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "1", true),
    SchemaCase("if", #"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "-1", false),
    SchemaCase("if", #"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, #""a""#, true),
    SchemaCase("if", #"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "null", false),
    SchemaCase("if", #"{"if":{"type":"integer"},"then":{"minimum":0}}"#, "null", true),
    SchemaCase("dependencies", #"{"dependencies":{"a":["b"]}}"#, #"{"a":1,"b":2}"#, true),
    SchemaCase("dependencies", #"{"dependencies":{"a":["b"]}}"#, #"{"a":1}"#, false),
    SchemaCase("dependencies", #"{"dependencies":{"a":["b"]}}"#, #"{"b":1}"#, true),
    SchemaCase("dependencies", #"{"dependencies":{"a":{"required":["c"]}}}"#, #"{"a":1}"#, false),
    SchemaCase("dependencies", #"{"dependencies":{"a":{"required":["c"]}}}"#, #"{"a":1,"c":1}"#, true),
    SchemaCase(
        "$ref",
        ##"{"definitions":{"p":{"type":"integer","minimum":1}},"##
            + ##""properties":{"n":{"$ref":"#/definitions/p"}}}"##,
        ##"{"n":1}"##, true),
    SchemaCase(
        "$ref",
        ##"{"definitions":{"p":{"type":"integer","minimum":1}},"##
            + ##""properties":{"n":{"$ref":"#/definitions/p"}}}"##,
        ##"{"n":0}"##, false),
    SchemaCase(
        "$ref", ##"{"definitions":{"any":{}},"properties":{"n":{"$ref":"#/definitions/any","type":"string"}}}"##,
        ##"{"n":1}"##, true),
    SchemaCase(
        "$ref",
        ##"{"definitions":{"a/b":{"type":"string"},"c~d":{"type":"integer"}},"##
            + ##""properties":{"x":{"$ref":"#/definitions/a~1b"},"y":{"$ref":"#/definitions/c~0d"}}}"##,
        ##"{"x":"s","y":1}"##, true),
    SchemaCase(
        "$ref",
        ##"{"definitions":{"a/b":{"type":"string"},"c~d":{"type":"integer"}},"##
            + ##""properties":{"x":{"$ref":"#/definitions/a~1b"},"y":{"$ref":"#/definitions/c~0d"}}}"##,
        ##"{"x":"s","y":"s"}"##, false),
    SchemaCase(
        "$ref", ##"{"type":"object","properties":{"child":{"$ref":"#"}},"additionalProperties":false}"##,
        ##"{"child":{"child":{}}}"##, true),
    SchemaCase(
        "$ref", ##"{"type":"object","properties":{"child":{"$ref":"#"}},"additionalProperties":false}"##,
        #"{"child":{"other":1}}"#, false),
    SchemaCase(
        "$ref", #"{"properties":{"s":{"$ref":"http://json-schema.org/draft-07/schema#"}}}"#,
        #"{"s":{"type":"string"}}"#, true),
    SchemaCase(
        "$ref", #"{"properties":{"s":{"$ref":"http://json-schema.org/draft-07/schema"}}}"#,
        #"{"s":{"minimum":1}}"#, true),
    SchemaCase("boolean schema", "true", "1", true),
    SchemaCase("boolean schema", "false", "1", false),
    SchemaCase("boolean schema", #"{"properties":{"a":false}}"#, #"{"a":1}"#, false),
    SchemaCase("boolean schema", #"{"properties":{"a":false}}"#, #"{"b":1}"#, true),
]

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let metaSchemaPath = repositoryRoot.deletingLastPathComponent()
    .appendingPathComponent("shared/data/openrpc/meta-schema.json").path

@Suite("JSONSchemaValidator")
struct JSONSchemaValidatorTests {
    @Test("each draft-07 keyword accepts and rejects as the specification says", arguments: keywordCases)
    func keyword(row: SchemaCase) throws {
        let validator = JSONSchemaValidator(root: try JSONParser.parse(row.schema))
        let violations = validator.validate(try JSONParser.parse(row.instance))
        #expect(violations.isEmpty == row.isValid, "\(violations)")
    }

    @Test("a violation names the path of the failing member")
    func violationPath() throws {
        let schema = try JSONParser.parse(
            #"{"properties":{"a":{"properties":{"b":{"items":{"type":"integer"}}}}}}"#)
        let violations = JSONSchemaValidator(root: schema).validate(try JSONParser.parse(#"{"a":{"b":[1,"x"]}}"#))
        #expect(violations == [SchemaViolation(path: "$.a.b[1]", message: "expected integer, found a string")])
    }

    @Test("an unexpected property is reported at its own path")
    func unexpectedPropertyPath() throws {
        let schema = try JSONParser.parse(#"{"properties":{"name":{}},"additionalProperties":false}"#)
        let violations = JSONSchemaValidator(root: schema).validate(try JSONParser.parse(#"{"name":1,"odd key":2}"#))
        let violation = try #require(violations.first)
        #expect(violations.count == 1)
        #expect(violation.path == #"$["odd key"]"#)
        #expect(violation.description.contains("\"odd key\" is not allowed"))
    }

    @Test("oneOf reports matching more than one schema, naming them")
    func oneOfMatchingTwice() throws {
        let schema = try JSONParser.parse(#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#)
        let violations = JSONSchemaValidator(root: schema).validate(3)
        #expect(violations.map(\.message) == ["matches the schemas at 0, 1 in oneOf, but must match exactly one"])
    }

    @Test("validation can start at a JSON pointer into the document")
    func pointer() throws {
        let document = try JSONParser.parse(
            #"{"components":{"schemas":{"Person":{"type":"object","required":["name"],"#
                + ##""properties":{"name":{"type":"string"},"manager":{"$ref":"#/components/schemas/Person"}}}}}}"##)
        let validator = JSONSchemaValidator(root: document)
        let valid = try JSONParser.parse(#"{"name":"Ada","manager":{"name":"Grace"}}"#)
        let invalid = try JSONParser.parse(#"{"name":"Ada","manager":{}}"#)
        #expect(validator.validate(valid, against: "#/components/schemas/Person").isEmpty)
        let violations = validator.validate(invalid, against: "#/components/schemas/Person")
        #expect(violations == [SchemaViolation(path: "$.manager", message: "missing required property \"name\"")])
        #expect(!validator.validate(valid, against: "#/components/schemas/Nobody").isEmpty)
    }

    @Test("an explicit schema resolves its $refs in the root document")
    func explicitSchema() throws {
        let validator = JSONSchemaValidator(root: try JSONParser.parse(#"{"definitions":{"s":{"type":"string"}}}"#))
        let schema = try JSONParser.parse(##"{"items":{"$ref":"#/definitions/s"}}"##)
        #expect(validator.validate(try JSONParser.parse(#"["a"]"#), schema: schema).isEmpty)
        #expect(validator.validate(try JSONParser.parse("[1]"), schema: schema).map(\.path) == ["$[0]"])
    }

    @Test(
        "a $ref that cannot be resolved or never ends is a violation, not a crash",
        arguments: [
            ##"{"$ref":"#"}"##,
            ##"{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"##
                + ##""$ref":"#/definitions/a"}"##,
            ##"{"$ref":"#/definitions/missing"}"##,
            #"{"$ref":"https://example.com/schema.json"}"#,
        ])
    func badReference(schema: String) throws {
        let violations = JSONSchemaValidator(root: try JSONParser.parse(schema)).validate(1)
        #expect(violations.count == 1)
    }

    @Test(
        "the OpenRPC meta-schema accepts a minimal document and rejects broken ones",
        .enabled(if: FileManager.default.fileExists(atPath: metaSchemaPath), "../shared/data is not beside this clone"))
    func openRPCMetaSchema() throws {
        let bytes = try #require(FileManager.default.contents(atPath: metaSchemaPath))
        let validator = JSONSchemaValidator(root: try JSONParser.parse(Array(bytes)))
        let valid = try JSONParser.parse(
            #"{"openrpc":"1.3.2","info":{"title":"t","version":"1"},"#
                + #""methods":[{"name":"m","params":[],"result":{"name":"r","schema":{}}}]}"#)
        #expect(validator.validate(valid) == [])

        let withoutInfo = try JSONParser.parse(#"{"openrpc":"1.3.2","methods":[]}"#)
        let missingInfo = SchemaViolation(path: "$", message: #"missing required property "info""#)
        #expect(validator.validate(withoutInfo) == [missingInfo])

        let unnamedMethod = try JSONParser.parse(
            #"{"openrpc":"1.3.2","info":{"title":"t","version":"1"},"methods":[{"params":[]}]}"#)
        let violations = validator.validate(unnamedMethod)
        #expect(violations.map(\.path) == ["$.methods[0]"])
        #expect(violations.first?.message.contains(#"missing required property "name""#) == true)
    }
}
