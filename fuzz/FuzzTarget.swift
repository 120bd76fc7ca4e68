import MeritJSON
import MeritRPC

// A libFuzzer target for the JSON codec and the JSON-RPC transport.
//
// Every input is used twice: as one JSON text, whose round trip through the writer must be exact, and as a byte
// stream fed to a `Connection`, whose output must be well-formed JSON-RPC responses, one line per input line at
// most; the object params of every request also go through a `FieldReader`. The first byte picks the read chunk
// size and the last byte whether the group commit fails.

/// The libFuzzer entry point: runs every check on one input and returns 0; a failed check traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    checkRoundTrip(input)
    checkConnection(input)
    return 0
}

// MARK: - The codec

/// Parse `bytes`; when they are JSON, write the value, parse it again and require the same value.
func checkRoundTrip(_ bytes: UnsafeRawBufferPointer) {
    let value: JSON
    do {
        value = try JSONParser.parse(bytes)
    } catch {
        return
    }
    // Only strings may hold non-ASCII bytes, and the parser must have rejected any that are not UTF-8.
    require(String(validating: bytes, as: UTF8.self) != nil, "the parser accepted invalid UTF-8")
    let written = value.serialized()
    require(
        !written.contains(0x0A) && !written.contains(0x0D), "the writer produced a line break: \(show(written))")
    let reparsed: JSON
    do {
        reparsed = try JSONParser.parse(written)
    } catch {
        fail("the writer's output is not JSON (\(error)): \(show(written))")
    }
    require(reparsed == value, "the round trip changed the value: \(show(written))")
    let rewritten = reparsed.serialized()
    require(rewritten == written, "writing is not stable: \(show(written)) became \(show(rewritten))")
}

/// Trap with `message` unless `condition` holds.
///
/// Unlike `precondition`, which drops its message in optimized builds, this prints the message, so that a crash
/// found by the fuzzer says which check failed.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

/// Trap with `message`, in every build configuration.
func fail(_ message: String) -> Never {
    fatalError(message)
}

/// Bytes as text for a failure message, cut short.
func show(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(1000), as: UTF8.self)
    return bytes.count > 1000 ? text + "… (\(bytes.count) bytes)" : text
}

// MARK: - The transport

/// The longest line the connection under test accepts; small, so that the oversized-line path is taken.
let maximumLineBytes = 256

/// Serve `bytes` through a `Connection` and check every line it writes.
func checkConnection(_ bytes: UnsafeRawBufferPointer) {
    guard let first = bytes.first, let last = bytes.last else { return }
    let chunkSize = Int(first) % 64 + 1
    let handler = FuzzHandler(failCommitFromCall: last & 1 == 1 ? Int(last >> 1) % 4 : nil)
    let output = CollectedOutput()
    var connection = Connection(
        handler: handler, input: ChunkedInput(bytes: bytes, chunkSize: chunkSize),
        output: CollectedOutput.Writer(output: output), maximumLineBytes: maximumLineBytes)
    do {
        try connection.run()
    } catch {
        fail("the connection failed on in-memory streams: \(error)")
    }

    let written = output.bytes
    let inputLines = bytes.count(where: { $0 == 0x0A }) + (last == 0x0A ? 0 : 1)
    guard !written.isEmpty else { return }
    require(written.last == 0x0A, "the output does not end with a line break: \(show(written))")
    let lines = written.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
    require(
        lines.count <= inputLines, "\(lines.count) output lines for \(inputLines) input lines: \(show(written))")
    for line in lines {
        let value: JSON
        do {
            value = try JSONParser.parse(Array(line))
        } catch {
            fail("an output line is not JSON (\(error)): \(show(Array(line)))")
        }
        if case .array(let batch) = value {
            require(!batch.isEmpty, "an empty batch response was written")
            for response in batch { checkResponse(response, line: line) }
        } else {
            checkResponse(value, line: line)
        }
    }
}

/// Require `value` to be a JSON-RPC 2.0 response object: `jsonrpc`, `id` and exactly one of `result` and `error`.
func checkResponse(_ value: JSON, line: ArraySlice<UInt8>) {
    guard case .object(let object) = value else {
        fail("an output line holds \(value.kindName), not a response: \(show(Array(line)))")
    }
    require(object["jsonrpc"] == "2.0", "a response without jsonrpc 2.0: \(show(Array(line)))")
    switch object["id"] {
    case .string?, .int?, .double?, .null?: break
    default: fail("a response without a valid id: \(show(Array(line)))")
    }
    let result = object["result"]
    let error = object["error"]
    require((result == nil) != (error == nil), "a response needs one of result and error: \(show(Array(line)))")
    require(object.count == 3, "a response with extra members: \(show(Array(line)))")
    if let error {
        require(
            error["code"]?.intValue != nil && error["message"]?.stringValue != nil,
            "an error without an integer code and a message: \(show(Array(line)))")
    }
}

/// Echoes `params`, fails the method `fail`, stops after `exit`, and fails its commits from a given call on.
final class FuzzHandler: RequestHandler {
    private let failCommitFromCall: Int?
    private(set) var wantsExit = false

    init(failCommitFromCall: Int?) {
        self.failCommitFromCall = failCommitFromCall
    }

    func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError? {
        require(!wantsExit, "a request was handled after exit")
        switch request.method {
        case "fail":
            // Part of a result written before failing: the dispatcher must discard it.
            result.writeRaw("{\"partial\":[")
            return RPCError(.conflict, "It failed.")
        case "exit":
            wantsExit = true
            result.write(.null)
        default:
            if case .object(let object)? = request.params { checkFieldReader(object) }
            result.write(request.params ?? .null)
        }
        return nil
    }

    func sealGroup() -> SealedGroup {
        SealedGroup(failure: failCommitFromCall.map { (RPCError(.storageUnavailable, "The disk is full."), $0) })
    }
}

/// Read the keys of the even-numbered members of `object` with a `FieldReader`, and require `finish()` to reject
/// exactly the first member whose key was not read.
func checkFieldReader(_ object: JSONObject) {
    let members = object.members
    var read: [String] = []
    var reader: FieldReader
    do {
        reader = try FieldReader(.object(object))
        for (position, member) in members.enumerated() where position % 2 == 0 {
            let value = try reader.required(member.key, as: JSON.self)
            require(value == object[member.key], "FieldReader read another value for \(member.key)")
            read.append(member.key)
        }
    } catch {
        // `required` rejects `null`; nothing is checked for such an object.
        return
    }
    let unread = members.first { member in !read.contains(member.key) }
    do {
        try reader.finish()
        require(unread == nil, "FieldReader.finish() accepted the unread member \(unread?.key ?? "")")
    } catch {
        require(
            error.field == unread?.key,
            "FieldReader.finish() rejected \(error.field), not \(unread?.key ?? "nothing")")
    }
}

/// Input served from memory in chunks of at most `chunkSize` bytes.
struct ChunkedInput: ByteInput {
    let bytes: UnsafeRawBufferPointer
    let chunkSize: Int
    var offset = 0

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        require(buffer.count > 0, "the connection read into an empty buffer, which reads as end of input")
        let count = min(buffer.count, bytes.count - offset, chunkSize)
        guard count > 0 else { return 0 }
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
        offset += count
        return count
    }
}

/// Output collected in memory.
final class CollectedOutput {
    var bytes: [UInt8] = []

    /// A `ByteOutput` appending to a `CollectedOutput`.
    struct Writer: ByteOutput {
        let output: CollectedOutput

        mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError) {
            output.bytes.append(contentsOf: bytes)
        }
    }
}
