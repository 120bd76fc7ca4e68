import MeritDomain
import MeritJSON

/// How events are written to and read from the log: one record per transaction, holding its events.
///
/// The log writes records of type 3: the transaction's events in the binary form of `BinaryWriter`, each as its
/// type code and schema version (one byte each), sequence, time, id, actor (a byte: 0 none, 1 a person, 2 a key
/// acting as no person, then that id) and then its data. Logs written before that hold records of type 2, the same
/// but with each id as a string of its text and the actor as an optional string, and of type 1, a JSON array of
/// `{id, sequence, type, v, created_at, actor_id, data}`; both are still read. Either way the type and the schema
/// version say how to read the data, so a log written today still replays after the domain grows; a version newer
/// than this build knows is refused with a message, never guessed at.
enum EventCodec {
    /// The record type of a transaction's events as JSON (written by earlier versions; still read).
    static let transactionRecordType: UInt16 = 1
    /// The record type of a transaction's events in the binary form with ids as text (written by earlier versions;
    /// still read).
    static let textIDTransactionRecordType: UInt16 = 2
    /// The record type of a transaction's events in the binary form (written now).
    static let binaryTransactionRecordType: UInt16 = 3

    /// The binary form's code for each event type: stable, never reused.
    static func code(of change: Change) -> UInt8 {
        switch change {
        case .organizationCreated: return 1
        case .organizationUpdated: return 2
        case .keyCreated: return 3
        case .keyRevoked: return 4
        case .personCreated: return 5
        case .personUpdated: return 6
        case .templateCreated: return 7
        case .templateUpdated: return 8
        case .observationCreated: return 9
        case .objectiveCreated: return 10
        case .notificationCreated: return 11
        case .notificationRead: return 12
        }
    }

    /// The payload of one transaction's record, in the binary form: the events of `changes`, numbered from
    /// `firstSequence`, made at `createdAt` by `actor` (stored as its person's id, or its key's when it acts as
    /// no person), each with an id from `newID`. (The changes are read in place: building `Event` values first
    /// copied each change twice on the write path.)
    static func encodeBinaryTransaction(
        _ changes: [Change], firstSequence: Int64, createdAt: Timestamp, actor: Principal?,
        newID: () -> ID<Event>
    ) -> BinaryWriter {
        var writer = BinaryWriter(capacity: 256)
        writer.varint(changes.count)
        for (offset, change) in changes.enumerated() {
            writer.byte(code(of: change))
            writer.byte(UInt8(currentVersion))
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
            switch change {
            case .organizationCreated(let organization), .organizationUpdated(let organization):
                organization.encode(to: &writer)
            case .keyCreated(let key), .keyRevoked(let key): key.encode(to: &writer)
            case .personCreated(let person), .personUpdated(let person): person.encode(to: &writer)
            case .templateCreated(let template), .templateUpdated(let template): template.encode(to: &writer)
            case .observationCreated(let observation): observation.encode(to: &writer)
            case .objectiveCreated(let objective): objective.encode(to: &writer)
            case .notificationCreated(let notification), .notificationRead(let notification):
                notification.encode(to: &writer)
            }
        }
        return writer
    }

    /// The events of one transaction's binary record, of type 3 (`binaryIDs`) or 2.
    static func decodeBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool = true
    ) throws(DecodingError) -> [Event] {
        var events: [Event] = []
        try readBinaryTransaction(payload, binaryIDs: binaryIDs) { reader, header throws(DecodingError) in
            let id: ID<Event> = try reader.id()
            let actorID = try readActor(&reader)
            events.append(
                Event(
                    id: id, sequence: header.sequence, createdAt: header.createdAt, actorID: actorID,
                    change: try decodeChange(code: header.code, &reader)))
        }
        return events
    }

    /// Hand `apply` the change and sequence of each event of one transaction's binary record, of type 3
    /// (`binaryIDs`) or 2, reading only what the state keeps.
    static func replayBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool = true,
        _ apply: (consuming Change, _ sequence: Int64) -> Void
    ) throws(DecodingError) {
        try readBinaryTransaction(payload, binaryIDs: binaryIDs) { reader, header throws(DecodingError) in
            // The event's id and actor are not part of the state.
            try reader.skipID()
            try skipActor(&reader)
            apply(try decodeChange(code: header.code, &reader), header.sequence)
        }
    }

    /// The byte before an event's actor in a record of type 3: what kind of id follows, if any.
    private enum ActorTag {
        static let none: UInt8 = 0
        static let person: UInt8 = 1
        static let key: UInt8 = 2
    }

    /// An event's actor as its id's text: a tagged id in a record of type 3, an optional string in type 2.
    private static func readActor(_ reader: inout BinaryReader) throws(DecodingError) -> String? {
        guard reader.binaryIDs else { return try reader.optionalString() }
        switch try reader.byte() {
        case ActorTag.none: return nil
        case ActorTag.person: return (try reader.id() as ID<Person>).text
        case ActorTag.key: return (try reader.id() as ID<APIKey>).text
        case let tag: throw reader.failure("unknown actor tag \(tag)")
        }
    }

    /// Skip an event's actor, as `readActor` reads it, without making its text.
    private static func skipActor(_ reader: inout BinaryReader) throws(DecodingError) {
        guard reader.binaryIDs else { return try reader.skipOptionalString() }
        switch try reader.byte() {
        case ActorTag.none: return
        case ActorTag.person, ActorTag.key: try reader.skipID()
        case let tag: throw reader.failure("unknown actor tag \(tag)")
        }
    }

    /// What precedes an event's id in the binary form.
    struct BinaryHeader {
        var code: UInt8
        var sequence: Int64
        var createdAt: Timestamp
    }

    /// Read a binary record's events: `event` reads each one's id, actor and data after its header.
    private static func readBinaryTransaction(
        _ payload: UnsafeRawBufferPointer, binaryIDs: Bool,
        _ event: (inout BinaryReader, BinaryHeader) throws(DecodingError) -> Void
    ) throws(DecodingError) {
        var reader = BinaryReader(payload, binaryIDs: binaryIDs)
        let count = try reader.varint()
        for _ in 0..<count {
            reader.what = "event"
            let code = try reader.byte()
            let version = Int64(try reader.byte())
            guard version >= 1 && version <= currentVersion else {
                throw reader.failure(
                    "an event of type code \(code) has schema version \(version); this merit reads up to "
                        + "\(currentVersion): upgrade merit")
            }
            let header = BinaryHeader(code: code, sequence: try reader.int(), createdAt: try reader.timestamp())
            try event(&reader, header)
        }
        guard reader.isAtEnd else { throw reader.failure("data follows the last event") }
    }

    /// The change an event with type `code` records, read from its binary data.
    private static func decodeChange(code: UInt8, _ reader: inout BinaryReader) throws(DecodingError) -> Change {
        switch code {
        case 1: return .organizationCreated(try Organization(from: &reader))
        case 2: return .organizationUpdated(try Organization(from: &reader))
        case 3: return .keyCreated(try APIKey(from: &reader))
        case 4: return .keyRevoked(try APIKey(from: &reader))
        case 5: return .personCreated(try Person(from: &reader))
        case 6: return .personUpdated(try Person(from: &reader))
        case 7: return .templateCreated(try Template(from: &reader))
        case 8: return .templateUpdated(try Template(from: &reader))
        case 9: return .observationCreated(try Observation(from: &reader))
        case 10: return .objectiveCreated(try Objective(from: &reader))
        case 11: return .notificationCreated(try Notification(from: &reader))
        case 12: return .notificationRead(try Notification(from: &reader))
        default: throw reader.failure("unknown event type code \(code); upgrade merit")
        }
    }

    /// The schema version written for each event type; readers accept every version up to it.
    static let currentVersion: Int64 = 1

    /// The resource after `change`, as the API shows it (never a key's hash).
    static func resource(_ change: Change) -> JSON {
        switch change {
        case .organizationCreated(let organization), .organizationUpdated(let organization): return organization.json
        case .keyCreated(let key), .keyRevoked(let key): return key.json
        case .personCreated(let person), .personUpdated(let person): return person.json
        case .templateCreated(let template), .templateUpdated(let template): return template.json
        case .observationCreated(let observation): return observation.json
        case .objectiveCreated(let objective): return objective.json
        case .notificationCreated(let notification), .notificationRead(let notification): return notification.json
        }
    }

    /// The events of one transaction's JSON record (written by earlier versions).
    static func decodeTransaction(_ payload: UnsafeRawBufferPointer) throws(DecodingError) -> [Event] {
        guard !payload.isEmpty else { throw DecodingError(description: "the record is empty") }
        let events = try JSONParser.pull(payload) { reader throws(DecodingError) -> [Event] in
            do throws(JSONParseError) {
                return try storedArray(&reader) { reader throws(DecodingError) in try decode(&reader, in: payload) }
            } catch {
                throw DecodingError(description: "the record is malformed: \(error)")
            }
        }
        guard let events else { throw DecodingError(description: "the record has data after its events") }
        return events
    }

    /// The event that comes next in `reader`, which reads `payload`.
    static func decode(_ reader: inout JSONParser, in payload: UnsafeRawBufferPointer) throws(DecodingError) -> Event {
        var id: ID<Event>?, sequence: Int64?, type: String?, version: Int64?, createdAt: Timestamp?
        var actorID: String?
        var change: Change?
        // `data` is read in place when `type` and `v` came first, as this version writes them; otherwise its bytes
        // are read once the whole envelope is known.
        var dataBytes: Range<Int>?
        try reader.storedObject("event") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "sequence": sequence = try reader.int()
            case "type": type = try reader.string()
            case "v": version = try reader.int()
            case "created_at": createdAt = try reader.timestamp()
            case "actor_id": actorID = try reader.optionalString()
            case "data":
                if let type, let version, (1...currentVersion).contains(version) {
                    change = try stored(&reader) { reader throws(DecodingError) in try decodeChange(type, &reader) }
                } else {
                    let start = reader.offset
                    _ = try reader.value()
                    dataBytes = start..<reader.offset
                }
            default: return false
            }
            return true
        }
        let eventType = try required(type, "event", "type")
        let eventVersion = try required(version, "event", "v")
        guard eventVersion >= 1 && eventVersion <= currentVersion else {
            throw DecodingError(
                description: "event \(id?.text ?? "?") of type \(eventType) has schema version \(eventVersion); "
                    + "this merit reads up to \(currentVersion): upgrade merit")
        }
        if change == nil, let dataBytes {
            let decoded = try JSONParser.pull(UnsafeRawBufferPointer(rebasing: payload[dataBytes])) {
                reader throws(DecodingError) in try decodeChange(eventType, &reader)
            }
            change = decoded
        }
        return Event(
            id: try required(id, "event", "id"), sequence: try required(sequence, "event", "sequence"),
            createdAt: try required(createdAt, "event", "created_at"), actorID: actorID,
            change: try required(change, "event", "data"))
    }

    /// The change an event of `type` records, read from its `data`.
    static func decodeChange(_ type: String, _ reader: inout JSONParser) throws(DecodingError) -> Change {
        switch type {
        case "person.updated": return .personUpdated(try Person(stored: &reader))
        case "person.created": return .personCreated(try Person(stored: &reader))
        case "organization.created": return .organizationCreated(try Organization(stored: &reader))
        case "organization.updated": return .organizationUpdated(try Organization(stored: &reader))
        case "key.created": return .keyCreated(try APIKey(stored: &reader))
        case "key.revoked": return .keyRevoked(try APIKey(stored: &reader))
        case "template.created": return .templateCreated(try Template(stored: &reader))
        case "template.updated": return .templateUpdated(try Template(stored: &reader))
        case "observation.created": return .observationCreated(try Observation(stored: &reader))
        case "objective.created": return .objectiveCreated(try Objective(stored: &reader))
        case "notification.created": return .notificationCreated(try Notification(stored: &reader))
        case "notification.read": return .notificationRead(try Notification(stored: &reader))
        default: throw DecodingError(description: "unknown event type \(type); upgrade merit")
        }
    }
}

/// The state as a snapshot stores it, and back.
enum SnapshotCodec {
    static let format: Int64 = 1

    static func encode(_ state: State) -> [UInt8] {
        var snapshot: JSONObject = [
            "format": .int(format), "last_event_sequence": .int(state.lastEventSequence),
            "organization": state.organization.map(\.json) ?? .null,
        ]
        snapshot["keys"] = .array(state.keyOrder.compactMap { state.keys[$0]?.storedJSON })
        snapshot["people"] = .array(state.personOrder.compactMap { state.people[$0]?.json })
        snapshot["templates"] = .array(state.templateOrder.compactMap { state.templates[$0]?.json })
        snapshot["observations"] = .array(state.observationOrder.compactMap { state.observations[$0]?.json })
        snapshot["objectives"] = .array(state.objectiveOrder.compactMap { state.objectives[$0]?.json })
        snapshot["notifications"] = .array(state.notificationOrder.compactMap { state.notifications[$0]?.storedJSON })
        var writer = JSONWriter(capacity: 1 << 16)
        writer.write(.object(snapshot))
        return writer.bytes
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(DecodingError) -> State {
        let state = try JSONParser.pull(payload) { reader throws(DecodingError) -> State in
            var version: Int64?, lastEventSequence: Int64?, organization: Organization?, keys: [APIKey] = []
            var people: [Person] = [], templates: [Template] = [], observations: [Observation] = []
            var objectives: [Objective] = [], notifications: [Notification] = []
            try reader.storedObject("snapshot") { key, reader throws(JSONParseError) in
                switch key {
                case "format":
                    let format = try reader.int()
                    guard format >= 1 && format <= self.format else {
                        throw JSONParseError(
                            offset: reader.offset,
                            reason: "the snapshot has format \(format); this merit reads up to \(self.format)")
                    }
                    version = format
                case "last_event_sequence": lastEventSequence = try reader.int()
                case "organization":
                    if try !reader.null() { organization = try stored(&reader, Organization.init(stored:)) }
                case "keys": keys = try storedArray(&reader, APIKey.init(stored:))
                case "people": people = try storedArray(&reader, Person.init(stored:))
                case "templates": templates = try storedArray(&reader, Template.init(stored:))
                case "observations":
                    observations = try storedArray(&reader, Observation.init(stored:))
                case "objectives": objectives = try storedArray(&reader, Objective.init(stored:))
                case "notifications":
                    notifications = try storedArray(&reader, Notification.init(stored:))
                default: return false
                }
                return true
            }
            _ = try required(version, "snapshot", "format")
            return State(
                organization: organization, keys: keys, people: people, templates: templates,
                observations: observations, objectives: objectives, notifications: notifications,
                lastEventSequence: try required(lastEventSequence, "snapshot", "last_event_sequence"))
        }
        guard let state else { throw DecodingError(description: "the snapshot has data after its state") }
        return state
    }
}
