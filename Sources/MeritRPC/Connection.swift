import Dispatch
import MeritJSON
import Synchronization

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
/// Commits are pipelined: once a group holds changes (`RequestHandler.hasPendingChanges`) and more lines are
/// waiting, the group is sealed and handed to the response writer, a thread that makes it durable and writes its
/// responses, while this thread handles the lines after it; the next group is sealed when the writer is free again.
/// So the time a commit spends in `fdatasync` is spent serving the next requests, and groups grow with the load.
/// What the writer has not taken yet when the input runs dry is sealed and queued behind it; when it is idle, the
/// group is committed and written on this thread, so a client sending one request at a time never waits for a
/// hand-over.
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
        let writer = ResponseWriter(output)
        defer {
            // The same output, handed back.
            if let output = writer.output as? Output { self.output = output }
        }
        do throws(StreamError) {
            try serve(writer)
        } catch {
            writer.finish()
            throw error
        }
        writer.finish()
        if let failure = writer.failure { throw failure }
    }

    private mutating func serve(_ responses: ResponseWriter) throws(StreamError) {
        // The buffer starts small and grows to hold the longest acceptable line plus its "\r\n".
        let largest = maximumLineBytes + 2
        var capacity = min(64 * 1024, largest)
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        var scanned = 0
        var discarding = false

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
                try flush(responses)
                return
            }
            filled += count
            var lineStart = 0
            // Where the lines of the group being served begin in the buffer.
            var groupStart = 0
            var next = memchr(buffer.baseAddress! + scanned, 0x0A, filled - scanned)
            while let found = next {
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
                next = scanned < filled ? memchr(buffer.baseAddress! + scanned, 0x0A, filled - scanned) : nil
                // The writer is free, this group has changes to make durable, and it is at least as long as the lines
                // still waiting: it goes now, and those are served while it is written. (Sealing at the first line
                // would spend a whole fdatasync on one request.)
                if next != nil && lineStart - groupStart >= filled - lineStart && dispatcher.handler.hasPendingChanges
                    && responses.isIdle
                {
                    responses.submit(dispatcher.seal())
                    groupStart = lineStart
                }
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
            try flush(responses)
        }
        try flush(responses)
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

    /// Seal the group and write it: behind what the writer holds; on this thread when the writer is idle and the
    /// group is one request or has nothing to make durable (so that a client sending one request at a time never
    /// waits for a hand-over), on the writer's otherwise (so that this thread goes on reading while it is written).
    private mutating func flush(_ responses: ResponseWriter) throws(StreamError) {
        if let failure = responses.failure { throw failure }
        guard dispatcher.hasPendingOutput else { return }
        let here = dispatcher.pendingCalls <= 1 || !dispatcher.handler.hasPendingChanges
        let group = dispatcher.seal()
        if here && responses.isIdle {
            try responses.write(group)
            dispatcher.reuse(group)
        } else {
            responses.submit(group)
        }
    }
}

/// Writes sealed groups once they are durable, in order: on its own thread (`submit`), or on the connection's
/// while it is idle (`write`). Its output and buffer belong to whichever thread is writing: the connection's only
/// when nothing is queued (`isIdle`), since the queue hands them over.
///
/// The output is held as an existential, not as a generic parameter, so that the writer's thread is handed no
/// metatype that may not be sent.
private final class ResponseWriter: @unchecked Sendable {
    private(set) var output: any ByteOutput
    private var writer = JSONWriter(capacity: 64 * 1024)
    /// Why the output could not be written, if it could not (set on the writer's thread, read on the connection's).
    var failure: StreamError? { failed.withLock { $0 } }
    private let failed = Mutex<StreamError?>(nil)
    private let queue = DispatchQueue(label: "merit.responses")
    /// Groups submitted and not yet written.
    private let queued = Atomic<Int>(0)

    init(_ output: any ByteOutput) {
        self.output = output
    }

    /// Whether every submitted group is written, so that the connection's thread may write.
    var isIdle: Bool { queued.load(ordering: .acquiring) == 0 }

    /// The groups the writer may hold before the connection waits for it to write them: a client that sends
    /// without reading gets its answers held back by the pipe, and this bounds what waits in memory behind them.
    static let depth = 8

    /// Write `group` on the writer's thread, after those submitted before it (once fewer than `depth` wait).
    func submit(_ group: OutgoingGroup) {
        if queued.load(ordering: .acquiring) >= Self.depth { queue.sync {} }
        queued.add(1, ordering: .relaxed)
        queue.async {
            do throws(StreamError) {
                try self.write(group)
            } catch {
                self.failed.withLock { $0 = error }
            }
            self.queued.subtract(1, ordering: .releasing)
        }
    }

    /// Make `group` durable and write its responses (on the writer's thread, or the connection's while idle).
    func write(_ group: OutgoingGroup) throws(StreamError) {
        writer.bytes.removeAll(keepingCapacity: true)
        group.write(into: &writer)
        if writer.bytes.isEmpty || failure != nil { return }
        let result: Result<Void, StreamError> = writer.bytes.withUnsafeBytes { bytes in
            do throws(StreamError) {
                try output.write(bytes)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if writer.bytes.count > 1 << 20 {
            writer = JSONWriter(capacity: 64 * 1024)
        }
        try result.get()
    }

    /// Wait until every submitted group is written.
    func finish() {
        queue.sync {}
    }
}
