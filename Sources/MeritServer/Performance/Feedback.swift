import MeritDomain
import MeritJSON

/// `performance.feedback.*`: 360° feedback requests (individual and bulk), the acting person's pending requests,
/// submission, and the anonymized summary.
enum FeedbackMethods {
    static let all: [Method] = [listRequests, createRequest, createBulk, submit, summary]

    static let listRequests = Method("performance.feedback.requests.list", access: .authenticated) { server, params in
        try params.finish()
        let person = try server.actingPerson(for: "performance.feedback.requests.list")
        return try server.withState { state in
            let requests = try state.pendingFeedbackRequests(of: person, by: server.requestPrincipal)
            return ["requests": .array(requests.map { $0.object(in: state) })]
        }
    }

    static let createRequest = Method("performance.feedback.requests.create", access: .authenticated) {
        server, params in
        let cycle: ID<ReviewCycle> = try params.id("cycle_id")
        let subject: ID<Person> = try params.id("subject_id")
        let reviewer: ID<Person> = try params.id("reviewer_id")
        let dueDate = try params.optionalDay("due_date")
        try params.finish()
        let engine = server.engine
        let request = try server.record { state in
            try state.createFeedbackRequest(
                id: engine.newID(), cycleID: cycle, subjectID: subject, reviewerID: reviewer, dueDate: dueDate,
                now: engine.now, notificationID: engine.newID(), by: server.requestPrincipal)
        }
        return server.withState { state in request.object(in: state) }
    }

    static let createBulk = Method("performance.feedback.requests.create_bulk", access: .authenticated) {
        server, params in
        let cycle: ID<ReviewCycle> = try params.id("cycle_id")
        let subject: ID<Person> = try params.id("subject_id")
        let dueDate = try params.optionalDay("due_date")
        try params.finish()
        let engine = server.engine
        let outcome = try server.record { state in
            try state.createFeedbackRequests(
                cycleID: cycle, subjectID: subject, dueDate: dueDate, now: engine.now,
                newRequestID: { engine.newID() }, newNotificationID: { engine.newID() }, by: server.requestPrincipal)
        }
        return ["created": .int(Int64(outcome.created)), "total_peers": .int(Int64(outcome.totalPeers))]
    }

    static let submit = Method("performance.feedback.submit", access: .authenticated) { server, params in
        let request: ID<FeedbackRequest> = try params.id("request_id")
        var areas: [FeedbackRequest.AreaAnswer] = []
        for area in FeedbackRequest.Area.allCases {
            areas.append(
                FeedbackRequest.AreaAnswer(
                    rating: try params.enumeration("\(area.rawValue)_rating"),
                    comment: try params.optional("\(area.rawValue)_comment", as: String.self)))
        }
        let overall = try params.optional("overall_comment", as: String.self)
        try params.finish()
        let engine = server.engine
        let submitted = try server.record { state in
            try state.submitFeedback(
                requestID: request, answers: FeedbackRequest.Answers(areas: areas, overallComment: overall),
                now: engine.now, by: server.requestPrincipal)
        }
        return server.withState { state in submitted.object(in: state) }
    }

    static let summary = Method("performance.feedback.summary", access: .authenticated) { server, params in
        let user: ID<Person> = try params.id("user_id")
        let cycle: ID<ReviewCycle>? = try params.optionalID("cycle_id")
        try params.finish()
        let engine = server.engine
        let summary = try server.withState { state in
            try state.feedbackSummary(
                subjectID: user, cycleID: cycle, shuffleKey: engine.shuffleKey, by: server.requestPrincipal)
        }
        guard let areas = summary.areas else {
            return [
                "sufficient": false, "response_count": .int(Int64(summary.responseCount)),
                "minimum_required": .int(Int64(summary.minimumRequired)),
            ]
        }
        var areasObject = JSONObject()
        for area in areas {
            var ratings = JSONObject()
            for rating in Rating.allCases {
                if let count = area.ratings[rating] { ratings.append(rating.rawValue, .int(Int64(count))) }
            }
            areasObject.append(
                area.area.rawValue, ["ratings": .object(ratings), "comments": JSON(area.comments)])
        }
        return [
            "sufficient": true, "response_count": .int(Int64(summary.responseCount)), "areas": .object(areasObject),
            "overall_comments": JSON(summary.overallComments ?? []),
        ]
    }
}

extension FeedbackRequest {
    /// The request as the API shows it: its subject's name beside their id, never the answers.
    func object(in state: State) -> JSON {
        .object(
            (json.objectValue ?? JSONObject()).inserting(
                [("subject_name", JSON(state.people[subjectID]?.name))], after: "subject_id"))
    }
}

extension FeedbackRequest: ServedResource {
    static var methods: [Method] { FeedbackMethods.all }

    /// The request, never its answers: the feed must not undo the summary's anonymity.
    func feedData(for kind: ChangeKind, in state: State) -> JSON { object(in: state) }
}
