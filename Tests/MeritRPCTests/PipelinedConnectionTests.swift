import Dispatch
import Glibc
import MeritJSON
import MeritRPC
import Synchronization
import Testing

/// A handler whose every call is a change to make durable, and whose commits wait, on the connection's response
/// writer, until the handler has served the last request: they can only finish (before a timeout) if the
/// connection goes on serving while a commit is being made.
final class SlowDurableHandler: RequestHandler {
    /// What the handler and its commits (on the writer's thread) share.
    final class Shared: Sendable {
        /// The request ids served, in order, and for each commit its group, the ids served before it finished and
        /// the answers written by then.
        let log = Mutex<(served: [Int], commits: [(group: [Int], served: [Int], answered: Int)])>(([], []))
        /// The answers written to the output so far (`CountingOutput`).
        let answered = Atomic<Int>(0)
        let served = DispatchSemaphore(value: 0)
        /// The id of the last request: no commit waits for one after it.
        let last: Int
        /// How long a commit goes on after the last request is served (µs).
        let linger: UInt32
        init(last: Int, linger: UInt32) {
            self.last = last
            self.linger = linger
        }
    }
    let shared: Shared

    init(last: Int, linger: UInt32 = 0) { shared = Shared(last: last, linger: linger) }
    private var pending: [Int] = []
    let wantsExit = false
    var failFirstCommit = false

    func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError? {
        let id = Int(request.id?.json.intValue ?? -1)
        pending.append(id)
        shared.log.withLock { $0.served.append(id) }
        shared.served.signal()
        result.write(.int(Int64(id)))
        return nil
    }

    var hasPendingChanges: Bool { !pending.isEmpty }

    func sealGroup() -> SealedGroup {
        let group = pending
        pending = []
        let fails = failFirstCommit
        failFirstCommit = false
        return SealedGroup(commit: Commit(shared: shared, group: group, fails: fails))
    }

    final class Commit: GroupCommit {
        let shared: Shared
        let group: [Int]
        let fails: Bool

        init(shared: Shared, group: [Int], fails: Bool) {
            self.shared = shared
            self.group = group
            self.fails = fails
        }

        func makeDurable() -> (error: RPCError, firstCall: Int)? {
            // Wait (a while at most) for the last request to be served.
            if let last = group.last, last < shared.last {
                while !shared.log.withLock({ $0.served.contains(shared.last) }) {
                    if shared.served.wait(timeout: .now() + 2) == .timedOut { break }
                }
                usleep(shared.linger)
            }
            let answered = shared.answered.load(ordering: .acquiring)
            shared.log.withLock { $0.commits.append((group, $0.served, answered)) }
            return fails ? (RPCError(.storageUnavailable, "The disk failed."), 0) : nil
        }
    }
}

/// Output to memory that counts the answer lines written, for the handler's commits to see.
struct CountingOutput: ByteOutput {
    let output: MemoryOutput
    let shared: SlowDurableHandler.Shared

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError) {
        try output.write(bytes)
        shared.answered.add(bytes.count { $0 == 0x0A }, ordering: .releasing)
    }
}

@Suite("pipelined commits on a connection")
struct PipelinedConnectionTests {
    static func lines(_ ids: ClosedRange<Int>) -> String {
        ids.map { #"{"jsonrpc":"2.0","id":\#($0),"method":"write"}"# + "\n" }.joined()
    }

    @Test("the next requests are served while a group's commit is made, and answers keep their order")
    func overlap() throws {
        let handler = SlowDurableHandler(last: 8)
        let output = MemoryOutput()
        var connection = Connection(
            handler: handler, input: MemoryInput(Self.lines(1...8)),
            output: CountingOutput(output: output, shared: handler.shared))
        try connection.run()
        let ids = try parsed(output.lines).map { $0["result"]?.intValue }
        #expect(ids == (1...8).map { Int64($0) })
        let (served, commits) = handler.shared.log.withLock { ($0.served, $0.commits) }
        #expect(served == Array(1...8))
        // The first group was sealed once it was as long as what remained, and by the time its commit finished,
        // requests after it had been served.
        #expect(commits.map(\.group) == [Array(1...4), Array(5...8)])
        #expect(commits.first.map { $0.served.count > $0.group.count } == true)
        // A group's answers are written only after its commit: when each commit finished, exactly the answers of
        // the groups before it were out.
        #expect(commits.map(\.answered) == [0, 4])
    }

    @Test("a lone request that comes while the writer holds a group is queued behind it, not answered first")
    func loneRequestWaitsItsTurn() throws {
        // The first commit lasts until 50 ms after request 5 is served; 5 comes alone in the second read.
        let handler = SlowDurableHandler(last: 5, linger: 50_000)
        let output = MemoryOutput()
        let text = Self.lines(1...5)
        let lineBytes = text.utf8.count / 5
        var connection = Connection(
            handler: handler, input: MemoryInput(text, chunkSize: 4 * lineBytes),
            output: MemoryOutput.Reference(output: output))
        try connection.run()
        #expect(try parsed(output.lines).map { $0["result"]?.intValue } == (1...5).map { Int64($0) })
        let commits = handler.shared.log.withLock { $0.commits.map(\.group) }
        #expect(commits == [[1, 2], [3, 4], [5]])
    }

    @Test("a failed commit replaces the answers of its own group only, in order (the engine fails later groups)")
    func failure() throws {
        let handler = SlowDurableHandler(last: 8)
        handler.failFirstCommit = true
        let output = MemoryOutput()
        var connection = Connection(
            handler: handler, input: MemoryInput(Self.lines(1...8)), output: MemoryOutput.Reference(output: output))
        try connection.run()
        let responses = try parsed(output.lines)
        #expect(responses.map { $0["id"]?.intValue } == (1...8).map { Int64($0) })
        let failed = responses.prefix { $0["error"] != nil }.count
        #expect(failed == 4)
        #expect(responses.dropFirst(failed).allSatisfy { $0["result"] != nil })
    }
}
