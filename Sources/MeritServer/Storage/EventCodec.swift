import MeritDomain
import MeritJSON
import MeritLog

/// How events are written to and read from the log: one record per transaction, holding its events.
///
/// The log writes records of type 3: the transaction's events in the binary form of `BinaryWriter`, each as its
/// change kind's code and schema version (one byte each), sequence, time, id, actor (a byte: 0 none, 1 a person, 2 a
/// key acting as no person, then that id) and then its resource. Logs written before that hold records of type 2,
/// the same but with each id as a string of its text and the actor as an optional string, and of type 1, a JSON
/// array of `{id, sequence, type, v, created_at, actor_id, data}`; both are still read. Either way the kind and the
/// schema version say how to read the data (`ChangeKind`'s table), so a log written today still replays after the
/// domain grows; a kind or version this build does not know is refused with a message, never guessed at.
enum EventCodec {
    /// The record type of a transaction's events as JSON (written by earlier versions; still read).
    static let transactionRecordType: UInt16 = 1
    /// The record type of a transaction's events in the binary form with ids as text (written by earlier versions;
    /// still read).
    static let textIDTransactionRecordType: UInt16 = 2
    /// The record type of a transaction's events in the binary form (written now).
    static let binaryTransactionRecordType: UInt16 = 3

    /// The payload of one transaction's record, in the binary form: the events of `changes`, numbered from
    /// `firstSequence`, made at `createdAt` by `actor` (stored as its person's id, or its key's when it acts as
    /// no person), each with an id from `newID`. (The changes are read in place: building `Event` values first
    /// copied each change twice on the write path.)
    static func encodeBinaryTransaction(
        _ changes: [Change], firstSequence: Int64, createdAt: Timestamp, actor: Principal?,
        newID: () -> ID<Event>
    ) -> BinaryWriter {
        var writer = BinaryWriter(capacity: 256)
        encodeBinaryTransaction(
            changes, firstSequence: firstSequence, createdAt: createdAt, actor: actor, newID: newID, into: &writer)
        return writer
    }

    /// `encodeBinaryTransaction(_:firstSequence:createdAt:actor:newID:)` into `writer`, after what it holds: the
    /// engine writes every record into one writer, which then has room for a summary's body the next time too.
    static func encodeBinaryTransaction(
        _ changes: [Change], firstSequence: Int64, createdAt: Timestamp, actor: Principal?,
        newID: () -> ID<Event>, into writer: inout BinaryWriter
    ) {
        writer.varint(changes.count)
        for (offset, change) in changes.enumerated() {
            writer.byte(change.kind.rawValue)
            writer.byte(UInt8(change.kind.row.version))
            writer.int(firstSequence + Int64(offset))
            writer.timestamp(createdAt)
            writer.id(newID())
            if let person = actor?.personID {
                writer.byte(ActorTag.person)
                writer.id(person)
            } else if let key = actor?.keyID {
                writer.byte(ActorTag.key)
                writer.id(key)
            } else {
                writer.byte(ActorTag.none)
            }
            change.resource.encode(to: &writer)
        }
    }

    /// The events of one transaction's binary record, of type 3 (`binaryIDs`) or 2.
    static func decodeBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool = true
    ) throws(StoredFormError) -> [Event] {
        var events: [Event] = []
        try readBinaryTransaction(payload, binaryIDs: binaryIDs) { reader, header throws(StoredFormError) in
            let id: ID<Event> = try reader.id()
            let actorID = try readActor(&reader)
            events.append(
                Event(
                    id: id, sequence: header.sequence, createdAt: header.createdAt, actorID: actorID,
                    change: try decodeChange(header.kind, &reader)))
        }
        return events
    }

    /// Hand `apply` the change and sequence of each event of one transaction's binary record, of type 3
    /// (`binaryIDs`) or 2, reading only what the state keeps.
    static func replayBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool = true,
        _ apply: (consuming Change, _ sequence: Int64) -> Void
    ) throws(StoredFormError) {
        try readBinaryTransaction(payload, binaryIDs: binaryIDs) { reader, header throws(StoredFormError) in
            // The event's id and actor are not part of the state.
            try reader.skipID()
            try skipActor(&reader)
            apply(try decodeChange(header.kind, &reader), header.sequence)
        }
    }

    /// The byte before an event's actor in a record of type 3: what kind of id follows, if any.
    private enum ActorTag {
        static let none: UInt8 = 0
        static let person: UInt8 = 1
        static let key: UInt8 = 2
    }

    /// An event's actor as its id's text: a tagged id in a record of type 3, an optional string in type 2.
    private static func readActor(_ reader: inout BinaryReader) throws(StoredFormError) -> String? {
        guard reader.binaryIDs else { return try reader.optionalString() }
        switch try reader.byte() {
        case ActorTag.none: return nil
        case ActorTag.person: return (try reader.id() as ID<Person>).text
        case ActorTag.key: return (try reader.id() as ID<APIKey>).text
        case let tag: throw reader.failure("unknown actor tag \(tag)")
        }
    }

    /// Skip an event's actor, as `readActor` reads it, without making its text.
    private static func skipActor(_ reader: inout BinaryReader) throws(StoredFormError) {
        guard reader.binaryIDs else { return try reader.skipOptionalString() }
        switch try reader.byte() {
        case ActorTag.none: return
        case ActorTag.person, ActorTag.key: try reader.skipID()
        case let tag: throw reader.failure("unknown actor tag \(tag)")
        }
    }

    /// What precedes an event's id in the binary form.
    struct BinaryHeader {
        var kind: ChangeKind
        var sequence: Int64
        var createdAt: Timestamp
    }

    /// Read a binary record's events: `event` reads each one's id, actor and data after its header.
    private static func readBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool,
        _ event: (inout BinaryReader, BinaryHeader) throws(StoredFormError) -> Void
    ) throws(StoredFormError) {
        var reader = BinaryReader(payload, binaryIDs: binaryIDs)
        let count = try reader.varint()
        for _ in 0..<count {
            reader.changeKind = nil
            reader.what = "event"
            let code = try reader.byte()
            guard let kind = ChangeKind(rawValue: code) else {
                throw reader.failure("unknown event type code \(code); upgrade merit")
            }
            let version = Int(try reader.byte())
            try checkVersion(version, of: kind) { reader.failure($0) }
            reader.schemaVersion = version
            let header = BinaryHeader(kind: kind, sequence: try reader.int(), createdAt: try reader.timestamp())
            try event(&reader, header)
        }
        guard reader.isAtEnd else { throw reader.failure("data follows the last event") }
    }

    /// Refuse a schema version this build cannot read.
    private static func checkVersion(
        _ version: Int, of kind: ChangeKind, _ failure: (String) -> StoredFormError
    ) throws(StoredFormError) {
        guard version >= 1 && version <= kind.row.version else {
            throw failure(
                "an event of type \(kind.row.type) has schema version \(version); this merit reads up to "
                    + "\(kind.row.version): upgrade merit")
        }
    }

    /// The change of `kind`, read from its binary data.
    @inline(__always)
    private static func decodeChange(_ kind: ChangeKind, _ reader: inout BinaryReader) throws(StoredFormError)
        -> Change
    {
        reader.changeKind = kind
        return Change(kind: kind, decoding: try Resource.decode(kind.row.resource, from: &reader))
    }

    /// The events of a record of any type this build reads.
    static func events(of record: LogRecord) throws(StoredFormError) -> [Event] {
        switch record.type {
        case binaryTransactionRecordType: return try decodeBinaryTransaction(record.payload)
        case textIDTransactionRecordType: return try decodeBinaryTransaction(record.payload, binaryIDs: false)
        case transactionRecordType: return try decodeTransaction(record.payload)
        default: throw StoredFormError("record \(record.sequence) has unknown type \(record.type)")
        }
    }

    /// The sequence of a record's first event, read from its head alone for the binary forms.
    static func firstEventSequence(of record: LogRecord) throws(StoredFormError) -> Int64? {
        try eventSequences(of: record)?.lowerBound
    }

    /// The sequences of a record's events (they are consecutive), read from its head alone for the binary forms;
    /// `nil` for a record without events. What lets the feed skip a record before a watermark undecoded.
    static func eventSequences(of record: LogRecord) throws(StoredFormError) -> ClosedRange<Int64>? {
        guard record.type == binaryTransactionRecordType || record.type == textIDTransactionRecordType else {
            let events = try events(of: record)
            guard let first = events.first?.sequence, let last = events.last?.sequence else { return nil }
            return first...last
        }
        var reader = BinaryReader(record.payload)
        let count = try reader.varint()
        guard count > 0 else { return nil }
        _ = try reader.byte()
        _ = try reader.byte()
        let first = try reader.int()
        return first...(first + Int64(count) - 1)
    }

    /// The events of one transaction's JSON record (written by earlier versions).
    static func decodeTransaction(_ payload: UnsafeRawBufferPointer) throws(StoredFormError) -> [Event] {
        guard !payload.isEmpty else { throw StoredFormError("the record is empty") }
        let value: JSON
        do {
            value = try JSONParser.parse(payload)
        } catch {
            throw StoredFormError("the record is malformed: \(error)")
        }
        guard case .array(let elements) = value else { throw StoredFormError("the record is not an array of events") }
        var events: [Event] = []
        for element in elements { events.append(try decodeEvent(element)) }
        return events
    }

    /// One event of a JSON record: its envelope, then its data as its type and version say.
    private static func decodeEvent(_ value: JSON) throws(StoredFormError) -> Event {
        func field<Value>(_ key: String, _ read: (JSON) -> Value?) throws(StoredFormError) -> Value {
            guard let member = value[key], let result = read(member) else {
                throw StoredFormError("event.\(key) is missing or malformed")
            }
            return result
        }
        let type = try field("type", \.stringValue)
        guard let kind = ChangeKind(type: type) else {
            throw StoredFormError("unknown event type \(type); upgrade merit")
        }
        let version = Int(try field("v", \.intValue))
        let id: ID<Event> = try field("id") { $0.stringValue.flatMap { ID($0) } }
        try checkVersion(version, of: kind) { StoredFormError("event \(id): \($0)") }
        let actor = value["actor_id"]
        guard actor == nil || actor == .null || actor?.stringValue != nil else {
            throw StoredFormError("event.actor_id is malformed")
        }
        return Event(
            id: id, sequence: try field("sequence", \.intValue),
            createdAt: try field("created_at") { $0.stringValue.flatMap { Timestamp(rfc3339: $0) } },
            actorID: actor?.stringValue,
            change: Change(
                kind: kind,
                decoding: try StoredJSONDecoder.decode(
                    kind.row.resource, from: try field("data") { $0 }, what: type, schemaVersion: version)))
    }
}

extension ChangeKind {
    /// The kind whose wire type is `type`.
    init?(type: String) {
        guard let kind = Self.byType[type] else { return nil }
        self = kind
    }

    private static let byType: [String: ChangeKind] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.row.type, $0) })
}
