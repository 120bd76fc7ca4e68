import MeritDomain
import MeritJSON
import MeritLog
import MeritServer
import MeritTestSupport
import Testing

@Suite("authentication")
struct AuthenticationTests {
    static let domainMethods = Server.methodNames.filter {
        !["initialize", "rpc.discover", "shutdown", "exit", "$/ping"].contains($0)
    }

    @Test("every domain method refuses an unauthenticated session", arguments: domainMethods)
    func unauthenticated(method: String) throws {
        let session = try InProcessSession(authenticated: false)
        let error = session.call(method, .object(["bogus": 1]))["error"]
        #expect(error?["data"]?["code"] == "authentication_required")
        #expect(error?["code"] == -32001)
    }

    @Test("initialize with the key authenticates and reports the organization and principal")
    func initializeWithKey() throws {
        let session = try InProcessSession(authenticated: false)
        let result = try session.result("initialize", ["api_key": .string(session.apiKey)])
        #expect(result["organization"]?["name"] == "Acme")
        #expect(result["organization"]?["id"] == .string(session.organizationID))
        #expect(result["principal"]?["name"] == "admin")
        #expect(result["principal"]?["person_id"] == .null)
        #expect(try OpenRPCContract().violations(ofResult: result, method: "initialize").isEmpty)
        #expect(session.call("organization.get")["result"]?["name"] == "Acme")
    }

    @Test("an unknown key is authentication_required and leaves the session unauthenticated")
    func unknownKey() throws {
        let session = try InProcessSession(authenticated: false)
        let error = session.call("initialize", ["api_key": "mk_nothing"])["error"]
        #expect(error?["data"]?["code"] == "authentication_required")
        #expect(session.call("organization.get")["error"]?["data"]?["code"] == "authentication_required")
    }

    @Test("a revoked key stops working at once, in the same session")
    func revoked() throws {
        let session = try InProcessSession()
        let created = try session.result("keys.create", ["name": "temp", "scopes": ["keys:manage"]])
        let secret = try #require(created["key"]?.stringValue)
        _ = try session.result("initialize", ["api_key": .string(secret)])
        _ = try session.result("keys.revoke", ["id": try #require(created["id"])])
        let error = session.call("keys.list")["error"]
        #expect(error?["data"]?["code"] == "authentication_required")
    }
}

@Suite("keys")
struct KeyTests {
    @Test("create shows the secret once; list and revoke never show it")
    func lifecycle() throws {
        let session = try InProcessSession()
        let created = try session.result(
            "keys.create", ["name": "reporting", "scopes": ["events:read", "summaries:read", "events:read"]])
        #expect(created["scopes"] == ["events:read", "summaries:read"])
        #expect(created["key"]?.stringValue?.hasPrefix("mk_") == true)
        #expect(try OpenRPCContract().violations(ofResult: created, method: "keys.create").isEmpty)
        let listed = try session.result("keys.list")
        let keys = try #require(listed["data"]?.arrayValue)
        #expect(keys.map { $0["name"] } == ["admin", "reporting"])
        #expect(keys.allSatisfy { $0["key"] == nil && $0["secret_sha256"] == nil })
        #expect(try OpenRPCContract().violations(ofResult: listed, method: "keys.list").isEmpty)
        let revoked = try session.result("keys.revoke", ["id": try #require(created["id"])])
        #expect(revoked["revoked_at"] == "2026-04-15T09:00:00.000Z")
        let again = session.call("keys.revoke", ["id": try #require(created["id"])])["error"]
        #expect(again?["data"]?["code"] == "conflict")
    }

    @Test(
        "bad input names the field and changes nothing",
        arguments: [
            (JSON.object(["scopes": ["events:read"]]), "validation_error", "name"),
            (JSON.object(["name": "", "scopes": ["events:read"]]), "validation_error", "name"),
            (JSON.object(["name": "x", "scopes": "events:read"]), "validation_error", "scopes"),
            (JSON.object(["name": "x", "scopes": ["events:read", "root"]]), "validation_error", "scopes[1]"),
            (JSON.object(["name": "x", "scopes": [], "colour": "red"]), "validation_error", "colour"),
            (JSON.object(["name": "x", "scopes": [], "person_id": "nobody"]), "validation_error", "person_id"),
            (
                JSON.object(["name": "x", "scopes": [], "person_id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"]),
                "unprocessable", "person_id"
            ),
        ] as [(JSON, String, String)])
    func badInput(params: JSON, code: String, field: String) throws {
        let session = try InProcessSession()
        let error = session.call("keys.create", params)["error"]
        #expect(error?["data"]?["code"] == .string(code))
        #expect(error?["data"]?["details"]?[0]?["field"] == .string(field))
        #expect(try session.result("keys.list")["data"]?.arrayValue?.count == 1)
    }

    @Test("revoking an unknown or malformed id")
    func revokeUnknown() throws {
        let session = try InProcessSession()
        #expect(
            session.call("keys.revoke", ["id": "key_01ARYZ6S41ZZZZZZZZZZZZZZZZ"])["error"]?["data"]?["code"]
                == "not_found")
        #expect(session.call("keys.revoke", ["id": "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"])["error"]?["code"] == -32602)
    }

    @Test("a key without keys:manage is refused with permission_denied")
    func permission() throws {
        let session = try InProcessSession()
        let created = try session.result("keys.create", ["name": "reader", "scopes": ["events:read"]])
        _ = try session.result("initialize", ["api_key": try #require(created["key"])])
        for method in ["keys.list", "keys.create"] {
            let params: JSON = method == "keys.create" ? ["name": "x", "scopes": []] : .object([:])
            #expect(session.call(method, params)["error"]?["data"]?["code"] == "permission_denied")
        }
    }

    @Test("everything survives a restart, and ids stay unique across it")
    func restart() throws {
        let session = try InProcessSession()
        let first = try session.result("keys.create", ["name": "one", "scopes": []])
        try session.crashAndRestart()
        let second = try session.result("keys.create", ["name": "two", "scopes": []])
        #expect(first["id"] != second["id"])
        let names = try session.result("keys.list")["data"]?.arrayValue?.map { $0["name"] }
        #expect(names == ["admin", "one", "two"])
    }
}

@Suite("storage failures")
struct StorageFailureTests {
    @Test(
        "a failed fsync answers storage_unavailable, keeps reads working and refuses later writes", arguments: [5, 28])
    func failedSync(errorNumber: Int32) throws {
        let session = try InProcessSession()
        _ = try session.result("keys.create", ["name": "durable", "scopes": []])
        let failAt = session.fileSystem.synchronizeCount + 1
        session.fileSystem.failSynchronize = { count in count == failAt ? errorNumber : nil }
        let responses = session.send(lines: [
            session.requestLine("keys.list"), session.requestLine("keys.create", ["name": "lost", "scopes": []]),
            session.requestLine("keys.list"),
        ])
        #expect(responses[0]["result"]?["data"]?.arrayValue?.count == 2)
        #expect(responses[1]["error"]?["data"]?["code"] == "storage_unavailable")
        // A read that came after the lost change in the same group is withdrawn too: it could have seen it.
        #expect(responses[2]["error"]?["data"]?["code"] == "storage_unavailable")
        let names = try session.result("keys.list")["data"]?.arrayValue?.map { $0["name"] }
        #expect(names == ["admin", "durable"])
        let refused = session.call("keys.create", ["name": "later", "scopes": []])["error"]
        #expect(refused?["data"]?["code"] == "storage_unavailable")
        #expect(refused?["code"] == -32050)
        try session.crashAndRestart()
        #expect(try session.result("keys.list")["data"]?.arrayValue?.map { $0["name"] } == ["admin", "durable"])
    }

    @Test("a failed write is the same", arguments: [FaultKind.error(28), .error(5), .short(3)])
    func failedWrite(fault: FaultKind) throws {
        let session = try InProcessSession()
        let failAt = session.fileSystem.writeCount + 1
        session.fileSystem.failWrite = { count in count == failAt ? fault : nil }
        let response = session.call("keys.create", ["name": "lost", "scopes": []])
        if case .short = fault, response["result"] != nil {
            // A short write that the log completes is not a failure.
            try session.crashAndRestart()
            #expect(try session.result("keys.list")["data"]?.arrayValue?.count == 2)
            return
        }
        #expect(response["error"]?["data"]?["code"] == "storage_unavailable")
        try session.crashAndRestart()
        #expect(try session.result("keys.list")["data"]?.arrayValue?.map { $0["name"] } == ["admin"])
    }
}
