import MeritJSON
import MeritRPC
import Testing

@Suite("Dispatcher: JSON-RPC 2.0 messages and batches")
struct DispatcherTests {
    @Test(
        "the id is echoed exactly",
        arguments: [#""abc""#, "7", "-3", "1.5", "null", #""""#, "9223372036854775807", #""\u00e9\n""#])
    func echoesID(id: String) throws {
        let (lines, _, _) = try serve(#"{"jsonrpc":"2.0","id":\#(id),"method":"echo"}"# + "\n")
        let response = try #require(try parsed(lines).first)
        #expect(response["id"] == (try JSONParser.parse(id)))
        #expect(response["result"] == .null)
        #expect(response["jsonrpc"] == "2.0")
    }

    @Test("notifications are never answered, even when they fail")
    func notifications() throws {
        let input = """
            {"jsonrpc":"2.0","method":"echo"}
            {"jsonrpc":"2.0","method":"fail"}
            {"jsonrpc":"2.0","method":"missing","params":{}}

            """
        let (lines, handler, _) = try serve(input)
        #expect(lines.isEmpty)
        #expect(handler.calls.map(\.method) == ["echo", "fail", "missing"])
    }

    @Test(
        "invalid requests are answered -32600, with the id when it could be read",
        arguments: [
            (#"{"jsonrpc":"2.0","method":1}"#, JSON.null), (#"{"jsonrpc":"1.0","id":4,"method":"echo"}"#, 4),
            (#"{"id":5,"method":"echo"}"#, 5), (#"{"jsonrpc":"2.0","id":6}"#, 6),
            (#"{"jsonrpc":"2.0","id":7,"method":"echo","params":"x"}"#, 7),
            (#"{"jsonrpc":"2.0","id":{},"method":"echo"}"#, .null), ("1", .null), (#""text""#, .null),
        ])
    func invalidRequests(line: String, id: JSON) throws {
        let (lines, handler, _) = try serve(line + "\n")
        let response = try #require(try parsed(lines).first)
        #expect(lines.count == 1)
        #expect(response["id"] == id)
        #expect(response["error"]?["code"] == -32600)
        #expect(response["error"]?["data"]?["code"] == "invalid_request")
        #expect(response["error"]?["data"]?["status"] == 400)
        #expect(handler.calls.isEmpty)
    }

    @Test(
        "lines that are not JSON are answered -32700 with id null",
        arguments: ["{", #"{"jsonrpc":"2.0","method":"echo","params":"bar","baz]"#, "[1,]", "nul", "\u{FEFF}{}"])
    func parseErrors(line: String) throws {
        let (lines, _, _) = try serve(line + "\n")
        let response = try #require(try parsed(lines).first)
        #expect(response["id"] == .null)
        #expect(response["error"]?["code"] == -32700)
        #expect(response["error"]?["data"]?["code"] == "parse_error")
    }

    @Test("an empty batch is one -32600 error object, not an array")
    func emptyBatch() throws {
        let (lines, _, _) = try serve("[]\n")
        let response = try #require(try parsed(lines).first)
        #expect(lines.count == 1)
        #expect(response["error"]?["code"] == -32600)
        #expect(response["id"] == .null)
    }

    @Test("a batch of invalid entries answers each in an array")
    func invalidBatch() throws {
        let (lines, _, _) = try serve("[1,2,3]\n")
        let response = try #require(try parsed(lines).first)
        #expect(response.arrayValue?.count == 3)
        #expect(response.arrayValue?.allSatisfy { $0["error"]?["code"] == -32600 } == true)
    }

    @Test("a mixed batch answers requests in order and skips notifications")
    func mixedBatch() throws {
        let input = """
            [{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo"},\
            {"foo":"boo"},{"jsonrpc":"2.0","id":"x","method":"missing"},{"jsonrpc":"2.0","id":3,"method":"fail"}]

            """
        let (lines, _, _) = try serve(input)
        let responses = try #require(try parsed(lines).first?.arrayValue)
        #expect(lines.count == 1)
        #expect(responses.map { $0["id"] } == [1, .null, "x", 3])
        #expect(responses[0]["result"] == [1])
        #expect(responses[1]["error"]?["code"] == -32600)
        #expect(responses[2]["error"]?["code"] == -32601)
        #expect(responses[3]["error"]?["data"]?["code"] == "conflict")
    }

    @Test("an all-notification batch produces no output at all")
    func notificationBatch() throws {
        let (lines, handler, output) = try serve(
            #"[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"fail"}]"# + "\n")
        #expect(lines.isEmpty)
        #expect(output.bytes.isEmpty)
        #expect(handler.calls.count == 2)
    }

    @Test("a failed commit replaces the answers from the first lost call on, and only those")
    func failedCommit() throws {
        let handler = RecordingHandler()
        handler.failCommitFromCall = 1
        var dispatcher = Dispatcher(handler: handler)
        for line in [
            #"{"jsonrpc":"2.0","id":1,"method":"echo"}"#, "not json",
            #"[{"jsonrpc":"2.0","id":2,"method":"echo"},{"jsonrpc":"2.0","id":3,"method":"echo"}]"#,
        ] {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        }
        var writer = JSONWriter()
        dispatcher.flush(into: &writer)
        let lines = String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        let responses = try parsed(lines)
        #expect(responses[0]["result"] == .null)
        #expect(responses[1]["error"]?["code"] == -32700)
        #expect(responses[2][0]?["error"]?["data"]?["code"] == "storage_unavailable")
        #expect(responses[2][1]?["error"]?["data"]?["code"] == "storage_unavailable")
        #expect(handler.commits == 1)
    }

    @Test("after exit nothing more is handled")
    func exitStops() throws {
        let input = """
            {"jsonrpc":"2.0","method":"exit"}
            {"jsonrpc":"2.0","id":1,"method":"echo"}

            """
        let (lines, handler, _) = try serve(input)
        #expect(lines.isEmpty)
        #expect(handler.calls.map(\.method) == ["exit"])
    }

    @Test("every error kind carries data.code and data.status")
    func errorShape() {
        for kind in RPCError.Kind.all {
            let json = RPCError(kind, "Something.").json
            #expect(json["code"] == .int(Int64(kind.code)))
            #expect(json["data"]?["code"] == .string(kind.name))
            #expect(json["data"]?["status"] == .int(Int64(kind.status)))
        }
        let detailed = RPCError.invalidField(FieldError(field: "name", problem: "is required")).json
        #expect(detailed["message"] == "name is required.")
        #expect(detailed["data"]?["details"] == [["field": "name", "problem": "is required"]])
    }
}
