/// A request for 360° feedback about a person in a cycle, assigned to one reviewer, and the answers they submitted.
///
/// The answers are stored with the request (so that it is submitted once, by its reviewer) but never shown: the API
/// and the event feed show the request, and the answers only ever leave in the anonymized feedback summary.
public struct FeedbackRequest: TableRow {
    public static let idPrefix: StaticString = "frq"

    /// Whether the reviewer has answered.
    public enum Status: String, FieldEnumeration {
        case pending, submitted
    }

    /// The areas feedback rates, in the order the summary shows them.
    public enum Area: String, FieldEnumeration {
        case organisation, performance, communication, development, automation
    }

    /// One area's answer: a rating and an optional comment.
    public struct AreaAnswer: FieldRecord {
        public var rating: Rating
        public var comment: String?

        /// An answer.
        @inlinable
        public init(rating: Rating, comment: String?) {
            self.rating = rating
            self.comment = comment
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("rating", rating)
            encoder.encode("comment", comment)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(rating: try decoder.decode("rating"), comment: try decoder.decode("comment"))
        }
    }

    /// What the reviewer submitted: an answer for each area, in `Area` order, and an overall comment.
    public struct Answers: FieldRecord {
        public var areas: [AreaAnswer]
        public var overallComment: String?

        /// Answers.
        @inlinable
        public init(areas: [AreaAnswer], overallComment: String?) {
            self.areas = areas
            self.overallComment = overallComment
        }

        /// The answer for `area`.
        public func answer(_ area: Area) -> AreaAnswer? {
            guard let index = Area.allCases.firstIndex(of: area), index < areas.count else { return nil }
            return areas[index]
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("areas", areas)
            encoder.encode("overall_comment", overallComment)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(areas: try decoder.decode("areas"), overallComment: try decoder.decode("overall_comment"))
        }
    }

    public var id: ID<FeedbackRequest>
    public var cycleID: ID<ReviewCycle>
    /// The person the feedback is about.
    public var subjectID: ID<Person>
    /// The person asked.
    public var reviewerID: ID<Person>
    public var dueDate: Day?
    public var status: Status
    /// Who asked: a person, or the key of an integration acting as nobody.
    public var requestedBy: String
    public var createdAt: Timestamp
    public var submittedAt: Timestamp?
    /// The answers, once submitted; never shown.
    public var answers: Answers?

    /// A request.
    @inlinable
    public init(
        id: ID<FeedbackRequest>, cycleID: ID<ReviewCycle>, subjectID: ID<Person>, reviewerID: ID<Person>,
        dueDate: Day?, status: Status, requestedBy: String, createdAt: Timestamp, submittedAt: Timestamp?,
        answers: Answers?
    ) {
        self.id = id
        self.cycleID = cycleID
        self.subjectID = subjectID
        self.reviewerID = reviewerID
        self.dueDate = dueDate
        self.status = status
        self.requestedBy = requestedBy
        self.createdAt = createdAt
        self.submittedAt = submittedAt
        self.answers = answers
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("cycle_id", cycleID)
        encoder.encode("subject_id", subjectID)
        encoder.encode("reviewer_id", reviewerID)
        encoder.encode("due_date", dueDate)
        encoder.encode("status", status)
        encoder.encode(.stored("requested_by"), requestedBy)
        encoder.encode("created_at", createdAt)
        encoder.encode("submitted_at", submittedAt)
        encoder.encode(.stored("answers"), answers)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), cycleID: try decoder.decode("cycle_id"),
            subjectID: try decoder.decode("subject_id"), reviewerID: try decoder.decode("reviewer_id"),
            dueDate: try decoder.decode("due_date"), status: try decoder.decode("status"),
            requestedBy: try decoder.decode(.stored("requested_by")), createdAt: try decoder.decode("created_at"),
            submittedAt: try decoder.decode("submitted_at"), answers: try decoder.decode(.stored("answers")))
    }

    /// Requests by reviewer (what a person is asked), by subject, and by subject in a cycle.
    public struct Indexes: TableIndexes {
        public private(set) var byReviewer = GroupIndex<ID<Person>, FeedbackRequest>()
        public private(set) var bySubject = GroupIndex<ID<Person>, FeedbackRequest>()
        public private(set) var bySubjectAndCycle = GroupIndex<SubjectInCycle, FeedbackRequest>()

        public init() {}

        public mutating func insert(_ row: FeedbackRequest) {
            byReviewer.insert(row.id, under: row.reviewerID)
            bySubject.insert(row.id, under: row.subjectID)
            bySubjectAndCycle.insert(row.id, under: SubjectInCycle(subject: row.subjectID, cycle: row.cycleID))
        }

        public mutating func remove(_ row: FeedbackRequest) {
            byReviewer.remove(row.id, from: row.reviewerID)
            bySubject.remove(row.id, from: row.subjectID)
            bySubjectAndCycle.remove(row.id, from: SubjectInCycle(subject: row.subjectID, cycle: row.cycleID))
        }

        public static func keysDiffer(_ old: FeedbackRequest, _ new: FeedbackRequest) -> Bool {
            old.reviewerID != new.reviewerID || old.subjectID != new.subjectID || old.cycleID != new.cycleID
        }

        /// A person is asked about in a cycle by a few reviewers at most: a group for nearly every request.
        public mutating func reserveCapacity(_ rows: Int) {
            bySubjectAndCycle.reserveCapacity(groups: rows)
        }
    }
}
