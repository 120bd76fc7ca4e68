import MeritDomain
import MeritJSON

/// `performance.reviews.*`, `performance.goals.current` and `performance.action_items`: reviews, their KPI ratings
/// and goals, pass/fail on completion, goal outcomes, history, and the acting person's pending work.
enum ReviewMethods {
    static let all: [Method] = [
        list, create, get, update, delete, updatePreviousGoals, history, currentGoals, actionItems,
    ]

    static let list = Method("performance.reviews.list", access: .authenticated) { server, params in
        let cycle: ID<ReviewCycle>? = try params.optionalID("cycle_id")
        let status = try params.optionalEnumeration("status", Review.Status.self)
        try params.finish()
        let state = server.engine.state
        let reviews = try state.listReviews(cycleID: cycle, status: status, by: server.requestPrincipal)
        return ["reviews": .array(reviews.map { .object($0.object(in: state)) })]
    }

    static let create = Method("performance.reviews.create", access: .authenticated) { server, params in
        let cycle: ID<ReviewCycle> = try params.id("cycle_id")
        let user: ID<Person> = try params.id("user_id")
        let reviewer: ID<Person>? = try params.optionalID("reviewer_id")
        try params.finish()
        let engine = server.engine
        let review = try server.record(
            engine.state.createReview(
                id: engine.newID(), cycleID: cycle, userID: user, reviewerID: reviewer, now: engine.now,
                newRatingID: { engine.newID() }, notificationID: engine.newID(), by: server.requestPrincipal))
        return engine.state.detail(of: review).json(in: engine.state)
    }

    static let get = Method("performance.reviews.get", access: .authenticated) { server, params in
        let id: ID<Review> = try params.id("id")
        try params.finish()
        let state = server.engine.state
        return try state.readReview(id, by: server.requestPrincipal).json(in: state)
    }

    static let update = Method("performance.reviews.update", access: .authenticated) { server, params in
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
        let review = try server.record(
            engine.state.updateReview(
                id: id, edit, now: engine.now, newGoalID: { engine.newID() }, by: server.requestPrincipal))
        return engine.state.detail(of: review).json(in: engine.state)
    }

    static let delete = Method("performance.reviews.delete", access: .authenticated) { server, params in
        let id: ID<Review> = try params.id("id")
        try params.finish()
        let deleted = try server.record(server.engine.state.deleteReview(id: id, by: server.requestPrincipal))
        return ["id": JSON(deleted.id), "deleted": true]
    }

    static let updatePreviousGoals = Method("performance.reviews.update_previous_goals", access: .authenticated) {
        server, params in
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
        let reviewID = try server.record(
            engine.state.recordGoalOutcomes(reviewID: id, outcomes, now: engine.now, by: server.requestPrincipal))
        return try engine.state.readReview(reviewID, by: server.requestPrincipal).json(in: engine.state)
    }

    static let history = Method("performance.reviews.history", access: .authenticated) { server, params in
        let user: ID<Person> = try params.id("user_id")
        try params.finish()
        let entries = try server.engine.state.reviewHistory(of: user, by: server.requestPrincipal)
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
        guard let (review, cycle) = try server.engine.state.currentGoals(of: person, by: server.requestPrincipal) else {
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
        let items = try server.engine.state.actionItems(of: person, by: server.requestPrincipal)
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

extension Review {
    /// The review object as `reviews.get` shows it: the names of its subject, reviewer and cycle beside their ids,
    /// without its KPI rows and goals (which `reviews.get` shows beside it).
    func object(in state: State) -> JSONObject {
        let cycle = state.cycles[cycleID]
        return (json.objectValue ?? JSONObject()).removing(["kpi_ratings", "goals"])
            .inserting(
                [("cycle_name", JSON(cycle?.name)), ("cycle_type", JSON(cycle?.type.rawValue))], after: "cycle_id"
            )
            .inserting([("user_name", JSON(state.people[userID]?.name))], after: "user_id")
            .inserting([("reviewer_name", JSON(state.people[reviewerID]?.name))], after: "reviewer_id")
    }

    /// The KPI rows in their sort order.
    var sortedRatings: [JSON] { kpiRatings.sorted { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }.map(\.json) }

    /// The goals in their sort order.
    var sortedGoals: [JSON] { goals.sorted { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }.map(\.json) }

    /// `{review, kpi_ratings, goals}`: a review and its rows, as `previous_reviews` lists them.
    func entry(in state: State) -> JSON {
        ["review": .object(object(in: state)), "kpi_ratings": .array(sortedRatings), "goals": .array(sortedGoals)]
    }
}

extension ReviewDetail {
    /// `{review, kpi_ratings, goals, previous_reviews, kpi_aggregation}`, exactly the seed's shape.
    func json(in state: State) -> JSON {
        var aggregation = JSON.null
        if let kpiAggregation {
            var object = JSONObject()
            for (item, ratings) in kpiAggregation {
                var counts = JSONObject()
                for rating in Rating.allCases {
                    if let count = ratings[rating] { counts.append(rating.rawValue, .int(Int64(count))) }
                }
                object.append(
                    item.text,
                    ["ratings": .object(counts), "most_common": JSON(ReviewDetail.mostCommon(ratings)?.rawValue)])
            }
            aggregation = .object(object)
        }
        return [
            "review": .object(review.object(in: state)), "kpi_ratings": .array(review.sortedRatings),
            "goals": .array(review.sortedGoals),
            "previous_reviews": .array(previousReviews.map { $0.entry(in: state) }),
            "kpi_aggregation": aggregation,
        ]
    }
}

extension Review: ServedResource {
    static var methods: [Method] { ReviewMethods.all }

    /// The `review` object of `reviews.get` with its `kpi_ratings` and `goals` inside it.
    func feedData(for kind: ChangeKind, in state: State) -> JSON {
        var object = object(in: state)
        object.append("kpi_ratings", .array(sortedRatings))
        object.append("goals", .array(sortedGoals))
        return .object(object)
    }
}
