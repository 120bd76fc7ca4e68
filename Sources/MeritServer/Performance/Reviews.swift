import MeritDomain
import MeritJSON

/// `performance.reviews.*`, `performance.goals.current` and `performance.action_items`: reviews, their KPI ratings
/// and goals, pass/fail on completion, goal outcomes, history, and the acting person's pending work.
enum ReviewMethods {
    static let all: [Method] = [
        list, create, get, update, delete, updatePreviousGoals, history, currentGoals, actionItems,
    ]

    static let list = Method("performance.reviews.list", access: .authenticated) { server, params, result in
        let cycle: ID<ReviewCycle>? = try params.optionalID("cycle_id")
        let status = try params.optionalEnumeration("status", Review.Status.self)
        try params.finish()
        try server.withState { state in
            let reviews = try state.listReviews(cycleID: cycle, status: status, by: server.requestPrincipal)
            Review.writeList(reviews, to: &result, in: state)
        }
    }

    static let create = Method("performance.reviews.create", access: .authenticated) { server, params, result in
        let cycle: ID<ReviewCycle> = try params.id("cycle_id")
        let user: ID<Person> = try params.id("user_id")
        let reviewer: ID<Person>? = try params.optionalID("reviewer_id")
        try params.finish()
        let engine = server.engine
        let review = try server.record { state in
            try state.createReview(
                id: engine.newID(), cycleID: cycle, userID: user, reviewerID: reviewer, now: engine.now,
                newRatingID: { engine.newID() }, notificationID: engine.newID(), by: server.requestPrincipal)
        }
        server.withState { state in state.detail(of: review).write(to: &result, in: state) }
    }

    static let get = Method("performance.reviews.get", access: .authenticated) { server, params, result in
        let id: ID<Review> = try params.id("id")
        try params.finish()
        try server.withState { state in
            try state.readReview(id, by: server.requestPrincipal).write(to: &result, in: state)
        }
    }

    static let update = Method("performance.reviews.update", access: .authenticated) { server, params, result in
        params.refusesNull = true
        let id: ID<Review> = try params.id("id")
        var edit = ReviewEdit()
        edit.status = try params.optionalEnumeration("status", Review.Status.self)
        edit.strengths = try params.text("strengths")
        edit.growthAreas = try params.text("growth_areas")
        edit.discussionTopics = try params.text("discussion_topics")
        edit.reviewerNotes = try params.text("reviewer_notes")
        edit.actionItems = try params.text("action_items")
        edit.ratings = try params.optional("kpi_ratings", as: [JSON].self).map(readRatings)
        edit.goals = try params.optional("goals", as: [JSON].self).map(readGoals)
        try params.finish()
        let engine = server.engine
        let review = try server.record { state in
            try state.updateReview(
                id: id, edit, now: engine.now, newGoalID: { engine.newID() }, by: server.requestPrincipal)
        }
        server.withState { state in state.detail(of: review).write(to: &result, in: state) }
    }

    static let delete = Method("performance.reviews.delete", access: .authenticated) { server, params in
        let id: ID<Review> = try params.id("id")
        try params.finish()
        let deleted = try server.record { state in try state.deleteReview(id: id, by: server.requestPrincipal) }
        return ["id": JSON(deleted.id), "deleted": true]
    }

    static let updatePreviousGoals = Method("performance.reviews.update_previous_goals", access: .authenticated) {
        server, params, result in
        let id: ID<Review> = try params.id("id")
        let values = try params.required("outcomes", as: [JSON].self)
        var outcomes: [(goalID: ID<Review.Goal>, status: Review.Goal.Outcome)] = []
        for (offset, value) in values.enumerated() {
            var outcome = try FieldReader(value, path: "outcomes[\(offset)].")
            outcomes.append((try outcome.id("goal_id"), try outcome.enumeration("status")))
            try outcome.finish()
        }
        try params.finish()
        let engine = server.engine
        let reviewID = try server.record { state in
            try state.recordGoalOutcomes(reviewID: id, outcomes, now: engine.now, by: server.requestPrincipal)
        }
        try server.withState { state in
            try state.readReview(reviewID, by: server.requestPrincipal).write(to: &result, in: state)
        }
    }

    static let history = Method("performance.reviews.history", access: .authenticated) { server, params in
        let user: ID<Person> = try params.id("user_id")
        try params.finish()
        let entries = try server.withState { state in try state.reviewHistory(of: user, by: server.requestPrincipal) }
        return [
            "history": .array(
                entries.map { entry in
                    let review = entry.review
                    return [
                        "review_id": JSON(review.id), "cycle_id": JSON(entry.cycle.id),
                        "cycle_name": .string(entry.cycle.name), "cycle_type": .string(entry.cycle.type.rawValue),
                        "period_start": .string(entry.cycle.periodStart.description),
                        "period_end": .string(entry.cycle.periodEnd.description),
                        "completed_at": JSON(review.completedAt), "kpi_pass_count": JSON(review.kpiPassCount),
                        "kpi_total_count": JSON(review.kpiTotalCount),
                        "kpi_passed": .int(review.kpiPassed == true ? 1 : 0),
                        "goal_count": .int(Int64(review.goals.count)),
                        "goals_completed": .int(Int64(entry.goalsCompleted)),
                        "goals_not_completed": .int(Int64(entry.goalsNotCompleted)),
                    ]
                })
        ]
    }

    static let currentGoals = Method("performance.goals.current", access: .authenticated) { server, params in
        try params.finish()
        let person = try server.actingPerson(for: "performance.goals.current")
        let current = try server.withState { state in try state.currentGoals(of: person, by: server.requestPrincipal) }
        guard let (review, cycle) = current else {
            return ["goals": [], "cycle_name": ""]
        }
        let goals = review.goals.sorted { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }.map { goal -> JSON in
            .object((goal.json.objectValue ?? JSONObject()).inserting([("review_id", JSON(review.id))], after: "id"))
        }
        return ["goals": .array(goals), "cycle_name": .string(cycle.name)]
    }

    static let actionItems = Method("performance.action_items", access: .authenticated) { server, params in
        try params.finish()
        let person = try server.actingPerson(for: "performance.action_items")
        let items = try server.withState { state in try state.actionItems(of: person, by: server.requestPrincipal) }
        return [
            "pending_reviews": .int(Int64(items.pendingReviews)),
            "self_assessments": .int(Int64(items.selfAssessments)),
            "pending_feedback": .int(Int64(items.pendingFeedback)), "open_cycles": .int(Int64(items.openCycles)),
        ]
    }

    /// `kpi_ratings`: `[{id, rating?, notes?}]`; `null` clears a rating or notes.
    static func readRatings(_ values: [JSON]) throws -> [ReviewEdit.RatingEdit] {
        try values.enumerated().map { offset, value in
            var row = try FieldReader(value, path: "kpi_ratings[\(offset)].")
            let id: ID<Review.KPIRating> = try row.id("id")
            var rating: Rating??
            switch try row.update("rating", as: String.self) {
            case .absent: break
            case .null: rating = .some(nil)
            case .value(let text):
                rating = .some(try parseEnumeration(text, as: Rating.self, field: row.path + "rating"))
            }
            let notes = try row.text("notes")
            try row.finish()
            return ReviewEdit.RatingEdit(id: id, rating: rating, notes: notes)
        }
    }

    /// `goals`: the list that replaces the review's goals, `[{id?, goal, success_measures?, support_needed?,
    /// sort_order?}]`.
    static func readGoals(_ values: [JSON]) throws -> [ReviewEdit.GoalDraft] {
        try values.enumerated().map { offset, value in
            var goal = try FieldReader(value, path: "goals[\(offset)].")
            let draft = ReviewEdit.GoalDraft(
                id: try goal.optionalID("id"), goal: try goal.required("goal", as: String.self),
                successMeasures: try goal.optional("success_measures", as: String.self),
                supportNeeded: try goal.optional("support_needed", as: String.self),
                sortOrder: try goal.optional("sort_order", as: Int.self))
            try goal.finish()
            return draft
        }
    }
}

extension FieldReader {
    /// A text of an update: absent (`nil`), `null` (`.some(nil)`, clears) or a string.
    mutating func text(_ key: String) throws -> String?? {
        switch try update(key, as: String.self) {
        case .absent: nil
        case .null: .some(nil)
        case .value(let text): .some(text)
        }
    }
}

/// What a review's object shows besides its fields: the names of its cycle, subject and reviewer right after
/// their ids. Its KPI rows and goals are left out, as `reviews.get` shows them beside it, or, for the event feed,
/// moved to the end of it in their sort order.
struct ReviewMembers: MemberDecoration {
    var cycleID: ID<ReviewCycle>
    var cycleName: String?
    var cycleType: ReviewCycle.Kind?
    var userName: String?
    var reviewerID: ID<Person>
    var reviewerName: String?
    /// The rows shown at the end of the object, in their sort order; `nil` when they are shown apart.
    var rows: (ratings: [Review.KPIRating], goals: [Review.Goal])?

    /// The members of `review` as they are now in `state`, taking the cycle's and the reviewer's names from
    /// `previous` (another review's) when they are the same; `includingRows` moves its rows to the end (the feed).
    init(_ review: Review, in state: State, reusing previous: ReviewMembers? = nil, includingRows: Bool = false) {
        cycleID = review.cycleID
        if let previous, previous.cycleID == review.cycleID {
            (cycleName, cycleType) = (previous.cycleName, previous.cycleType)
        } else {
            let cycle = state.cycles[review.cycleID]
            (cycleName, cycleType) = (cycle?.name, cycle?.type)
        }
        userName = state.people[review.userID]?.name
        reviewerID = review.reviewerID
        if let previous, previous.reviewerID == review.reviewerID {
            reviewerName = previous.reviewerName
        } else {
            reviewerName = state.people[review.reviewerID]?.name
        }
        if includingRows { rows = (review.ratingsInOrder, review.goalsInOrder) }
    }

    func omits(_ key: FieldKey) -> Bool { key.isNamed("kpi_ratings") || key.isNamed("goals") }

    func encodeMembers<Encoder: FieldEncoder & ~Copyable>(after key: FieldKey, to encoder: inout Encoder) {
        if key.isNamed("cycle_id") {
            encoder.encode("cycle_name", cycleName)
            encoder.encode("cycle_type", cycleType)
        } else if key.isNamed("user_id") {
            encoder.encode("user_name", userName)
        } else if key.isNamed("reviewer_id") {
            encoder.encode("reviewer_name", reviewerName)
        }
    }

    func encodeTrailingMembers<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        guard let rows else { return }
        encoder.encode("kpi_ratings", rows.ratings)
        encoder.encode("goals", rows.goals)
    }
}

extension Review {
    /// Write `{reviews: [review object…]}`, as `reviews.list` answers.
    static func writeList(_ reviews: [Review], to writer: inout JSONWriter, in state: State) {
        // The names are looked up first, so that the state is not captured (and copied) by the closure that writes;
        // the reviews of a list mostly share their cycle and reviewer, looked up once.
        var members: [ReviewMembers] = []
        members.reserveCapacity(reviews.count)
        for index in reviews.indices {
            members.append(ReviewMembers(reviews[index], in: state, reusing: members.last))
        }
        writer.encodingFields { encoder in
            encoder.openObject()
            encoder.memberName("reviews")
            encoder.openArray()
            for index in reviews.indices {
                encoder.nextElement()
                encoder.writeRecord(reviews[index], decoratedBy: members[index])
            }
            encoder.closeArray()
            encoder.closeObject()
        }
    }

    /// Write the members `review`, `kpi_ratings` and `goals`: the review and its rows, as `reviews.get` shows them.
    func writeEntryMembers(to encoder: inout StagedFieldEncoder, decoratedBy members: ReviewMembers) {
        encoder.memberName("review")
        encoder.writeRecord(self, decoratedBy: members)
        encoder.encode("kpi_ratings", ratingsInOrder)
        encoder.encode("goals", goalsInOrder)
    }

    /// The KPI rows in their sort order (the rows themselves when they are in it, as they are when snapshotted from
    /// a template).
    var ratingsInOrder: [KPIRating] { kpiRatings.inSortOrder { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) } }

    /// The goals in their sort order.
    var goalsInOrder: [Goal] { goals.inSortOrder { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) } }
}

extension Array {
    /// The elements sorted by `isBefore`: the array itself, shared rather than copied, when they already are.
    fileprivate func inSortOrder(by isBefore: (Element, Element) -> Bool) -> [Element] {
        for index in indices.dropFirst() where isBefore(self[index], self[index - 1]) {
            return sorted(by: isBefore)
        }
        return self
    }
}

extension ReviewDetail {
    /// Write `{review, kpi_ratings, goals, previous_reviews, kpi_aggregation}`, exactly the seed's shape, straight
    /// to bytes; each previous review is `{review, kpi_ratings, goals}`.
    func write(to writer: inout JSONWriter, in state: State) {
        // The names are looked up first: the state is not captured by the closure that writes.
        let members = ReviewMembers(review, in: state)
        var previousMembers: [ReviewMembers] = []
        for index in previousReviews.indices {
            previousMembers.append(ReviewMembers(previousReviews[index], in: state, reusing: previousMembers.last))
        }
        writer.encodingFields { encoder in write(to: &encoder, members: members, previousMembers: previousMembers) }
    }

    private func write(
        to encoder: inout StagedFieldEncoder, members: ReviewMembers, previousMembers: [ReviewMembers]
    ) {
        encoder.openObject()
        review.writeEntryMembers(to: &encoder, decoratedBy: members)
        encoder.memberName("previous_reviews")
        encoder.openArray()
        for index in previousReviews.indices {
            encoder.nextElement()
            encoder.openObject()
            previousReviews[index].writeEntryMembers(to: &encoder, decoratedBy: previousMembers[index])
            encoder.closeObject()
        }
        encoder.closeArray()
        encoder.memberName("kpi_aggregation")
        if let kpiAggregation {
            encoder.openObject()
            for (item, ratings) in kpiAggregation {
                encoder.memberName(item)
                Self.writeAggregate(ratings, to: &encoder)
            }
            encoder.closeObject()
        } else {
            encoder.writeNull()
        }
        encoder.closeObject()
    }

    /// `{ratings: {<rating>: count}, most_common}`, the ratings in scale order.
    private static func writeAggregate(_ ratings: [Rating: Int], to encoder: inout StagedFieldEncoder) {
        encoder.openObject()
        encoder.memberName("ratings")
        encoder.openObject()
        for rating in Rating.allCases {
            guard let count = ratings[rating] else { continue }
            encoder.memberName(text: rating.rawValue)
            encoder.writeInteger(Int64(count))
        }
        encoder.closeObject()
        encoder.encode("most_common", mostCommon(ratings))
        encoder.closeObject()
    }
}

extension Review: ServedResource {
    static var methods: [Method] { ReviewMethods.all }

    /// The `review` object of `reviews.get` with its `kpi_ratings` and `goals` inside it.
    func feedData(for kind: ChangeKind, in state: State) -> JSON {
        JSONTreeEncoder.tree(of: self, decoratedBy: ReviewMembers(self, in: state, includingRows: true))
    }
}
