import Foundation
import MeritJSON
import MeritTestSupport
import Testing

@Suite("merit serve over real pipes")
struct TransportTests {
    static let ping = #"{"jsonrpc":"2.0","id":"after","method":"$/ping"}"#

    static func expectStillServing(_ merit: SpawnedMerit) throws {
        merit.send(ping)
        let response = try #require(merit.nextMessage())
        #expect(response["id"] == "after")
        #expect(response["result"] == .object([:]))
    }

    @Test("bad input is answered with a JSON-RPC error and the server keeps serving")
    func badInput() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        let cases: [(bytes: Data, code: Int64)] = [
            (Data("{not json".utf8), -32700),
            (Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), -32700),
            (Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8), -32700),
            (Data("42".utf8), -32600),
            (Data(#"{"jsonrpc":"1.0","id":1,"method":"$/ping"}"#.utf8), -32600),
            (Data(#"{"jsonrpc":"2.0","id":1,"method":"$/ping","params":"text"}"#.utf8), -32600),
            (Data(#"{"jsonrpc":"2.0","id":1,"method":"$/ping","params":[1,2]}"#.utf8), -32602),
            (Data(#"{"jsonrpc":"2.0","id":1,"method":"no.such.method"}"#.utf8), -32601),
        ]
        for (bytes, code) in cases {
            merit.write(bytes + Data([0x0A]))
            let response = try #require(merit.nextMessage())
            #expect(response["error"]?["code"] == .int(code), "for input \(bytes.prefix(40))")
            try Self.expectStillServing(merit)
        }
        #expect(merit.waitForExit() == 0)
    }

    @Test("a 17 MiB line is refused with -32700 and the next line is served")
    func oversizedLine() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        var line = Data(#"{"jsonrpc":"2.0","id":1,"method":"$/ping","params":{"x":""#.utf8)
        line.append(Data(repeating: UInt8(ascii: "a"), count: 17 << 20))
        line.append(Data(#""}}"#.utf8 + [0x0A]))
        merit.write(line)
        let response = try #require(merit.nextMessage(timeout: 60))
        #expect(response["error"]?["code"] == -32700)
        #expect(response["id"] == .null)
        try Self.expectStillServing(merit)
        #expect(merit.waitForExit() == 0)
    }

    @Test("--max-line-bytes sets the limit")
    func maximumLineBytes() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory(), arguments: ["--max-line-bytes", "64"])
        merit.send(#"{"jsonrpc":"2.0","id":1,"method":"$/ping","params":{"padding":"0123456789012345678901234"}}"#)
        #expect(merit.nextMessage()?["error"]?["code"] == -32700)
        try Self.expectStillServing(merit)
        #expect(merit.waitForExit() == 0)
    }

    @Test("at end of input every pending response is flushed, then the exit status is 0")
    func flushesAtEndOfInput() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        let count = 20_000
        var input = Data()
        for index in 0..<count {
            input.append(Data(#"{"jsonrpc":"2.0","id":\#(index),"method":"$/ping"}"#.utf8 + [0x0A]))
        }
        merit.write(input)
        #expect(merit.waitForExit() == 0)
        let lines = merit.remainingLines()
        #expect(lines.count == count)
        #expect(try JSONParser.parse(try #require(lines.last))["id"] == .int(Int64(count - 1)))
    }

    @Test("the exit notification ends the process with status 0 while stdin is still open")
    func exitNotification() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        merit.send(#"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#)
        #expect(merit.nextMessage()?["id"] == 1)
        merit.send(#"{"jsonrpc":"2.0","method":"exit"}"#)
        #expect(merit.waitForExit(closingInput: false) == 0)
    }

    @Test("a stray print reaches stderr, never the protocol stream")
    func strayOutput() throws {
        let merit = try SpawnedMerit.serve(
            try TestDataDirectory(), environment: ["MERIT_TEST_STRAY_OUTPUT": "1"])
        try Self.expectStillServing(merit)
        #expect(merit.waitForExit() == 0)
        #expect(merit.remainingLines().isEmpty)
        #expect(merit.standardError.contains("stray output that must land on stderr"))
    }

    @Test("a reader that goes away ends the server with an error, not a signal")
    func brokenPipe() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        merit.closeOutputReader()
        merit.send(#"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#)
        let status = try #require(
            merit.waitForExit(closingInput: false), "merit went on running after the reader of its output went away")
        #expect(merit.process.terminationReason == .exit)
        #expect(status == 1)
    }

    @Test("rpc.discover serves the OpenRPC document of Protocol/openrpc.json")
    func discover() throws {
        let merit = try SpawnedMerit.serve(try TestDataDirectory())
        let response = try #require(merit.call("rpc.discover"))
        let file = try Data(contentsOf: Repository.protocolDirectory.appendingPathComponent("openrpc.json"))
        #expect(response["result"] == (try JSONParser.parse([UInt8](file))))
        #expect(merit.waitForExit() == 0)
    }
}
