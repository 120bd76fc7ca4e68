/// What `reviews.update` asks to change; `nil` means "not given", and for the texts `.some(nil)` clears.
public struct ReviewEdit: Sendable {
    /// One KPI row's change: its rating and notes (`.some(nil)` clears).
    public struct RatingEdit: Sendable {
        public var id: ID<Review.KPIRating>
        public var rating: Rating??
        public var notes: String??

        /// A row edit.
        public init(id: ID<Review.KPIRating>, rating: Rating??, notes: String??) {
            self.id = id
            self.rating = rating
            self.notes = notes
        }
    }

    /// A goal as the replacing list gives it; one naming an `id` of this review keeps it (and its outcome).
    public struct GoalDraft: Sendable {
        public var id: ID<Review.Goal>?
        public var goal: String
        public var successMeasures: String?
        public var supportNeeded: String?
        public var sortOrder: Int?

        /// A goal draft.
        public init(
            id: ID<Review.Goal>?, goal: String, successMeasures: String?, supportNeeded: String?, sortOrder: Int?
        ) {
            self.id = id
            self.goal = goal
            self.successMeasures = successMeasures
            self.supportNeeded = supportNeeded
            self.sortOrder = sortOrder
        }
    }

    public var status: Review.Status?
    public var strengths: String??
    public var growthAreas: String??
    public var discussionTopics: String??
    public var reviewerNotes: String??
    public var actionItems: String??
    public var ratings: [RatingEdit]?
    public var goals: [GoalDraft]?

    /// An edit changing nothing.
    public init() {}

    /// Whether it asks to change anything but the status.
    var changesFields: Bool {
        strengths != nil || growthAreas != nil || discussionTopics != nil || reviewerNotes != nil
            || actionItems != nil || ratings != nil || goals != nil
    }

    /// The first thing in it that the subject of a review may not change (only the notes of KPI rows, the goals,
    /// the discussion topics, and the move to `in_review`), as the field to name.
    var fieldTheSubjectMayNotChange: String? {
        if strengths != nil { return "strengths" }
        if growthAreas != nil { return "growth_areas" }
        if reviewerNotes != nil { return "reviewer_notes" }
        if actionItems != nil { return "action_items" }
        if let offset = ratings?.firstIndex(where: { $0.rating != nil }) { return "kpi_ratings[\(offset)].rating" }
        if let status, status != .selfAssessment, status != .inReview { return "status" }
        return nil
    }
}

/// A review as `reviews.get` shows it: the review, the reviews before it and, for an annual review, the
/// aggregation of their KPI ratings.
public struct ReviewDetail: Sendable {
    public var review: Review
    /// For a quarterly review the latest completed review of an earlier cycle (at most one); for an annual review
    /// every completed quarterly review inside its period, oldest first.
    public var previousReviews: [Review]
    /// For an annual review, per template item, the count of each rating among the previous reviews' rated rows
    /// (in order of first appearance); `nil` for a quarterly review.
    public var kpiAggregation: [(templateItemID: ID<Template.Item>, ratings: [Rating: Int])]?

    /// The most common rating of an aggregation entry; on a tie, the one higher on the scale.
    public static func mostCommon(_ ratings: [Rating: Int]) -> Rating? {
        ratings.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key
    }
}

/// One line of `reviews.history`: a completed review with its figures.
public struct ReviewHistoryEntry: Sendable {
    public var review: Review
    public var cycle: ReviewCycle

    /// Goals whose outcome is completed, and not completed.
    public var goalsCompleted: Int { review.goals.count { $0.status == .completed } }
    public var goalsNotCompleted: Int { review.goals.count { $0.status == .notCompleted } }
}

/// The commands and queries of reviews.
///
/// A review is visible to whoever sees its subject (`Authorization.canSee`) and to its reviewer. Changing it needs
/// `update:performance` over the subject, or being its reviewer with `update:performance`; reopening a completed
/// review needs `manage:performance`; deleting one (only a draft) needs `manage:performance`. The subject has their
/// own rule: while the review is in `self_assessment` they may edit the notes of its KPI rows, its goals and its
/// discussion topics and move it on to `in_review`, and nothing else, whatever their role.
extension State {
    /// The most goals a review holds.
    public static let maximumGoals = 50

    /// Create a review of `userID` in an open cycle, snapshotting the KPI items of their template, and notify its
    /// reviewer.
    public func createReview(
        id: ID<Review>, cycleID: ID<ReviewCycle>, userID: ID<Person>, reviewerID: ID<Person>?, now: Timestamp,
        newRatingID: () -> ID<Review.KPIRating>, notificationID: ID<Notification>, by principal: Principal
    ) throws(DomainError) -> Changed<Review> {
        let reviewerID = reviewerID ?? principal.personID
        guard let reviewerID else {
            throw DomainError.invalid("reviewer_id", "is required when the key acts as nobody")
        }
        guard reviewerID != userID else {
            throw DomainError.invalid("reviewer_id", "must be someone other than the person reviewed (user_id)")
        }
        let cycle = try visibleCycle(cycleID, by: principal)
        try requireSubject(userID, field: "user_id", by: principal)
        try Authorization.require(.updatePerformance, of: principal, in: self, to: "create reviews")
        guard let subject = people[userID] else { throw Self.unknownPerson(userID, field: "user_id") }
        guard let reviewer = people[reviewerID] else { throw Self.unknownPerson(reviewerID, field: "reviewer_id") }
        guard cycle.status == .open else {
            throw DomainError(
                .validation(field: "cycle_id"),
                "The cycle \(cycle.name) is \(cycle.status.rawValue); reviews are created in an open cycle.")
        }
        if let existing = reviews.indexes.bySubjectAndCycle[SubjectInCycle(subject: userID, cycle: cycleID)] {
            throw DomainError(.conflict, "\(subject.name) already has a review in \(cycle.name): \(existing).")
        }
        let items = subject.reviewTemplateID.flatMap { templates[$0] }?.items ?? []
        let ratings = items.map { item in
            Review.KPIRating(
                id: newRatingID(), templateItemID: item.id, area: item.area, label: item.label,
                isMandatory: item.isMandatory, rating: nil, notes: nil, sortOrder: item.sortOrder)
        }
        let review = Review(
            id: id, cycleID: cycleID, userID: userID, reviewerID: reviewerID, status: .draft, strengths: nil,
            growthAreas: nil, discussionTopics: nil, reviewerNotes: nil, actionItems: nil, kpiRatings: ratings,
            goals: [],
            kpiPassCount: nil, kpiTotalCount: nil, kpiPassed: nil, completedAt: nil, createdAt: now, updatedAt: now)
        let notification = Notification(
            id: notificationID, recipientID: reviewer.id, kind: .reviewAssigned, subjectID: id.text,
            message: "You are the reviewer of \(subject.name)'s review in \(cycle.name).", createdAt: now,
            readAt: nil)
        return Changed(review, [Change(.reviewCreated, review), Change(.notificationCreated, notification)])
    }

    /// Change a review's texts, KPI ratings, goals or status (see the rules above); completing it computes its
    /// pass/fail figures, reopening it clears them.
    public func updateReview(
        id: ID<Review>, _ edit: ReviewEdit, now: Timestamp, newGoalID: () -> ID<Review.Goal>, by principal: Principal
    ) throws(DomainError) -> Changed<Review> {
        let edit = try Self.validated(edit)
        var review = try visibleReview(id, by: principal)
        let before = review
        let target = edit.status ?? review.status
        if principal.personID == review.userID {
            if review.status != .selfAssessment {
                throw DomainError(
                    .permissionDenied,
                    "The person reviewed may only change their review while it is in self_assessment; it is "
                        + "\(review.status.rawValue).")
            }
            if let field = edit.fieldTheSubjectMayNotChange {
                throw DomainError(
                    .permissionDenied,
                    "The person reviewed may change only kpi_ratings[].notes, goals and discussion_topics, and move "
                        + "the review on to in_review; \(field) is for the reviewer.")
            }
        } else {
            try requireChangeRights(review, by: principal)
            if review.status == .completed && target != .completed {
                try Authorization.require(.managePerformance, of: principal, in: self, to: "reopen a completed review")
            }
        }
        if review.status == .completed && target == .completed && edit.changesFields {
            throw DomainError(
                .validation(field: "status"),
                "The review \(id) is completed and cannot be changed; reopen it first (status, with "
                    + "manage:performance).")
        }
        if review.status == .completed && target != .completed {
            review.kpiPassCount = nil
            review.kpiTotalCount = nil
            review.kpiPassed = nil
            review.completedAt = nil
        }
        review.status = target
        if let text = edit.strengths { review.strengths = text }
        if let text = edit.growthAreas { review.growthAreas = text }
        if let text = edit.discussionTopics { review.discussionTopics = text }
        if let text = edit.reviewerNotes { review.reviewerNotes = text }
        if let text = edit.actionItems { review.actionItems = text }
        if let ratings = edit.ratings { try Self.apply(ratings, to: &review) }
        if let goals = edit.goals {
            review.goals = try Self.goals(goals, replacing: review.goals, newGoalID: newGoalID)
        }
        if target == .completed && before.status != .completed {
            let total = review.kpiRatings.count
            let passed = review.kpiRatings.count(where: \.passed)
            review.kpiTotalCount = total
            review.kpiPassCount = passed
            review.kpiPassed =
                total > 0 && passed * 4 >= total * 3 && review.kpiRatings.allSatisfy { !$0.isMandatory || $0.passed }
            review.completedAt = now
        }
        guard review != before else { return Changed(before, []) }
        review.updatedAt = now
        let kind: ChangeKind =
            review.status == .completed && before.status != .completed ? .reviewCompleted : .reviewUpdated
        return Changed(kind, review)
    }

    /// Delete a draft review.
    public func deleteReview(id: ID<Review>, by principal: Principal) throws(DomainError) -> Changed<Review> {
        let review = try visibleReview(id, by: principal)
        try Authorization.require(.managePerformance, of: principal, in: self, to: "delete reviews")
        guard review.status == .draft else {
            throw DomainError(
                .validation(field: "id"),
                "The review \(id) is \(review.status.rawValue); only a draft review can be deleted.")
        }
        return Changed(.reviewDeleted, review)
    }

    /// A review with the reviews before it and, for an annual review, their aggregated KPI ratings.
    public func readReview(_ id: ID<Review>, by principal: Principal) throws(DomainError) -> ReviewDetail {
        let review = try visibleReview(id, by: principal)
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read reviews")
        return detail(of: review)
    }

    /// The reviews the principal sees, in id order, in `cycleID` and in `status` when given.
    public func listReviews(cycleID: ID<ReviewCycle>?, status: Review.Status?, by principal: Principal)
        throws(DomainError) -> [Review]
    {
        if let cycleID { _ = try visibleCycle(cycleID, by: principal) }
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read reviews")
        // The indexes narrow the reviews down to the cycle before any is read; the status is tested as each is read.
        switch Authorization.peopleInScope(of: principal, in: self) {
        case .everyone:
            let ids = cycleID.map { reviews.indexes.byCycle[$0] } ?? reviews.ids
            return reviews.rows(ids) { status == nil || $0.status == status }
        case .only(let people):
            let ids = visibleReviewIDs(of: people, in: cycleID, principal: principal)
            return reviews.rows(ids) { status == nil || $0.status == status }
        }
    }

    /// Record the outcomes of goals of the review's previous reviews; each previous review whose goals change is
    /// one change.
    public func recordGoalOutcomes(
        reviewID: ID<Review>, _ outcomes: [(goalID: ID<Review.Goal>, status: Review.Goal.Outcome)], now: Timestamp,
        by principal: Principal
    ) throws(DomainError) -> Changed<ID<Review>> {
        var seen: Set<ID<Review.Goal>> = []
        for (offset, outcome) in outcomes.enumerated() where !seen.insert(outcome.goalID).inserted {
            throw DomainError.invalid("outcomes[\(offset)].goal_id", "names \(outcome.goalID) a second time")
        }
        let review = try visibleReview(reviewID, by: principal)
        if principal.personID == review.userID {
            throw DomainError(
                .permissionDenied, "The person reviewed may not record the outcomes of their goals; the reviewer does.")
        }
        try requireChangeRights(review, by: principal)
        guard review.status != .completed else {
            throw DomainError(
                .validation(field: "id"),
                "The review \(reviewID) is completed and cannot be changed; reopen it first.")
        }
        var previous = detail(of: review).previousReviews
        for (offset, outcome) in outcomes.enumerated() {
            guard
                let reviewIndex = previous.firstIndex(where: { $0.goals.contains { $0.id == outcome.goalID } }),
                let goalIndex = previous[reviewIndex].goals.firstIndex(where: { $0.id == outcome.goalID })
            else {
                throw DomainError.invalid(
                    "outcomes[\(offset)].goal_id",
                    "(\(outcome.goalID)) is not a goal of this review's previous_reviews")
            }
            previous[reviewIndex].goals[goalIndex].status = outcome.status
        }
        let changes = previous.compactMap { updated -> Change? in
            guard var changed = Optional(updated), reviews[updated.id] != updated else { return nil }
            changed.updatedAt = now
            return Change(.goalOutcomeRecorded, changed)
        }
        return Changed(reviewID, changes)
    }

    /// The goals of the acting person's most recent completed review, with that review and its cycle; `nil` when
    /// they have none.
    public func currentGoals(of person: ID<Person>, by principal: Principal) throws(DomainError)
        -> (review: Review, cycle: ReviewCycle)?
    {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read goals")
        return completedReviews(of: person).last
    }

    /// The completed reviews of `userID`, oldest first, for those who see them.
    public func reviewHistory(of userID: ID<Person>, by principal: Principal) throws(DomainError)
        -> [ReviewHistoryEntry]
    {
        try requireSubject(userID, field: "user_id", by: principal)
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read review history")
        guard people[userID] != nil else { throw Self.unknownPerson(userID, field: "user_id") }
        return completedReviews(of: userID).map { ReviewHistoryEntry(review: $0.review, cycle: $0.cycle) }
    }

    // MARK: - Helpers

    /// The review with `id`, or `not_found` when there is none or the principal neither sees its subject nor is its
    /// reviewer.
    func visibleReview(_ id: ID<Review>, by principal: Principal) throws(DomainError) -> Review {
        guard let review = reviews[id], canSee(review, by: principal) else {
            throw DomainError.notFound("review", id.text)
        }
        return review
    }

    /// Whether `principal` sees `review`: its subject is in their scope, or they are its reviewer.
    func canSee(_ review: Review, by principal: Principal) -> Bool {
        principal.personID == review.reviewerID || Authorization.canSee(review.userID, by: principal, in: self)
    }

    /// The ids of the reviews of `people` and of those `principal` is the reviewer of, in `cycleID` when given, in id
    /// order and each once.
    func visibleReviewIDs(of people: [ID<Person>], in cycleID: ID<ReviewCycle>?, principal: Principal)
        -> [ID<Review>]
    {
        var ids: [ID<Review>] = []
        if let cycleID {
            ids.reserveCapacity(people.count)
            for person in people {
                if let id = reviews.indexes.bySubjectAndCycle[SubjectInCycle(subject: person, cycle: cycleID)] {
                    ids.append(id)
                }
            }
            if let actor = principal.personID {
                ids += reviews.indexes.byReviewerInCycle[ReviewerInCycle(reviewer: actor, cycle: cycleID)]
            }
        } else {
            for person in people { ids += reviews.indexes.bySubject[person] }
            if let actor = principal.personID { ids += reviews.indexes.byReviewer[actor] }
        }
        ids.sort()
        // The principal may be the reviewer of someone in their scope: that review is listed once.
        var unique = 0
        for index in ids.indices where unique == 0 || ids[unique - 1] != ids[index] {
            ids[unique] = ids[index]
            unique += 1
        }
        ids.removeSubrange(unique...)
        return ids
    }

    /// `permission_denied` unless `principal` may change `review`: `update:performance` over its subject, or its
    /// reviewer with `update:performance`.
    private func requireChangeRights(_ review: Review, by principal: Principal) throws(DomainError) {
        try Authorization.require(.updatePerformance, of: principal, in: self, to: "change reviews")
        guard principal.personID == review.reviewerID || Authorization.canSee(review.userID, by: principal, in: self)
        else {
            throw DomainError(.permissionDenied, "Only the reviewer or someone over the person reviewed may change it.")
        }
    }

    /// `not_found` when `person` exists but lies outside the principal's scope: the directory is readable by all,
    /// their performance records are not. (A person who does not exist is `unprocessable`, checked after rights.)
    func requireSubject(_ person: ID<Person>, field: String, by principal: Principal) throws(DomainError) {
        if people[person] != nil && !Authorization.canSee(person, by: principal, in: self) {
            throw DomainError.notFound("person", person.text)
        }
    }

    /// `unprocessable`: `person`, named by `field`, is no person of the organization.
    static func unknownPerson(_ person: ID<Person>, field: String) -> DomainError {
        DomainError(.unprocessable(field: field), "\(field) \(person) is not a person of this organization.")
    }

    /// The review with its previous reviews and aggregation (what a command answers after changing it).
    public func detail(of review: Review) -> ReviewDetail {
        guard let cycle = cycles[review.cycleID] else {
            return ReviewDetail(review: review, previousReviews: [], kpiAggregation: nil)
        }
        // The previous reviews are chosen by id; only those are kept.
        let completed = completedReviewIDs(of: review.userID).filter { $0.review != review.id }
        switch cycle.type {
        case .quarterly:
            let previous = completed.last { $0.cycle.periodEnd < cycle.periodEnd }
            return ReviewDetail(
                review: review, previousReviews: reviews.rows(previous.map { [$0.review] } ?? []),
                kpiAggregation: nil)
        case .annual:
            let quarters = reviews.rows(
                completed.filter {
                    $0.cycle.type == .quarterly && $0.cycle.periodStart >= cycle.periodStart
                        && $0.cycle.periodEnd <= cycle.periodEnd
                }.map(\.review))
            var aggregation: [(templateItemID: ID<Template.Item>, ratings: [Rating: Int])] = []
            var positions: [ID<Template.Item>: Int] = [:]
            // Items in the order their rows first appear (the template's order); only rated rows count, and an item
            // never rated is left out.
            for quarter in quarters {
                for row in quarter.kpiRatings.sorted(by: { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }) {
                    let position =
                        positions[row.templateItemID]
                        ?? {
                            aggregation.append((row.templateItemID, [:]))
                            positions[row.templateItemID] = aggregation.count - 1
                            return aggregation.count - 1
                        }()
                    if let rating = row.rating { aggregation[position].ratings[rating, default: 0] += 1 }
                }
            }
            aggregation.removeAll { $0.ratings.isEmpty }
            return ReviewDetail(review: review, previousReviews: quarters, kpiAggregation: aggregation)
        }
    }

    /// `person`'s completed reviews with their cycles, ordered by the cycle's `period_end`, then `completed_at`.
    func completedReviews(of person: ID<Person>) -> [(review: Review, cycle: ReviewCycle)] {
        completedReviewIDs(of: person).compactMap { entry in reviews[entry.review].map { ($0, entry.cycle) } }
    }

    /// The ids of `person`'s completed reviews with their cycles, in the same order: what a detail chooses its
    /// previous reviews from, keeping none of the reviews it reads.
    private func completedReviewIDs(of person: ID<Person>) -> [(review: ID<Review>, cycle: ReviewCycle)] {
        var completed: [(review: ID<Review>, cycleID: ID<ReviewCycle>, completedAt: Timestamp)] = []
        reviews.forEachRow(reviews.indexes.bySubject[person]) { review in
            if review.status == .completed {
                completed.append((review.id, review.cycleID, review.completedAt ?? review.updatedAt))
            }
        }
        var entries: [(review: ID<Review>, cycle: ReviewCycle, completedAt: Timestamp)] = []
        entries.reserveCapacity(completed.count)
        for entry in completed {
            if let cycle = cycles[entry.cycleID] { entries.append((entry.review, cycle, entry.completedAt)) }
        }
        entries.sort {
            ($0.cycle.periodEnd, $0.completedAt, $0.review) < ($1.cycle.periodEnd, $1.completedAt, $1.review)
        }
        return entries.map { ($0.review, $0.cycle) }
    }

    /// The edit with its texts trimmed and checked (empty text clears).
    private static func validated(_ edit: ReviewEdit) throws(DomainError) -> ReviewEdit {
        var edit = edit
        func text(_ value: String??, _ field: String) throws(DomainError) -> String?? {
            guard let value else { return nil }
            return .some(try Validate.optionalText(value, field: field, maximum: 10_000))
        }
        edit.strengths = try text(edit.strengths, "strengths")
        edit.growthAreas = try text(edit.growthAreas, "growth_areas")
        edit.discussionTopics = try text(edit.discussionTopics, "discussion_topics")
        edit.reviewerNotes = try text(edit.reviewerNotes, "reviewer_notes")
        edit.actionItems = try text(edit.actionItems, "action_items")
        if let ratings = edit.ratings {
            var seen: Set<ID<Review.KPIRating>> = []
            for (offset, rating) in ratings.enumerated() {
                guard seen.insert(rating.id).inserted else {
                    throw DomainError.invalid("kpi_ratings[\(offset)].id", "names \(rating.id) a second time")
                }
                if let notes = rating.notes {
                    edit.ratings?[offset].notes = .some(
                        try Validate.optionalText(notes, field: "kpi_ratings[\(offset)].notes", maximum: 2000))
                }
            }
        }
        if let goals = edit.goals {
            guard goals.count <= maximumGoals else {
                throw DomainError.invalid("goals", "must list at most \(maximumGoals) goals")
            }
            var seen: Set<ID<Review.Goal>> = []
            for (offset, goal) in goals.enumerated() {
                if let id = goal.id, !seen.insert(id).inserted {
                    throw DomainError.invalid("goals[\(offset)].id", "names \(id) a second time")
                }
                edit.goals?[offset].goal = try Validate.text(goal.goal, field: "goals[\(offset)].goal", maximum: 1000)
                edit.goals?[offset].successMeasures = try Validate.optionalText(
                    goal.successMeasures, field: "goals[\(offset)].success_measures", maximum: 2000)
                edit.goals?[offset].supportNeeded = try Validate.optionalText(
                    goal.supportNeeded, field: "goals[\(offset)].support_needed", maximum: 2000)
            }
        }
        return edit
    }

    /// Apply rating edits to the review's rows; each must name one of them.
    private static func apply(_ edits: [ReviewEdit.RatingEdit], to review: inout Review) throws(DomainError) {
        for (offset, edit) in edits.enumerated() {
            guard let index = review.kpiRatings.firstIndex(where: { $0.id == edit.id }) else {
                throw DomainError.invalid("kpi_ratings[\(offset)].id", "(\(edit.id)) is not a KPI row of this review")
            }
            if let rating = edit.rating { review.kpiRatings[index].rating = rating }
            if let notes = edit.notes { review.kpiRatings[index].notes = notes }
        }
    }

    /// The goal list that replaces `existing`: a draft naming an existing goal keeps its id and outcome.
    private static func goals(
        _ drafts: [ReviewEdit.GoalDraft], replacing existing: [Review.Goal], newGoalID: () -> ID<Review.Goal>
    ) throws(DomainError) -> [Review.Goal] {
        var goals: [Review.Goal] = []
        for (offset, draft) in drafts.enumerated() {
            var status: Review.Goal.Outcome?
            var id: ID<Review.Goal>
            if let named = draft.id {
                guard let old = existing.first(where: { $0.id == named }) else {
                    throw DomainError.invalid("goals[\(offset)].id", "(\(named)) is not a goal of this review")
                }
                id = named
                status = old.status
            } else {
                id = newGoalID()
            }
            goals.append(
                Review.Goal(
                    id: id, goal: draft.goal, successMeasures: draft.successMeasures,
                    supportNeeded: draft.supportNeeded, status: status, sortOrder: draft.sortOrder ?? offset))
        }
        return goals
    }
}
