/// A performance review of one person in one cycle: KPI ratings snapshotted from the person's template, goals,
/// the reviewer's texts, and, once completed, the pass/fail figures.
public struct Review: TableRow {
    public static let idPrefix: StaticString = "rev"

    /// Where a review stands, in the order it moves forward.
    public enum Status: String, FieldEnumeration, Comparable {
        case draft
        case selfAssessment = "self_assessment"
        case inReview = "in_review"
        case readyForReview = "ready_for_review"
        case completed

        /// The position in the flow: a move to a later one is forward.
        public var step: Int { Self.allCases.firstIndex(of: self)! }

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.step < rhs.step }
    }

    /// One KPI of the review, snapshotted from a template item when the review was created: later edits of the
    /// template do not touch it.
    public struct KPIRating: Identified, FieldRecord {
        public static let idPrefix: StaticString = "kpi"

        public var id: ID<KPIRating>
        public var templateItemID: ID<Template.Item>
        public var area: String
        public var label: String
        public var isMandatory: Bool
        public var rating: Rating?
        public var notes: String?
        public var sortOrder: Int

        /// A row.
        @inlinable
        public init(
            id: ID<KPIRating>, templateItemID: ID<Template.Item>, area: String, label: String, isMandatory: Bool,
            rating: Rating?, notes: String?, sortOrder: Int
        ) {
            self.id = id
            self.templateItemID = templateItemID
            self.area = area
            self.label = label
            self.isMandatory = isMandatory
            self.rating = rating
            self.notes = notes
            self.sortOrder = sortOrder
        }

        /// Whether the row counts as passed: rated achieving or exceeding (an unrated row does not pass).
        public var passed: Bool { rating?.passes ?? false }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("id", id)
            encoder.encode("template_item_id", templateItemID)
            encoder.encode("area", area)
            encoder.encode("label", label)
            encoder.encode("is_mandatory", isMandatory)
            encoder.encode("rating", rating)
            encoder.encode("notes", notes)
            encoder.encode("sort_order", sortOrder)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(
                id: try decoder.decode("id"), templateItemID: try decoder.decode("template_item_id"),
                area: try decoder.decode("area"), label: try decoder.decode("label"),
                isMandatory: try decoder.decode("is_mandatory"), rating: try decoder.decode("rating"),
                notes: try decoder.decode("notes"), sortOrder: try decoder.decode("sort_order"))
        }
    }

    /// A goal set in a review; its outcome is recorded in a later review (`update_previous_goals`).
    public struct Goal: Identified, FieldRecord {
        public static let idPrefix: StaticString = "gol"

        /// A goal's outcome.
        public enum Outcome: String, FieldEnumeration {
            case completed
            case notCompleted = "not_completed"
        }

        public var id: ID<Goal>
        public var goal: String
        public var successMeasures: String?
        public var supportNeeded: String?
        public var status: Outcome?
        public var sortOrder: Int

        /// A goal.
        @inlinable
        public init(
            id: ID<Goal>, goal: String, successMeasures: String?, supportNeeded: String?, status: Outcome?,
            sortOrder: Int
        ) {
            self.id = id
            self.goal = goal
            self.successMeasures = successMeasures
            self.supportNeeded = supportNeeded
            self.status = status
            self.sortOrder = sortOrder
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("id", id)
            encoder.encode("goal", goal)
            encoder.encode("success_measures", successMeasures)
            encoder.encode("support_needed", supportNeeded)
            encoder.encode("status", status)
            encoder.encode("sort_order", sortOrder)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(
                id: try decoder.decode("id"), goal: try decoder.decode("goal"),
                successMeasures: try decoder.decode("success_measures"),
                supportNeeded: try decoder.decode("support_needed"), status: try decoder.decode("status"),
                sortOrder: try decoder.decode("sort_order"))
        }
    }

    public var id: ID<Review>
    public var cycleID: ID<ReviewCycle>
    /// The person reviewed.
    public var userID: ID<Person>
    public var reviewerID: ID<Person>
    public var status: Status
    public var strengths: String?
    public var growthAreas: String?
    public var discussionTopics: String?
    public var reviewerNotes: String?
    public var actionItems: String?
    public var kpiRatings: [KPIRating]
    public var goals: [Goal]
    /// Set when the review is completed; cleared when it is reopened.
    public var kpiPassCount: Int?
    public var kpiTotalCount: Int?
    public var kpiPassed: Bool?
    public var completedAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// A review.
    @inlinable
    public init(
        id: ID<Review>, cycleID: ID<ReviewCycle>, userID: ID<Person>, reviewerID: ID<Person>, status: Status,
        strengths: String?, growthAreas: String?, discussionTopics: String?, reviewerNotes: String?,
        actionItems: String?, kpiRatings: [KPIRating], goals: [Goal], kpiPassCount: Int?, kpiTotalCount: Int?,
        kpiPassed: Bool?, completedAt: Timestamp?, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.cycleID = cycleID
        self.userID = userID
        self.reviewerID = reviewerID
        self.status = status
        self.strengths = strengths
        self.growthAreas = growthAreas
        self.discussionTopics = discussionTopics
        self.reviewerNotes = reviewerNotes
        self.actionItems = actionItems
        self.kpiRatings = kpiRatings
        self.goals = goals
        self.kpiPassCount = kpiPassCount
        self.kpiTotalCount = kpiTotalCount
        self.kpiPassed = kpiPassed
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("cycle_id", cycleID)
        encoder.encode("user_id", userID)
        encoder.encode("reviewer_id", reviewerID)
        encoder.encode("status", status)
        encoder.encode("strengths", strengths)
        encoder.encode("growth_areas", growthAreas)
        encoder.encode("discussion_topics", discussionTopics)
        encoder.encode("reviewer_notes", reviewerNotes)
        encoder.encode("action_items", actionItems)
        encoder.encode("kpi_ratings", kpiRatings)
        encoder.encode("goals", goals)
        encoder.encode("kpi_pass_count", kpiPassCount)
        encoder.encode("kpi_total_count", kpiTotalCount)
        encoder.encode("kpi_passed", kpiPassed)
        encoder.encode("completed_at", completedAt)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), cycleID: try decoder.decode("cycle_id"),
            userID: try decoder.decode("user_id"),
            reviewerID: try decoder.decode("reviewer_id"), status: try decoder.decode("status"),
            strengths: try decoder.decode("strengths"), growthAreas: try decoder.decode("growth_areas"),
            discussionTopics: try decoder.decode("discussion_topics"),
            reviewerNotes: try decoder.decode("reviewer_notes"), actionItems: try decoder.decode("action_items"),
            kpiRatings: try decoder.decode("kpi_ratings"), goals: try decoder.decode("goals"),
            kpiPassCount: try decoder.decode("kpi_pass_count"), kpiTotalCount: try decoder.decode("kpi_total_count"),
            kpiPassed: try decoder.decode("kpi_passed"), completedAt: try decoder.decode("completed_at"),
            createdAt: try decoder.decode("created_at"), updatedAt: try decoder.decode("updated_at"))
    }

    /// Reviews by cycle, by the person reviewed, by reviewer and by reviewer in each cycle; the one review of a
    /// person in a cycle; and how many reviews of each cycle are in each status (a cycle's progress, counted as
    /// reviews move).
    ///
    /// A list of one cycle's reviews for someone who sees only some people is therefore one lookup per person in
    /// scope and one for the reviews they write in it, whatever the number of cycles.
    public struct Indexes: TableIndexes {
        public private(set) var byCycle = GroupIndex<ID<ReviewCycle>, Review>()
        public private(set) var bySubject = GroupIndex<ID<Person>, Review>()
        public private(set) var byReviewer = GroupIndex<ID<Person>, Review>()
        public private(set) var byReviewerInCycle = GroupIndex<ReviewerInCycle, Review>()
        public private(set) var bySubjectAndCycle: [SubjectInCycle: ID<Review>] = [:]
        public private(set) var statusCounts: [ID<ReviewCycle>: [Status: Int]] = [:]

        public init() {}

        public mutating func insert(_ row: Review) {
            byCycle.insert(row.id, under: row.cycleID)
            bySubject.insert(row.id, under: row.userID)
            byReviewer.insert(row.id, under: row.reviewerID)
            byReviewerInCycle.insert(row.id, under: ReviewerInCycle(reviewer: row.reviewerID, cycle: row.cycleID))
            bySubjectAndCycle[SubjectInCycle(subject: row.userID, cycle: row.cycleID)] = row.id
            statusCounts[row.cycleID, default: [:]][row.status, default: 0] += 1
        }

        public mutating func remove(_ row: Review) {
            byCycle.remove(row.id, from: row.cycleID)
            bySubject.remove(row.id, from: row.userID)
            byReviewer.remove(row.id, from: row.reviewerID)
            byReviewerInCycle.remove(row.id, from: ReviewerInCycle(reviewer: row.reviewerID, cycle: row.cycleID))
            bySubjectAndCycle[SubjectInCycle(subject: row.userID, cycle: row.cycleID)] = nil
            let count = statusCounts[row.cycleID]?[row.status] ?? 0
            statusCounts[row.cycleID]?[row.status] = count > 1 ? count - 1 : nil
            if statusCounts[row.cycleID]?.isEmpty == true { statusCounts[row.cycleID] = nil }
        }

        public static func keysDiffer(_ old: Review, _ new: Review) -> Bool {
            old.status != new.status || old.cycleID != new.cycleID || old.userID != new.userID
                || old.reviewerID != new.reviewerID
        }

        public mutating func reserveCapacity(_ rows: Int) {
            bySubjectAndCycle.reserveCapacity(rows)
        }
    }
}

/// A person in a cycle: the key of the one review (or the feedback requests) about them in it.
public struct SubjectInCycle: Hashable, Sendable {
    public var subject: ID<Person>
    public var cycle: ID<ReviewCycle>

    /// A key.
    public init(subject: ID<Person>, cycle: ID<ReviewCycle>) {
        self.subject = subject
        self.cycle = cycle
    }
}

/// A reviewer in a cycle: the key of the reviews they write in it.
public struct ReviewerInCycle: Hashable, Sendable {
    public var reviewer: ID<Person>
    public var cycle: ID<ReviewCycle>

    /// A key.
    public init(reviewer: ID<Person>, cycle: ID<ReviewCycle>) {
        self.reviewer = reviewer
        self.cycle = cycle
    }
}

/// The rating scale, for KPIs and feedback, lowest first.
public enum Rating: String, FieldEnumeration, Comparable {
    case notAchieving = "not_achieving"
    case partiallyAchieving = "partially_achieving"
    case achieving
    case exceeding

    /// Whether a KPI rated so passes.
    public var passes: Bool { self == .achieving || self == .exceeding }

    public static func < (lhs: Rating, rhs: Rating) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
