import MeritDomain
import MeritJSON

/// A failure to read back something the log or a snapshot holds: the data is not what this version wrote.
struct DecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Reads fields of a stored record; every error names the field, so a bad record is easy to find.
struct StoredFields {
    let object: JSONObject
    let what: String

    init(_ value: JSON, _ what: String) throws(DecodingError) {
        guard case .object(let object) = value else { throw DecodingError(description: "\(what) is not an object") }
        self.object = object
        self.what = what
    }

    func string(_ key: String) throws(DecodingError) -> String {
        guard case .string(let value)? = object[key] else { throw missing(key) }
        return value
    }

    func optionalString(_ key: String) -> String? { object[key]?.stringValue }

    func int(_ key: String) throws(DecodingError) -> Int64 {
        guard let value = object[key]?.intValue else { throw missing(key) }
        return value
    }

    func bool(_ key: String) throws(DecodingError) -> Bool {
        guard case .bool(let value)? = object[key] else { throw missing(key) }
        return value
    }

    func timestamp(_ key: String) throws(DecodingError) -> Timestamp {
        guard let value = Timestamp(rfc3339: try string(key)) else { throw missing(key) }
        return value
    }

    func optionalTimestamp(_ key: String) throws(DecodingError) -> Timestamp? {
        guard let text = optionalString(key) else { return nil }
        guard let value = Timestamp(rfc3339: text) else { throw missing(key) }
        return value
    }

    func id<Entity>(_ key: String, _ type: Entity.Type = Entity.self) throws(DecodingError) -> ID<Entity> {
        ID(trusted: try string(key))
    }

    func optionalID<Entity>(_ key: String, _ type: Entity.Type = Entity.self) -> ID<Entity>? {
        optionalString(key).map { ID(trusted: $0) }
    }

    func missing(_ key: String) -> DecodingError {
        DecodingError(description: "\(what).\(key) is missing or malformed")
    }
}

extension JSON {
    /// A timestamp in the contract's form, `2026-04-01T09:12:00.000Z`.
    init(_ timestamp: Timestamp) { self = .string(timestamp.description) }
    /// A timestamp, or `null`.
    init(_ timestamp: Timestamp?) { self = timestamp.map { .string($0.description) } ?? .null }
    /// An id's wire form.
    init<Entity>(_ id: ID<Entity>) { self = .string(id.rawValue) }
    /// An id's wire form, or `null`.
    init<Entity>(_ id: ID<Entity>?) { self = id.map { .string($0.rawValue) } ?? .null }
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "organization")
        self.init(
            id: try fields.id("id"), name: try fields.string("name"),
            settings: try Settings(stored: fields.object["settings"] ?? .object([:])),
            createdAt: try fields.timestamp("created_at"), updatedAt: try fields.timestamp("updated_at"))
    }
}

extension Organization.Settings {
    var json: JSON {
        [
            "feedback_min_responses": .int(Int64(feedbackMinimumResponses)),
            "summary_review_workflow": .bool(summaryReviewWorkflow),
        ]
    }

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "settings")
        // Settings added by later versions fall back to their defaults when an older log lacks them.
        self.init(
            feedbackMinimumResponses: Int(fields.object["feedback_min_responses"]?.intValue ?? 1),
            summaryReviewWorkflow: fields.object["summary_review_workflow"]?.boolValue ?? false)
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "person")
        guard let role = Role(rawValue: try fields.string("role")) else { throw fields.missing("role") }
        self.init(
            id: try fields.id("id"), name: try fields.string("name"), email: try fields.string("email"), role: role,
            managerID: fields.optionalID("manager_id"), squad: fields.optionalString("squad"),
            reviewTemplateID: fields.optionalString("review_template_id"), isAdmin: try fields.bool("is_admin"),
            createdAt: try fields.timestamp("created_at"), updatedAt: try fields.timestamp("updated_at"))
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "key")
        var scopes: [Scope] = []
        for scope in fields.object["scopes"]?.arrayValue ?? [] {
            guard let name = scope.stringValue, let known = Scope(rawValue: name) else {
                throw fields.missing("scopes")
            }
            scopes.append(known)
        }
        self.init(
            id: try fields.id("id"), name: try fields.string("name"), scopes: scopes,
            personID: fields.optionalID("person_id"), secretHash: try fields.string("secret_sha256"),
            createdAt: try fields.timestamp("created_at"), revokedAt: try fields.optionalTimestamp("revoked_at"))
    }
}

extension StoredFields {
    func day(_ key: String) throws(DecodingError) -> Day {
        guard let day = Day(try string(key)) else { throw missing(key) }
        return day
    }

    func optionalDay(_ key: String) throws(DecodingError) -> Day? {
        guard let text = optionalString(key) else { return nil }
        guard let day = Day(text) else { throw missing(key) }
        return day
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "template")
        var items: [Item] = []
        for item in fields.object["items"]?.arrayValue ?? [] {
            let itemFields = try StoredFields(item, "template item")
            items.append(
                Item(
                    id: try itemFields.id("id"), area: try itemFields.string("area"),
                    label: try itemFields.string("label"), isMandatory: try itemFields.bool("is_mandatory"),
                    sortOrder: Int(try itemFields.int("sort_order"))))
        }
        self.init(
            id: try fields.id("id"), name: try fields.string("name"), items: items,
            createdAt: try fields.timestamp("created_at"), updatedAt: try fields.timestamp("updated_at"))
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "observation")
        self.init(
            id: try fields.id("id"), employeeID: try fields.id("employee_id"), authorID: try fields.string("author_id"),
            text: try fields.string("text"), observedOn: try fields.day("observed_on"),
            createdAt: try fields.timestamp("created_at"))
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "objective")
        guard let status = Status(rawValue: try fields.string("status")) else { throw fields.missing("status") }
        self.init(
            id: try fields.id("id"), employeeID: try fields.id("employee_id"), authorID: try fields.string("author_id"),
            title: try fields.string("title"), description: fields.optionalString("description"),
            dueDate: try fields.optionalDay("due_date"), status: status, createdAt: try fields.timestamp("created_at"),
            updatedAt: try fields.timestamp("updated_at"))
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

    init(stored value: JSON) throws(DecodingError) {
        let fields = try StoredFields(value, "notification")
        guard let kind = Kind(rawValue: try fields.string("kind")) else { throw fields.missing("kind") }
        self.init(
            id: try fields.id("id"), recipientID: try fields.id("recipient_id"), kind: kind,
            subjectID: try fields.string("subject_id"), message: try fields.string("message"),
            createdAt: try fields.timestamp("created_at"), readAt: try fields.optionalTimestamp("read_at"))
    }
}
