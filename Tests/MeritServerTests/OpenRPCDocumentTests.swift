import Foundation
import MeritJSON
import MeritServer
import MeritTestSupport
import Testing

@Suite("Protocol/openrpc.json")
struct OpenRPCDocumentTests {
    @Test(
        "validates against the OpenRPC meta-schema",
        .enabled(if: Repository.sharedData != nil, "../shared/data is not beside this clone"))
    func validatesAgainstMetaSchema() throws {
        let data = try #require(Repository.sharedData)
        let metaSchema = try JSONParser.parse(
            [UInt8](try Data(contentsOf: data.appendingPathComponent("openrpc/meta-schema.json"))))
        let contract = try OpenRPCContract()
        let violations = JSONSchemaValidator(root: metaSchema).validate(contract.document)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test("lists exactly the methods the server answers, less rpc.discover and exit")
    func listsEveryMethod() throws {
        let documented = Set(try OpenRPCContract().methodNames)
        let served = Set(Server.methodNames).subtracting(["rpc.discover", "exit"])
        #expect(documented == served)
        #expect(try OpenRPCContract().methodNames.count == documented.count, "a method is listed twice")
    }

    @Test("every documented schema reference resolves and every method has a result schema")
    func referencesResolve() throws {
        let contract = try OpenRPCContract()
        for name in contract.methodNames {
            let method = try #require(contract.method(name))
            #expect(method["result"]?["schema"] != nil, "\(name) has no result schema")
            #expect(method["paramStructure"] == "by-name", "\(name) must take params by name")
        }
        let text = contract.document.jsonText
        var searchStart = text.startIndex
        while let range = text.range(of: ##""$ref":"#/components/schemas/"##, range: searchStart..<text.endIndex) {
            let rest = text[range.upperBound...]
            let name = String(rest.prefix { $0 != "\"" })
            #expect(contract.document["components"]?["schemas"]?[name] != nil, "missing schema \(name)")
            searchStart = range.upperBound
        }
    }

    @Test("rpc.discover answers the document itself")
    func discover() throws {
        let session = try InProcessSession()
        let response = session.call("rpc.discover")
        #expect(response["result"] == (try OpenRPCContract().document))
    }
}

@Suite("session methods, in-process")
struct SessionMethodTests {
    @Test("initialize reports the server, its capabilities and no principal before authentication")
    func initialize() throws {
        let session = try InProcessSession()
        let response = session.call(
            "initialize", ["protocol_version": "1999-01-01", "client_info": ["name": "tests", "version": "1"]])
        let result = try #require(response["result"])
        #expect(result["protocol_version"] == "2026-11-01")
        #expect(result["server_info"]?["name"] == "merit")
        #expect(result["server_info"]?["version"] == .string(MeritVersion.current))
        #expect(result["capabilities"]?["max_line_bytes"] == 16_777_216)
        #expect(try OpenRPCContract().violations(ofResult: result, method: "initialize").isEmpty)
    }

    @Test(
        "bad params name the field",
        arguments: [
            ("initialize", JSON.object(["client_info": "me"]), "client_info"),
            ("initialize", JSON.object(["client_info": ["name": 1]]), "client_info.name"),
            ("initialize", JSON.object(["protocol_version": 2]), "protocol_version"),
            ("initialize", JSON.object(["apikey": "x"]), "apikey"), ("$/ping", JSON.object(["x": 1]), "x"),
            ("shutdown", JSON.object(["now": true]), "now"),
        ] as [(String, JSON, String)])
    func badParams(method: String, params: JSON, field: String) throws {
        let response = try InProcessSession().call(method, params)
        let error = try #require(response["error"])
        #expect(error["code"] == -32602)
        #expect(error["data"]?["code"] == "validation_error")
        #expect(error["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(error["message"]?.stringValue?.hasPrefix(field) == true)
    }

    @Test("after shutdown every request but exit is refused with -32600")
    func shutdown() throws {
        let session = try InProcessSession()
        #expect(session.call("shutdown")["result"] == .null)
        for method in ["$/ping", "initialize", "rpc.discover", "shutdown", "no.such.method"] {
            let error = session.call(method)["error"]
            #expect(error?["code"] == -32600)
            #expect(error?["message"] == "The server is shutting down; only the exit notification is accepted.")
        }
        #expect(!session.server.wantsExit)
        _ = session.send(lines: [#"{"jsonrpc":"2.0","method":"exit"}"#])
        #expect(session.server.wantsExit)
    }

    @Test("the _meta member is not an unknown param")
    func metaIsKnown() throws {
        #expect(try InProcessSession().call("$/ping", ["_meta": ["trace": "x"]])["result"] == .object([:]))
    }
}
