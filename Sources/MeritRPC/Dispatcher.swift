import MeritJSON

/// Turns input lines into calls on a `RequestHandler` and collects the responses of one group, following the
/// JSON-RPC 2.0 rules for batches and notifications exactly.
///
/// Responses are held until `flush`, which commits the group and then writes every response in the order the
/// requests arrived. Nothing here does I/O: the connection feeds lines in and takes bytes out.
public struct Dispatcher {
    /// The handler that answers requests. An existential rather than a generic parameter: a generic dispatcher
    /// had its type metadata looked up at run time on every request, which cost more than the dynamic call.
    public let handler: any RequestHandler
    private let maximumDepth: Int
    /// The handler's `compactMembers`, read once.
    private let compactMembers: [String]
    private var entries: [PendingResponse] = []
    private var calls = 0
    /// The results of the group's successful calls, one after another; each entry knows its range.
    private var results = JSONWriter(capacity: 64 * 1024)
    /// The buffers of a group already written, for the next (`reuse`).
    private var spareEntries: [PendingResponse] = []
    private var spareResults: [UInt8] = []

    /// A dispatcher for `handler`; documents nested deeper than `maximumDepth` are parse errors.
    public init(handler: any RequestHandler, maximumDepth: Int = JSONParser.defaultMaximumDepth) {
        self.handler = handler
        self.maximumDepth = maximumDepth
        self.compactMembers = handler.compactMembers
    }

    /// The handler calls made in the current group.
    public var pendingCalls: Int { calls }

    /// Whether responses are waiting for `flush`.
    public var hasPendingOutput: Bool { !entries.isEmpty || calls > 0 }

    /// Handle one line (without its line terminator). Lines of only whitespace are ignored.
    public mutating func receive(line: UnsafeRawBufferPointer) {
        if handler.wantsExit { return }
        var hasContent = false
        for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D {
            hasContent = true
            break
        }
        guard hasContent else { return }
        let value: JSON
        do {
            value = try JSONParser.parse(line, maximumDepth: maximumDepth, compactMembers: compactMembers)
        } catch {
            entries.append(PendingResponse(id: .null, outcome: .failure(.parseError(error.description)), call: -1))
            return
        }
        receive(value)
    }

    /// Answer a line that was longer than the configured maximum.
    public mutating func receiveOversizedLine(limit: Int) {
        if handler.wantsExit { return }
        let error = RPCError.parseError("the line is longer than the maximum of \(limit) bytes, so it was skipped")
        entries.append(PendingResponse(id: .null, outcome: .failure(error), call: -1))
    }

    /// Handle one parsed message: a request, a notification or a batch.
    public mutating func receive(_ value: JSON) {
        guard case .array(let batch) = value else {
            if let entry = dispatch(value) { entries.append(entry) }
            return
        }
        guard !batch.isEmpty else {
            entries.append(
                PendingResponse(
                    id: .null, outcome: .failure(.invalidRequest("an empty batch is not a request")), call: -1))
            return
        }
        let first = entries.count
        for element in batch {
            if handler.wantsExit { break }
            if let entry = dispatch(element) { entries.append(entry) }
        }
        if entries.count > first {
            entries[first].opensBatch = true
            entries[entries.count - 1].closesBatch = true
        }
    }

    private mutating func dispatch(_ value: JSON) -> PendingResponse? {
        switch Request.decode(value) {
        case .failure(let invalid):
            return PendingResponse(id: invalid.id, outcome: .failure(.invalidRequest(invalid.reason)), call: -1)
        case .success(let request):
            let call = calls
            calls += 1
            let start = results.bytes.count
            let failure = handler.handle(request, call: call, result: &results)
            guard let id = request.id else {
                results.bytes.removeSubrange(start...)
                return nil
            }
            if let failure {
                results.bytes.removeSubrange(start...)
                return PendingResponse(id: id, outcome: .failure(failure), call: call)
            }
            return PendingResponse(id: id, outcome: .success(start..<results.bytes.count), call: call)
        }
    }

    /// Commit the group and write its responses, then its notifications, one per line.
    public mutating func flush(into writer: inout JSONWriter) {
        let group = seal()
        group.write(into: &writer)
        reuse(group)
    }

    /// End the group: the handler seals it, and its responses are taken out, to be written by
    /// `OutgoingGroup.write(into:)` (once its changes are durable) here or on another thread, while the next
    /// group is handled.
    public mutating func seal() -> OutgoingGroup {
        let sealed = calls > 0 ? handler.sealGroup() : nil
        let group = OutgoingGroup(entries: entries, results: results.bytes, sealed: sealed)
        entries = spareEntries
        results.bytes = spareResults
        if results.bytes.capacity == 0 { results.bytes.reserveCapacity(64 * 1024) }
        spareEntries = []
        spareResults = []
        calls = 0
        return group
    }

    /// Keep a written group's buffers for a later group, so that serving one group at a time allocates none.
    public mutating func reuse(_ group: consuming OutgoingGroup) {
        spareEntries = group.entries
        spareEntries.removeAll(keepingCapacity: true)
        spareResults = group.results
        spareResults.removeAll(keepingCapacity: spareResults.capacity <= 1 << 20)
    }
}

/// A sealed group's responses, ready to write once its changes are durable. Moved from the connection's thread to
/// its response writer whole, never shared.
public struct OutgoingGroup: @unchecked Sendable {
    fileprivate var entries: [PendingResponse]
    /// The results of the group's successful calls, one after another; each entry knows its range.
    fileprivate var results: [UInt8]
    fileprivate let sealed: SealedGroup?

    /// Make the group's changes durable, then write its responses (in the order the requests arrived, the answers
    /// of calls whose change was lost replaced by the error), then, if its commit succeeded, its notifications.
    public func write(into writer: inout JSONWriter) {
        let failure = sealed?.commit?.makeDurable()
        var insideBatch = false
        for entry in entries {
            var outcome = entry.outcome
            if let failure, entry.call >= failure.firstCall {
                outcome = .failure(failure.error)
            }
            if entry.opensBatch {
                writer.writeRaw("[")
                insideBatch = true
            } else if insideBatch {
                writer.writeRaw(",")
            }
            writer.writeRaw("{\"jsonrpc\":\"2.0\",\"id\":")
            writer.write(entry.id.json)
            switch outcome {
            case .success(let range):
                writer.writeRaw(",\"result\":")
                results.withUnsafeBytes { writer.writeRaw(UnsafeRawBufferPointer(rebasing: $0[range])) }
            case .failure(let error):
                writer.writeRaw(",\"error\":")
                writer.write(error.json)
            }
            writer.writeRaw("}")
            if entry.closesBatch {
                writer.writeRaw("]\n")
                insideBatch = false
            } else if !insideBatch {
                writer.writeRaw("\n")
            }
        }
        guard failure == nil, let sealed else { return }
        for notification in sealed.notifications {
            writeNotification(method: notification.method, params: notification.params, to: &writer)
            writer.writeRaw("\n")
        }
    }
}

/// One response of a group, held until the group is committed; a batch is a run of these between `opensBatch`
/// and `closesBatch`.
private struct PendingResponse {
    var id: RequestID
    /// The result's bytes in the dispatcher's `results`, or the error.
    var outcome: Result<Range<Int>, RPCError>
    /// The handler call that produced it, or -1 when the dispatcher answered by itself.
    var call: Int
    var opensBatch = false
    var closesBatch = false
}
