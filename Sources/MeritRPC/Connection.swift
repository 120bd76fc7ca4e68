import MeritJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves JSON-RPC 2.0 over a byte stream, one message per line.
///
/// The loop reads what input is available, handles every complete line of it, commits the group, then writes
/// all of the group's responses with one write. So requests that arrive together share one commit and one
/// write, and a client that sends one request at a time gets its answer without waiting for more input.
///
/// Lines end with `\n`; a `\r` before it is ignored. A line longer than `maximumLineBytes` is answered with a
/// parse error and skipped without being buffered whole, and the connection keeps serving. At end of input a
/// final unterminated line is still handled, every response is flushed, and `run` returns.
public struct Connection<Input: ByteInput, Output: ByteOutput> {
    /// The largest line accepted by default: 16 MiB.
    public static var defaultMaximumLineBytes: Int { 16 << 20 }

    private var dispatcher: Dispatcher
    private var input: Input
    private var output: Output
    private let maximumLineBytes: Int

    /// A connection answering with `handler`.
    public init(
        handler: any RequestHandler, input: Input, output: Output, maximumLineBytes: Int = Self.defaultMaximumLineBytes,
        maximumDepth: Int = JSONParser.defaultMaximumDepth
    ) {
        self.dispatcher = Dispatcher(handler: handler, maximumDepth: maximumDepth)
        self.input = input
        self.output = output
        self.maximumLineBytes = max(1, maximumLineBytes)
    }

    /// Serve until end of input or `exit`; throws when the output cannot be written or the input read.
    public mutating func run() throws(StreamError) {
        // The buffer starts small and grows to hold the longest acceptable line plus its "\r\n".
        let largest = maximumLineBytes + 2
        var capacity = min(64 * 1024, largest)
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        var scanned = 0
        var discarding = false
        var writer = JSONWriter(capacity: 64 * 1024)

        while !dispatcher.handler.wantsExit {
            if filled == capacity {
                if capacity < largest {
                    capacity = min(capacity * 2, largest)
                    let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
                    grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
                    buffer.deallocate()
                    buffer = grown
                } else {
                    // The partial line already exceeds the limit: drop it and skip to its end.
                    discarding = true
                    filled = 0
                    scanned = 0
                }
            }
            let count = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<capacity]))
            if count == 0 {
                if discarding {
                    dispatcher.receiveOversizedLine(limit: maximumLineBytes)
                } else if filled > 0 {
                    handleLine(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
                }
                try flush(&writer)
                return
            }
            filled += count
            var lineStart = 0
            while scanned < filled,
                let found = memchr(buffer.baseAddress! + scanned, 0x0A, filled - scanned)
            {
                let newline = buffer.baseAddress!.distance(to: found)
                if discarding {
                    discarding = false
                    dispatcher.receiveOversizedLine(limit: maximumLineBytes)
                } else {
                    handleLine(UnsafeRawBufferPointer(rebasing: buffer[lineStart..<newline]))
                }
                lineStart = newline + 1
                scanned = lineStart
                if dispatcher.handler.wantsExit { break }
            }
            if discarding {
                filled = 0
                scanned = 0
            } else {
                if lineStart > 0 {
                    let remaining = filled - lineStart
                    if remaining > 0 {
                        memmove(buffer.baseAddress!, buffer.baseAddress! + lineStart, remaining)
                    }
                    filled = remaining
                }
                scanned = filled
            }
            try flush(&writer)
        }
        try flush(&writer)
    }

    private mutating func handleLine(_ line: UnsafeRawBufferPointer) {
        var line = line
        if let last = line.last, last == 0x0D {
            line = UnsafeRawBufferPointer(rebasing: line.dropLast())
        }
        if line.count > maximumLineBytes {
            dispatcher.receiveOversizedLine(limit: maximumLineBytes)
        } else {
            dispatcher.receive(line: line)
        }
    }

    private mutating func flush(_ writer: inout JSONWriter) throws(StreamError) {
        guard dispatcher.hasPendingOutput else { return }
        writer.bytes.removeAll(keepingCapacity: true)
        dispatcher.flush(into: &writer)
        guard !writer.bytes.isEmpty else { return }
        let result: Result<Void, StreamError> = writer.bytes.withUnsafeBytes { bytes in
            do throws(StreamError) {
                try output.write(bytes)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        if writer.bytes.count > 1 << 20 {
            writer = JSONWriter(capacity: 64 * 1024)
        }
    }
}
