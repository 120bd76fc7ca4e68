import MeritDomain
import MeritJSON
import MeritLog

/// The durable event feed: the events of the log, read from any watermark without replaying anything.
///
/// Every event stays in the log's segments, which snapshots and `merit compact` keep (`LogOptions.retainsSegments`),
/// so the feed survives restarts and compaction. A page starts from the segment holding the event after the
/// watermark (each segment's first event sequence is read once, from its first record) or, when a client pages on,
/// from where the previous page stopped; only that segment is mapped while it is read.
final class EventFeed {
    private let reader: LogReader
    /// Each segment's first event sequence, by path (`nil`: the segment holds no event yet).
    private var firstEvents: [String: Int64] = [:]
    /// Where the last page stopped: the record holding the next event, and that record's first event sequence.
    private var resume: (segment: LogReader.Segment, offset: Int, firstSequence: Int64)?

    init(reader: LogReader) {
        self.reader = reader
    }

    /// Up to `limit` events after `after` whose kind is in `kinds` (every kind when `nil`), and whether more follow.
    func events(after: Int64, limit: Int, kinds: Set<ChangeKind>?) throws -> (events: [Event], hasMore: Bool) {
        let segments = try reader.segments()
        var start = try startingSegment(for: after + 1, in: segments)
        var offset = 0
        if let resume, let index = start, segments[index] == resume.segment, resume.firstSequence <= after + 1 {
            offset = resume.offset
        }
        var found: [Event] = []
        var hasMore = false
        var stop: (segment: LogReader.Segment, offset: Int, firstSequence: Int64)?
        while let index = start, index < segments.count, !hasMore {
            let segment = segments[index]
            var position = offset
            try reader.records(in: segment, from: offset) { record, next in
                // A record wholly at or before the watermark is skipped from its head, undecoded.
                if let sequences = try EventCodec.eventSequences(of: record), sequences.upperBound <= after {
                    position = next
                    return true
                }
                let events = try EventCodec.events(of: record)
                for event in events where event.sequence > after {
                    guard kinds?.contains(event.change.kind) ?? true else { continue }
                    if found.count == limit {
                        hasMore = true
                        stop = (segment, position, events.first?.sequence ?? event.sequence)
                        return false
                    }
                    found.append(event)
                }
                position = next
                return true
            }
            start = index + 1
            offset = 0
        }
        resume = stop
        return (found, hasMore)
    }

    /// The index of the segment holding event `sequence`: the last whose first event is at or before it (the first
    /// holding any event when every one starts after it).
    private func startingSegment(for sequence: Int64, in segments: [LogReader.Segment]) throws -> Int? {
        var chosen: Int?
        for (index, segment) in segments.enumerated() {
            guard let first = try firstEvent(of: segment) else { continue }
            if first <= sequence || chosen == nil { chosen = index }
            if first > sequence { break }
        }
        return chosen
    }

    private func firstEvent(of segment: LogReader.Segment) throws -> Int64? {
        if let known = firstEvents[segment.path] { return known }
        var first: Int64?
        try reader.records(in: segment, from: 0) { record, _ in
            first = try EventCodec.firstEventSequence(of: record)
            return first == nil
        }
        // A segment without events yet (the newest, just rolled) is asked again next time.
        if let first { firstEvents[segment.path] = first }
        return first
    }
}

extension Event {
    /// The event as the feed and `event` notifications show it: `{id, sequence, type, created_at, actor_id, data}`,
    /// `data` being the resource as its `get` method shows it (names as they are now).
    func json(in state: State) -> JSON {
        [
            "id": JSON(id), "sequence": .int(sequence), "type": .string(change.type), "created_at": JSON(createdAt),
            "actor_id": JSON(actorID), "data": change.feedData(in: state),
        ]
    }
}

extension Change {
    /// The resource the event carries, as its `get` method shows it.
    func feedData(in state: State) -> JSON {
        let record = resource.record
        if let served = record as? any ServedResource { return served.feedData(for: kind, in: state) }
        return record.json
    }
}
