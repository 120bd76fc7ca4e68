import MeritJSON
import MeritRPC
import Testing

@Suite("Connection: line framing over a byte stream")
struct ConnectionTests {
    static let ping = #"{"jsonrpc":"2.0","id":1,"method":"echo"}"#

    @Test("CRLF line endings are tolerated")
    func crlf() throws {
        let (lines, _, _) = try serve(Self.ping + "\r\n" + Self.ping + "\r\n")
        #expect(lines.count == 2)
        #expect(try parsed(lines).allSatisfy { $0["result"] == .null })
    }

    @Test("a final line without a newline is still answered at end of input")
    func finalLine() throws {
        let (lines, _, _) = try serve(Self.ping)
        #expect(lines.count == 1)
    }

    @Test("blank lines are ignored")
    func blankLines() throws {
        let (lines, _, _) = try serve("\n  \n\r\n" + Self.ping + "\n\n")
        #expect(lines.count == 1)
    }

    @Test("input split at every size reads the same", arguments: [1, 2, 3, 7, 64])
    func partialReads(chunkSize: Int) throws {
        let input =
            (1...20).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"echo","params":["é\u2028"]}"# }
            .joined(separator: "\n") + "\n"
        let (lines, _, _) = try serve(input, chunkSize: chunkSize)
        #expect(try parsed(lines).map { $0["id"] } == (1...20).map { .int(Int64($0)) })
    }

    @Test("requests that arrive together share one commit and one write")
    func groupCommit() throws {
        let input = String(repeating: Self.ping + "\n", count: 50)
        let (lines, handler, output) = try serve(input)
        #expect(lines.count == 50)
        #expect(handler.commits == 1)
        #expect(output.writes == 1)
    }

    @Test("an oversized line is answered -32700 and the next line is served", arguments: [1, 4096, .max])
    func oversizedLine(chunkSize: Int) throws {
        let long =
            #"{"jsonrpc":"2.0","id":9,"method":"echo","params":[""# + String(repeating: "x", count: 300_000)
            + #""]}"#
        let input = Self.ping + "\n" + long + "\n" + Self.ping + "\n"
        let (lines, handler, _) = try serve(
            input, chunkSize: chunkSize == 1 ? 997 : chunkSize, maximumLineBytes: 100_000)
        let responses = try parsed(lines)
        #expect(responses.count == 3)
        #expect(responses[1]["error"]?["code"] == -32700)
        #expect(responses[1]["id"] == .null)
        #expect(responses[2]["id"] == 1)
        #expect(handler.calls.count == 2)
    }

    @Test("an oversized final line without a newline is answered")
    func oversizedFinalLine() throws {
        let (lines, _, _) = try serve(String(repeating: "[", count: 5000), maximumLineBytes: 1000)
        #expect(try parsed(lines).first?["error"]?["code"] == -32700)
    }

    @Test("a line exactly at the limit is accepted")
    func lineAtLimit() throws {
        let line =
            #"{"jsonrpc":"2.0","id":1,"method":"echo","params":[""# + String(repeating: "y", count: 1000) + #""]}"#
        let (lines, _, _) = try serve(line + "\r\n", chunkSize: 100, maximumLineBytes: line.utf8.count)
        #expect(try parsed(lines).first?["result"] != nil)
    }

    @Test("invalid UTF-8 is a parse error and the next line is served")
    func invalidUTF8() throws {
        let handler = RecordingHandler()
        let output = MemoryOutput()
        var bytes = Array(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":[""#.utf8) + [0xFF, 0xFE]
        bytes += Array(#""]}"#.utf8) + [0x0A] + Array((Self.ping + "\n").utf8)
        var connection = Connection(
            handler: handler, input: MemoryInput(bytes: bytes), output: MemoryOutput.Reference(output: output))
        try connection.run()
        let responses = try parsed(output.lines)
        #expect(responses.first?["error"]?["code"] == -32700)
        #expect(responses.last?["id"] == 1)
    }
}
