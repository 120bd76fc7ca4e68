import MeritDomain
import MeritJSON

/// A failure to read back something the log or a snapshot holds: the data is not what this version wrote.
struct DecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Reading stored records: the log's events and the snapshots, pulled member by member straight into the domain's
/// types (replay reads a million of them a second, so no tree is built). Every error names the field.
extension JSONParser {
    /// Read the object that comes next, handing each member's key to `member`, which reads its value and returns
    /// `true`, or returns `false` to have it skipped (members a later version added). Errors name `what.key`.
    mutating func storedObject(
        _ what: String, _ member: (JSONKey, inout JSONParser) throws(JSONParseError) -> Bool
    ) throws(DecodingError) {
        var key: JSONKey?
        do {
            try beginObject()
            while let next = try nextKey() {
                key = next
                if try !member(next, &self) { _ = try value() }
            }
        } catch {
            throw DecodingError(description: "\(what)\(key.map { "." + $0.text } ?? "") is malformed: \(error)")
        }
    }

    mutating func optionalString() throws(JSONParseError) -> String? {
        try null() ? nil : try string()
    }

    mutating func timestamp() throws(JSONParseError) -> Timestamp {
        let start = offset
        guard let timestamp = try withStringBytes(Timestamp.init(rfc3339Bytes:)) else {
            throw JSONParseError(offset: start, reason: "expected an RFC 3339 timestamp")
        }
        return timestamp
    }

    mutating func optionalTimestamp() throws(JSONParseError) -> Timestamp? {
        try null() ? nil : try timestamp()
    }

    mutating func day() throws(JSONParseError) -> Day {
        let start = offset
        guard let day = Day(try string()) else { throw JSONParseError(offset: start, reason: "expected a date") }
        return day
    }

    mutating func optionalDay() throws(JSONParseError) -> Day? {
        try null() ? nil : try day()
    }

    mutating func id<Entity>(_ type: Entity.Type = Entity.self) throws(JSONParseError) -> ID<Entity> {
        let start = offset
        guard let id = try withStringBytes({ ID<Entity>(utf8: $0) }) else {
            throw JSONParseError(offset: start, reason: "expected an id of the form \(Entity.idPrefix)_<ULID>")
        }
        return id
    }

    mutating func optionalID<Entity>(_ type: Entity.Type = Entity.self) throws(JSONParseError) -> ID<Entity>? {
        try null() ? nil : try id()
    }

    mutating func enumeration<Value: RawRepresentable<String>>(_ type: Value.Type) throws(JSONParseError) -> Value {
        let start = offset
        guard let value = Value(rawValue: try string()) else {
            throw JSONParseError(offset: start, reason: "expected one of the known values")
        }
        return value
    }
}

/// A value read by `decode` inside a member of `storedObject`, whose errors are parse errors.
func stored<Value>(_ reader: inout JSONParser, _ decode: (inout JSONParser) throws(DecodingError) -> Value)
    throws(JSONParseError) -> Value
{
    do throws(DecodingError) {
        return try decode(&reader)
    } catch {
        throw JSONParseError(offset: reader.offset, reason: error.description)
    }
}

/// The array that comes next, each element read by `decode`.
func storedArray<Value>(_ reader: inout JSONParser, _ decode: (inout JSONParser) throws(DecodingError) -> Value)
    throws(JSONParseError) -> [Value]
{
    var values: [Value] = []
    try reader.beginArray()
    while try reader.nextElement() { values.append(try stored(&reader, decode)) }
    return values
}

/// The value of a required member, or the error naming it.
func required<Value>(_ value: Value?, _ what: String, _ key: String) throws(DecodingError) -> Value {
    guard let value else { throw DecodingError(description: "\(what).\(key) is missing") }
    return value
}

extension JSON {
    /// A timestamp in the contract's form, `2026-04-01T09:12:00.000Z`.
    init(_ timestamp: Timestamp) { self = .string(timestamp.description) }
    /// A timestamp, or `null`.
    init(_ timestamp: Timestamp?) { self = timestamp.map { .string($0.description) } ?? .null }
    /// An id's wire form.
    init<Entity>(_ id: ID<Entity>) { self = .string(id.text) }
    /// An id's wire form, or `null`.
    init<Entity>(_ id: ID<Entity>?) { self = id.map { .string($0.text) } ?? .null }
}

extension StagedJSON {
    /// An id's text form, quoted, written without making a string.
    mutating func id<Entity>(_ id: ID<Entity>) {
        raw(maximumCount: ID<Entity>.textLength + 2) { target in
            target[0] = UInt8(ascii: "\"")
            id.writeText(to: target + 1)
            target[ID<Entity>.textLength + 1] = UInt8(ascii: "\"")
            return ID<Entity>.textLength + 2
        }
    }

    /// An id's text form, quoted, or `null`.
    mutating func id<Entity>(orNull id: ID<Entity>?) {
        if let id { self.id(id) } else { raw("null") }
    }

    /// Two timestamps, quoted, with `separator` between them; the text is formatted once when they are the same
    /// instant (as a new resource's `created_at` and `updated_at` are).
    mutating func timestamps(_ first: Timestamp, _ separator: StaticString, _ second: Timestamp) {
        raw(maximumCount: 2 * (Timestamp.maximumTextLength + 2) + separator.utf8CodeUnitCount) { target in
            let firstCount = Self.timestampText(first, at: target)
            (target + firstCount).update(from: separator.utf8Start, count: separator.utf8CodeUnitCount)
            let secondStart = target + firstCount + separator.utf8CodeUnitCount
            if second == first {
                secondStart.update(from: target, count: firstCount)
                return 2 * firstCount + separator.utf8CodeUnitCount
            }
            return firstCount + separator.utf8CodeUnitCount + Self.timestampText(second, at: secondStart)
        }
    }

    /// Write `timestamp` quoted at `target`; returns the bytes written.
    private static func timestampText(_ timestamp: Timestamp, at target: UnsafeMutablePointer<UInt8>) -> Int {
        target[0] = UInt8(ascii: "\"")
        let count = timestamp.writeText(to: target + 1)
        target[count + 1] = UInt8(ascii: "\"")
        return count + 2
    }

    /// A timestamp in the contract's form, quoted, written without making a string.
    mutating func timestamp(_ timestamp: Timestamp) {
        raw(maximumCount: Timestamp.maximumTextLength + 2) { Self.timestampText(timestamp, at: $0) }
    }
}

// MARK: - Organization

extension Organization {
    /// The resource as the API shows it (and as events and snapshots store it).
    var json: JSON {
        [
            "id": JSON(id), "name": .string(name), "settings": settings.json, "created_at": JSON(createdAt),
            "updated_at": JSON(updatedAt),
        ]
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Organization>?, name: String?, settings = Settings(), createdAt: Timestamp?, updatedAt: Timestamp?
        try reader.storedObject("organization") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "name": name = try reader.string()
            case "settings": settings = try stored(&reader, Settings.init(stored:))
            case "created_at": createdAt = try reader.timestamp()
            case "updated_at": updatedAt = try reader.timestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "organization", "id"), name: try required(name, "organization", "name"),
            settings: settings, createdAt: try required(createdAt, "organization", "created_at"),
            updatedAt: try required(updatedAt, "organization", "updated_at"))
    }
}

extension Organization.Settings {
    var json: JSON {
        [
            "feedback_min_responses": .int(Int64(feedbackMinimumResponses)),
            "summary_review_workflow": .bool(summaryReviewWorkflow),
        ]
    }

    /// Settings added by later versions keep their defaults when an older log lacks them.
    init(stored reader: inout JSONParser) throws(DecodingError) {
        var settings = Organization.Settings()
        try reader.storedObject("settings") { key, reader throws(JSONParseError) in
            switch key {
            case "feedback_min_responses": settings.feedbackMinimumResponses = Int(try reader.int())
            case "summary_review_workflow": settings.summaryReviewWorkflow = try reader.bool()
            default: return false
            }
            return true
        }
        self = settings
    }
}

// MARK: - Person

extension Person {
    /// The resource as the API shows it (and as events and snapshots store it).
    var json: JSON {
        [
            "id": JSON(id), "name": .string(name), "email": .string(email), "role": .string(role.rawValue),
            "manager_id": JSON(managerID), "squad": JSON(squad), "review_template_id": JSON(reviewTemplateID),
            "is_admin": .bool(isAdmin), "created_at": JSON(createdAt), "updated_at": JSON(updatedAt),
        ]
    }

    /// Write `json` straight to bytes, member by member in the same order: what people.create, people.update and
    /// people.get answer with, without building and freeing a tree (a test holds the two to the same bytes).
    func write(to writer: inout JSONWriter) {
        writer.staged { json in
            json.raw("{\"id\":")
            json.id(id)
            json.raw(",\"name\":")
            json.string(name)
            json.raw(",\"email\":")
            json.string(email)
            json.raw(",\"role\":")
            json.string(role.rawValue)
            json.raw(",\"manager_id\":")
            json.id(orNull: managerID)
            json.raw(",\"squad\":")
            json.string(orNull: squad)
            json.raw(",\"review_template_id\":")
            json.string(orNull: reviewTemplateID)
            json.raw(isAdmin ? ",\"is_admin\":true,\"created_at\":" : ",\"is_admin\":false,\"created_at\":")
            json.timestamps(createdAt, ",\"updated_at\":", updatedAt)
            json.raw("}")
        }
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Person>?, name: String?, email: String?, role: Role?, managerID: ID<Person>?, squad: String?
        var reviewTemplateID: String?, isAdmin: Bool?, createdAt: Timestamp?, updatedAt: Timestamp?
        try reader.storedObject("person") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "name": name = try reader.string()
            case "email": email = try reader.string()
            case "role": role = try reader.enumeration(Role.self)
            case "manager_id": managerID = try reader.optionalID()
            case "squad": squad = try reader.optionalString()
            case "review_template_id": reviewTemplateID = try reader.optionalString()
            case "is_admin": isAdmin = try reader.bool()
            case "created_at": createdAt = try reader.timestamp()
            case "updated_at": updatedAt = try reader.timestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "person", "id"), name: try required(name, "person", "name"),
            email: try required(email, "person", "email"), role: try required(role, "person", "role"),
            managerID: managerID, squad: squad, reviewTemplateID: reviewTemplateID,
            isAdmin: try required(isAdmin, "person", "is_admin"),
            createdAt: try required(createdAt, "person", "created_at"),
            updatedAt: try required(updatedAt, "person", "updated_at"))
    }
}

// MARK: - API key

extension APIKey {
    /// The key as the API shows it: never the secret, nor its hash.
    var json: JSON {
        [
            "id": JSON(id), "name": .string(name), "scopes": JSON(scopes.map(\.rawValue)),
            "person_id": JSON(personID), "created_at": JSON(createdAt), "revoked_at": JSON(revokedAt),
        ]
    }

    /// The key as the log and snapshots keep it: with the hash of its secret.
    var storedJSON: JSON {
        var object = json.objectValue ?? JSONObject()
        object["secret_sha256"] = .string(secretHash)
        return .object(object)
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<APIKey>?, name: String?, scopes: [Scope] = [], personID: ID<Person>?, secretHash: String?
        var createdAt: Timestamp?, revokedAt: Timestamp?
        try reader.storedObject("key") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "name": name = try reader.string()
            case "scopes":
                try reader.beginArray()
                while try reader.nextElement() { scopes.append(try reader.enumeration(Scope.self)) }
            case "person_id": personID = try reader.optionalID()
            case "secret_sha256": secretHash = try reader.string()
            case "created_at": createdAt = try reader.timestamp()
            case "revoked_at": revokedAt = try reader.optionalTimestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "key", "id"), name: try required(name, "key", "name"), scopes: scopes,
            personID: personID, secretHash: try required(secretHash, "key", "secret_sha256"),
            createdAt: try required(createdAt, "key", "created_at"), revokedAt: revokedAt)
    }
}

// MARK: - Template

extension Template {
    /// The template as the API shows it (and as events and snapshots store it).
    var json: JSON {
        [
            "id": JSON(id), "name": .string(name),
            "items": .array(
                items.map { item in
                    [
                        "id": JSON(item.id), "area": .string(item.area), "label": .string(item.label),
                        "is_mandatory": .bool(item.isMandatory), "sort_order": .int(Int64(item.sortOrder)),
                    ]
                }),
            "created_at": JSON(createdAt), "updated_at": JSON(updatedAt),
        ]
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Template>?, name: String?, items: [Item] = [], createdAt: Timestamp?, updatedAt: Timestamp?
        try reader.storedObject("template") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "name": name = try reader.string()
            case "items": items = try storedArray(&reader, Item.init(stored:))
            case "created_at": createdAt = try reader.timestamp()
            case "updated_at": updatedAt = try reader.timestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "template", "id"), name: try required(name, "template", "name"), items: items,
            createdAt: try required(createdAt, "template", "created_at"),
            updatedAt: try required(updatedAt, "template", "updated_at"))
    }
}

extension Template.Item {
    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Template.Item>?, area: String?, label: String?, isMandatory: Bool?, sortOrder: Int64?
        try reader.storedObject("template item") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "area": area = try reader.string()
            case "label": label = try reader.string()
            case "is_mandatory": isMandatory = try reader.bool()
            case "sort_order": sortOrder = try reader.int()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "template item", "id"), area: try required(area, "template item", "area"),
            label: try required(label, "template item", "label"),
            isMandatory: try required(isMandatory, "template item", "is_mandatory"),
            sortOrder: Int(try required(sortOrder, "template item", "sort_order")))
    }
}

// MARK: - Observation, objective, notification

extension Observation {
    /// The observation as the API shows it (and as events and snapshots store it).
    var json: JSON {
        [
            "id": JSON(id), "employee_id": JSON(employeeID), "author_id": .string(authorID), "text": .string(text),
            "observed_on": .string(observedOn.description), "created_at": JSON(createdAt),
        ]
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Observation>?, employeeID: ID<Person>?, authorID: String?, text: String?, observedOn: Day?
        var createdAt: Timestamp?
        try reader.storedObject("observation") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "employee_id": employeeID = try reader.id()
            case "author_id": authorID = try reader.string()
            case "text": text = try reader.string()
            case "observed_on": observedOn = try reader.day()
            case "created_at": createdAt = try reader.timestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "observation", "id"),
            employeeID: try required(employeeID, "observation", "employee_id"),
            authorID: try required(authorID, "observation", "author_id"),
            text: try required(text, "observation", "text"),
            observedOn: try required(observedOn, "observation", "observed_on"),
            createdAt: try required(createdAt, "observation", "created_at"))
    }
}

extension Objective {
    /// The objective as the API shows it (and as events and snapshots store it).
    var json: JSON {
        [
            "id": JSON(id), "employee_id": JSON(employeeID), "author_id": .string(authorID), "title": .string(title),
            "description": JSON(description), "due_date": JSON(dueDate?.description),
            "status": .string(status.rawValue),
            "created_at": JSON(createdAt), "updated_at": JSON(updatedAt),
        ]
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Objective>?, employeeID: ID<Person>?, authorID: String?, title: String?, description: String?
        var dueDate: Day?, status: Status?, createdAt: Timestamp?, updatedAt: Timestamp?
        try reader.storedObject("objective") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "employee_id": employeeID = try reader.id()
            case "author_id": authorID = try reader.string()
            case "title": title = try reader.string()
            case "description": description = try reader.optionalString()
            case "due_date": dueDate = try reader.optionalDay()
            case "status": status = try reader.enumeration(Status.self)
            case "created_at": createdAt = try reader.timestamp()
            case "updated_at": updatedAt = try reader.timestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "objective", "id"), employeeID: try required(employeeID, "objective", "employee_id"),
            authorID: try required(authorID, "objective", "author_id"),
            title: try required(title, "objective", "title"), description: description, dueDate: dueDate,
            status: try required(status, "objective", "status"),
            createdAt: try required(createdAt, "objective", "created_at"),
            updatedAt: try required(updatedAt, "objective", "updated_at"))
    }
}

extension Notification {
    /// The notification as the API shows it.
    var json: JSON {
        [
            "id": JSON(id), "kind": .string(kind.rawValue), "subject_id": .string(subjectID),
            "message": .string(message),
            "created_at": JSON(createdAt), "read_at": JSON(readAt),
        ]
    }

    /// The notification as events and snapshots store it: with its recipient.
    var storedJSON: JSON {
        var object = json.objectValue ?? JSONObject()
        object["recipient_id"] = JSON(recipientID)
        return .object(object)
    }

    init(stored reader: inout JSONParser) throws(DecodingError) {
        var id: ID<Notification>?, recipientID: ID<Person>?, kind: Kind?, subjectID: String?, message: String?
        var createdAt: Timestamp?, readAt: Timestamp?
        try reader.storedObject("notification") { key, reader throws(JSONParseError) in
            switch key {
            case "id": id = try reader.id()
            case "recipient_id": recipientID = try reader.id()
            case "kind": kind = try reader.enumeration(Kind.self)
            case "subject_id": subjectID = try reader.string()
            case "message": message = try reader.string()
            case "created_at": createdAt = try reader.timestamp()
            case "read_at": readAt = try reader.optionalTimestamp()
            default: return false
            }
            return true
        }
        self.init(
            id: try required(id, "notification", "id"),
            recipientID: try required(recipientID, "notification", "recipient_id"),
            kind: try required(kind, "notification", "kind"),
            subjectID: try required(subjectID, "notification", "subject_id"),
            message: try required(message, "notification", "message"),
            createdAt: try required(createdAt, "notification", "created_at"), readAt: readAt)
    }
}
