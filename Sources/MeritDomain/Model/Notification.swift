/// An in-app notification for one person.
public struct Notification: TableRow {
    public static let idPrefix: StaticString = "ntf"

    /// What the notification is about.
    public enum Kind: String, FieldEnumeration {
        case summaryShared = "summary_shared"
        case summaryClarificationRequested = "summary_clarification_requested"
        case feedbackRequested = "feedback_requested"
        case reviewAssigned = "review_assigned"
    }

    public var id: ID<Notification>
    public var recipientID: ID<Person>
    public var kind: Kind
    /// The id of the summary, feedback request or review it is about.
    public var subjectID: String
    public var message: String
    public var createdAt: Timestamp
    public var readAt: Timestamp?

    /// A notification.
    public init(
        id: ID<Notification>, recipientID: ID<Person>, kind: Kind, subjectID: String, message: String,
        createdAt: Timestamp, readAt: Timestamp?
    ) {
        self.id = id
        self.recipientID = recipientID
        self.kind = kind
        self.subjectID = subjectID
        self.message = message
        self.createdAt = createdAt
        self.readAt = readAt
    }

    /// The recipient is stored, not shown: `notifications.list` only ever lists the reader's own.
    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode(.stored("recipient_id"), recipientID)
        encoder.encode("kind", kind)
        encoder.encode("subject_id", subjectID)
        encoder.encode("message", message)
        encoder.encode("created_at", createdAt)
        encoder.encode("read_at", readAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), recipientID: try decoder.decode(.stored("recipient_id")),
            kind: try decoder.decode("kind"), subjectID: try decoder.decode("subject_id"),
            message: try decoder.decode("message"), createdAt: try decoder.decode("created_at"),
            readAt: try decoder.decode("read_at"))
    }

    /// Notifications by recipient.
    public struct Indexes: TableIndexes {
        public private(set) var byRecipient = GroupIndex<ID<Person>, Notification>()

        public init() {}

        public mutating func insert(_ row: Notification) { byRecipient.insert(row.id, under: row.recipientID) }
        public mutating func remove(_ row: Notification) { byRecipient.remove(row.id, from: row.recipientID) }
        public static func keysDiffer(_ old: Notification, _ new: Notification) -> Bool {
            old.recipientID != new.recipientID
        }
    }
}
