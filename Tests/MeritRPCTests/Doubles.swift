import MeritJSON
import MeritRPC

/// A handler that echoes params, fails on `fail`, records calls, and can fail its commit.
final class RecordingHandler: RequestHandler {
    var calls: [(method: String, call: Int)] = []
    var commits = 0
    var failCommitFromCall: Int?
    var wantsExit = false

    func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError? {
        calls.append((request.method, call))
        switch request.method {
        case "echo": result.write(request.params ?? .null)
        case "fail":
            // A failing handler may have written part of a result: the dispatcher must discard it.
            result.writeRaw("{\"partial\":")
            return RPCError(.conflict, "It failed.")
        case "exit":
            wantsExit = true
            result.write(.null)
        default: return .methodNotFound(request.method)
        }
        return nil
    }

    func sealGroup() -> SealedGroup {
        commits += 1
        return SealedGroup(failure: failCommitFromCall.map { (RPCError(.storageUnavailable, "The disk is full."), $0) })
    }
}

/// Input served from memory in chunks of at most `chunkSize` bytes, to exercise partial reads.
struct MemoryInput: ByteInput {
    var bytes: [UInt8]
    var offset = 0
    var chunkSize: Int

    init(_ text: String, chunkSize: Int = .max) {
        self.bytes = Array(text.utf8)
        self.chunkSize = chunkSize
    }

    init(bytes: [UInt8], chunkSize: Int = .max) {
        self.bytes = bytes
        self.chunkSize = chunkSize
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        let count = min(buffer.count, bytes.count - offset, chunkSize)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
        }
        offset += count
        return count
    }
}

/// Output collected in memory, with a count of writes.
final class MemoryOutput: ByteOutput {
    var bytes: [UInt8] = []
    var writes = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError) {
        writes += 1
        self.bytes.append(contentsOf: bytes)
    }

    var lines: [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map(String.init)
    }
}

extension MemoryOutput {
    struct Reference: ByteOutput {
        let output: MemoryOutput
        mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError) { try output.write(bytes) }
    }
}

/// Run `input` through a connection and return the output lines and the handler.
func serve(_ input: String, chunkSize: Int = .max, maximumLineBytes: Int = 1 << 20) throws -> (
    lines: [String], handler: RecordingHandler, output: MemoryOutput
) {
    let handler = RecordingHandler()
    let output = MemoryOutput()
    var connection = Connection(
        handler: handler, input: MemoryInput(input, chunkSize: chunkSize),
        output: MemoryOutput.Reference(output: output),
        maximumLineBytes: maximumLineBytes)
    try connection.run()
    return (output.lines, handler, output)
}

func parsed(_ lines: [String]) throws -> [JSON] {
    try lines.map { try JSONParser.parse($0) }
}
