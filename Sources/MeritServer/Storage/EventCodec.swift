import MeritDomain
import MeritJSON

/// How events are written to and read from the log: one record per transaction, holding a JSON array of events.
///
/// Each stored event is `{id, sequence, type, v, created_at, actor_id, data}`: `type` and the schema version `v`
/// say how to read `data`, so a log written today still replays after the domain grows. A version newer than
/// this build knows is refused with a message, never guessed at.
enum EventCodec {
    /// The record type of a transaction's events.
    static let transactionRecordType: UInt16 = 1

    /// The schema version written for each event type; readers accept every version up to it.
    static let currentVersion: Int64 = 1

    /// The event as the log stores it.
    static func stored(_ event: Event) -> JSON {
        [
            "id": JSON(event.id), "sequence": .int(event.sequence), "type": .string(event.change.type),
            "v": .int(currentVersion), "created_at": JSON(event.createdAt), "actor_id": JSON(event.actorID),
            "data": storedData(event.change),
        ]
    }

    /// The event as the feed (`events.list`, subscriptions) shows it: `data` is the public resource.
    static func published(_ event: Event) -> JSON {
        [
            "id": JSON(event.id), "sequence": .int(event.sequence), "type": .string(event.change.type),
            "created_at": JSON(event.createdAt), "actor_id": JSON(event.actorID), "data": publicData(event.change),
        ]
    }

    static func storedData(_ change: Change) -> JSON {
        switch change {
        case .organizationCreated(let organization), .organizationUpdated(let organization): return organization.json
        case .keyCreated(let key), .keyRevoked(let key): return key.storedJSON
        case .personCreated(let person), .personUpdated(let person): return person.json
        case .templateCreated(let template), .templateUpdated(let template): return template.json
        case .observationCreated(let observation): return observation.json
        case .objectiveCreated(let objective): return objective.json
        case .notificationCreated(let notification), .notificationRead(let notification):
            return notification.storedJSON
        }
    }

    static func publicData(_ change: Change) -> JSON {
        switch change {
        case .keyCreated(let key), .keyRevoked(let key): return key.json
        case .notificationCreated(let notification), .notificationRead(let notification): return notification.json
        default: return storedData(change)
        }
    }

    /// The payload of one transaction's record.
    static func encodeTransaction(_ events: [Event]) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.write(.array(events.map(stored)))
        return writer.bytes
    }

    /// The events of one transaction's record.
    static func decodeTransaction(_ payload: UnsafeRawBufferPointer) throws(DecodingError) -> [Event] {
        let value: JSON
        do {
            value = try JSONParser.parse(payload)
        } catch {
            throw DecodingError(description: "the record is not JSON: \(error)")
        }
        guard case .array(let events) = value else { throw DecodingError(description: "the record is not an array") }
        var result: [Event] = []
        result.reserveCapacity(events.count)
        for event in events { result.append(try decode(event)) }
        return result
    }

    static func decode(_ value: JSON) throws(DecodingError) -> Event {
        let fields = try StoredFields(value, "event")
        let type = try fields.string("type")
        let version = try fields.int("v")
        guard version >= 1 && version <= currentVersion else {
            throw DecodingError(
                description: "event \(fields.optionalString("id") ?? "?") of type \(type) has schema version "
                    + "\(version); this merit reads up to \(currentVersion): upgrade merit")
        }
        let data = fields.object["data"] ?? .null
        let change: Change
        switch type {
        case "organization.created": change = .organizationCreated(try Organization(stored: data))
        case "organization.updated": change = .organizationUpdated(try Organization(stored: data))
        case "key.created": change = .keyCreated(try APIKey(stored: data))
        case "key.revoked": change = .keyRevoked(try APIKey(stored: data))
        case "person.created": change = .personCreated(try Person(stored: data))
        case "person.updated": change = .personUpdated(try Person(stored: data))
        case "template.created": change = .templateCreated(try Template(stored: data))
        case "template.updated": change = .templateUpdated(try Template(stored: data))
        case "observation.created": change = .observationCreated(try Observation(stored: data))
        case "objective.created": change = .objectiveCreated(try Objective(stored: data))
        case "notification.created": change = .notificationCreated(try Notification(stored: data))
        case "notification.read": change = .notificationRead(try Notification(stored: data))
        default: throw DecodingError(description: "unknown event type \(type); upgrade merit")
        }
        return Event(
            id: try fields.id("id"), sequence: try fields.int("sequence"),
            createdAt: try fields.timestamp("created_at"),
            actorID: fields.optionalString("actor_id"), change: change)
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
        let value: JSON
        do {
            value = try JSONParser.parse(payload)
        } catch {
            throw DecodingError(description: "the snapshot is not JSON: \(error)")
        }
        let fields = try StoredFields(value, "snapshot")
        let version = try fields.int("format")
        guard version >= 1 && version <= format else {
            throw DecodingError(description: "the snapshot has format \(version); this merit reads up to \(format)")
        }
        var organization: Organization?
        if let stored = fields.object["organization"], !stored.isNull {
            organization = try Organization(stored: stored)
        }
        var keys: [APIKey] = []
        for key in fields.object["keys"]?.arrayValue ?? [] { keys.append(try APIKey(stored: key)) }
        var people: [Person] = []
        for person in fields.object["people"]?.arrayValue ?? [] { people.append(try Person(stored: person)) }
        var templates: [Template] = []
        for template in fields.object["templates"]?.arrayValue ?? [] {
            templates.append(try Template(stored: template))
        }
        var observations: [Observation] = []
        for observation in fields.object["observations"]?.arrayValue ?? [] {
            observations.append(try Observation(stored: observation))
        }
        var objectives: [Objective] = []
        for objective in fields.object["objectives"]?.arrayValue ?? [] {
            objectives.append(try Objective(stored: objective))
        }
        var notifications: [Notification] = []
        for notification in fields.object["notifications"]?.arrayValue ?? [] {
            notifications.append(try Notification(stored: notification))
        }
        return State(
            organization: organization, keys: keys, people: people, templates: templates, observations: observations,
            objectives: objectives, notifications: notifications,
            lastEventSequence: try fields.int("last_event_sequence"))
    }
}
