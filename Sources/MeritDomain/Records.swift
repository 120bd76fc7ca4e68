/// A manager's dated note about an employee, which summaries may cite.
public struct Observation: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "obs"

    public var id: ID<Observation>
    public var employeeID: ID<Person>
    /// The person who wrote it, or the key when an integration wrote it.
    public var authorID: String
    public var text: String
    public var observedOn: Day
    public var createdAt: Timestamp

    /// An observation.
    public init(
        id: ID<Observation>, employeeID: ID<Person>, authorID: String, text: String, observedOn: Day,
        createdAt: Timestamp
    ) {
        self.id = id
        self.employeeID = employeeID
        self.authorID = authorID
        self.text = text
        self.observedOn = observedOn
        self.createdAt = createdAt
    }
}

/// An objective set for an employee, which summaries may cite.
public struct Objective: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "obj"

    /// Where an objective stands.
    public enum Status: String, Sendable, CaseIterable {
        case notStarted = "not_started"
        case inProgress = "in_progress"
        case completed
        case cancelled
    }

    public var id: ID<Objective>
    public var employeeID: ID<Person>
    public var authorID: String
    public var title: String
    public var description: String?
    public var dueDate: Day?
    public var status: Status
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// An objective.
    public init(
        id: ID<Objective>, employeeID: ID<Person>, authorID: String, title: String, description: String?,
        dueDate: Day?, status: Status, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.employeeID = employeeID
        self.authorID = authorID
        self.title = title
        self.description = description
        self.dueDate = dueDate
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// An in-app notification for one person.
public struct Notification: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "ntf"

    /// What the notification is about.
    public enum Kind: String, Sendable, CaseIterable {
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
}
