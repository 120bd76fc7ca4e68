import Foundation
import MeritJSON

/// `Protocol/openrpc.json` as a checker: what each method documents, and whether a result conforms to it.
public struct OpenRPCContract {
    /// The whole document.
    public let document: JSON
    private let validator: JSONSchemaValidator

    /// The contract read from `Protocol/openrpc.json`.
    public init() throws {
        let url = Repository.protocolDirectory.appendingPathComponent("openrpc.json")
        document = try JSONParser.parse([UInt8](try Data(contentsOf: url)))
        validator = JSONSchemaValidator(root: document)
    }

    /// The names of the documented methods.
    public var methodNames: [String] {
        document["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    /// The method object named `name`.
    public func method(_ name: String) -> JSON? {
        document["methods"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// Violations of `method`'s documented result schema by `result`; a method that is not documented is one.
    public func violations(ofResult result: JSON, method name: String) -> [SchemaViolation] {
        guard let schema = method(name)?["result"]?["schema"] else {
            return [SchemaViolation(path: "$", message: "method \(name) is not in openrpc.json")]
        }
        return validator.validate(result, schema: schema)
    }

    /// Violations of `method`'s documented params by `params`: each documented param's schema, required params
    /// present, and no param the document does not list.
    public func violations(ofParams params: JSON?, method name: String) -> [SchemaViolation] {
        guard let method = method(name) else {
            return [SchemaViolation(path: "$", message: "method \(name) is not in openrpc.json")]
        }
        let documented = method["params"]?.arrayValue ?? []
        let given = params?.objectValue ?? JSONObject()
        var violations: [SchemaViolation] = []
        for param in documented {
            guard let paramName = param["name"]?.stringValue else { continue }
            if let value = given[paramName] {
                violations += validator.validate(value, schema: param["schema"] ?? .bool(true))
            } else if param["required"]?.boolValue == true {
                violations.append(SchemaViolation(path: "$.\(paramName)", message: "required param is missing"))
            }
        }
        let names = Set(documented.compactMap { $0["name"]?.stringValue })
        for key in given.keys where !names.contains(key) && key != "_meta" {
            violations.append(SchemaViolation(path: "$.\(key)", message: "param is not documented"))
        }
        return violations
    }
}
