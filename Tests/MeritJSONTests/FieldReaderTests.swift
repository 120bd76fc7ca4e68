import MeritJSON
import Testing

@Suite("FieldReader")
struct FieldReaderTests {
    @Test("reads required and optional fields")
    func reads() throws {
        var reader = try FieldReader(["name": "Ada", "age": 36, "tags": ["a", "b"], "nothing": .null])
        #expect(try reader.required("name", as: String.self) == "Ada")
        #expect(try reader.optional("age", as: Int.self) == 36)
        #expect(try reader.optional("nothing", as: String.self) == nil)
        #expect(try reader.optional("absent", as: String.self) == nil)
        #expect(try reader.required("tags", as: [String].self) == ["a", "b"])
        try reader.finish()
    }

    @Test(
        "errors name the field",
        arguments: [
            (JSON.object(["name": 1]), FieldError(field: "name", problem: "must be a string")),
            (.object([:]), FieldError(field: "name", problem: "is required")),
            (.object(["name": .null]), FieldError(field: "name", problem: "is required")),
        ])
    func errors(params: JSON, expected: FieldError) throws {
        var reader = try FieldReader(params)
        #expect(throws: expected) { try reader.required("name", as: String.self) }
    }

    @Test("nested paths and array elements are named in errors")
    func nestedPaths() throws {
        var reader = try FieldReader(["items": [["label": "ok"], ["label": 3]]])
        #expect(throws: FieldError(field: "items[1].label", problem: "must be a string")) {
            try reader.required("items", as: [JSONObject].self).enumerated().forEach { offset, item in
                var nested = try FieldReader(.object(item), path: "items[\(offset)].")
                _ = try nested.required("label", as: String.self)
            }
        }
        var second = try FieldReader(["client": ["name": 5]])
        var client = try #require(try second.nested("client"))
        #expect(throws: FieldError(field: "client.name", problem: "must be a string")) {
            try client.required("name", as: String.self)
        }
        #expect(throws: FieldError(field: "tags[1]", problem: "must be a string")) {
            var reader = try FieldReader(["tags": ["a", 1]])
            _ = try reader.required("tags", as: [String].self)
        }
    }

    @Test("unknown fields are rejected by finish")
    func unknownFields() throws {
        var reader = try FieldReader(["name": "x", "nmae": "y"])
        _ = try reader.required("name", as: String.self)
        #expect(throws: FieldError(field: "nmae", problem: "is not a known field")) { try reader.finish() }
    }

    @Test("params that are not an object are rejected")
    func notAnObject() {
        #expect(throws: FieldError(field: "params", problem: "must be an object, not an array")) {
            try FieldReader(.array([]))
        }
        #expect((try? FieldReader(nil)) != nil)
    }

    @Test("updates distinguish absent, null and a value")
    func updates() throws {
        var reader = try FieldReader(["a": .null, "b": "x"])
        #expect(try reader.update("a", as: String.self) == .null)
        #expect(try reader.update("b", as: String.self) == .value("x"))
        #expect(try reader.update("c", as: String.self) == .absent)
    }
}
