/// The anonymized feedback about a person: enough responses, or only how many there are.
public struct FeedbackSummary: Sendable, Equatable {
    /// One area's aggregate: how many responses gave each rating, and the comments, shuffled.
    public struct AreaSummary: Sendable, Equatable {
        public var area: FeedbackRequest.Area
        public var ratings: [Rating: Int]
        public var comments: [String]
    }

    public var responseCount: Int
    public var minimumRequired: Int
    /// The areas and overall comments, only when there are at least `minimumRequired` responses.
    public var areas: [AreaSummary]?
    public var overallComments: [String]?

    /// Whether there are enough responses to show anything.
    public var sufficient: Bool { areas != nil }
}

/// A person's pending work: `performance.action_items`.
public struct ActionItems: Sendable, Equatable {
    /// Reviews they review that are not completed.
    public var pendingReviews: Int
    /// Their own reviews waiting for their self-assessment.
    public var selfAssessments: Int
    /// Feedback requests assigned to them and not submitted.
    public var pendingFeedback: Int
    /// Open cycles in the organization.
    public var openCycles: Int
}

/// The commands and queries of 360° feedback.
///
/// Requesting feedback about someone needs `update:performance` over them; answering a request is for its
/// reviewer alone, once; the summary is for managers, heads, executives and admins (and integrations) about someone
/// in their scope, and never says who wrote what.
extension State {
    /// The longest comment accepted in feedback.
    public static let maximumFeedbackComment = 2000

    /// Ask `reviewerID` for feedback about `subjectID` in an open cycle, and notify them.
    public func createFeedbackRequest(
        id: ID<FeedbackRequest>, cycleID: ID<ReviewCycle>, subjectID: ID<Person>, reviewerID: ID<Person>,
        dueDate: Day?, now: Timestamp, notificationID: ID<Notification>, by principal: Principal
    ) throws(DomainError) -> Changed<FeedbackRequest> {
        guard reviewerID != subjectID else {
            throw DomainError.invalid(
                "reviewer_id", "must be someone other than the subject: nobody gives feedback on themself")
        }
        let cycle = try checkFeedbackRequest(cycleID: cycleID, subjectID: subjectID, by: principal)
        guard let reviewer = people[reviewerID] else { throw Self.unknownPerson(reviewerID, field: "reviewer_id") }
        if let existing = feedbackRequests.rows(
            feedbackRequests.indexes.bySubjectAndCycle[SubjectInCycle(subject: subjectID, cycle: cycleID)]
        ).first(where: { $0.reviewerID == reviewerID }) {
            throw DomainError(
                .conflict,
                "\(reviewer.name) was already asked for feedback about this person in \(cycle.name): \(existing.id).")
        }
        let (request, notification) = feedbackRequest(
            id: id, cycle: cycle, subjectID: subjectID, reviewer: reviewer, dueDate: dueDate, now: now,
            notificationID: notificationID, by: principal)
        return Changed(
            request, [Change(.feedbackRequestCreated, request), Change(.notificationCreated, notification)])
    }

    /// Ask the subject's peers, as their role selects them, for feedback, skipping those already asked; the value
    /// is `(created, totalPeers)`.
    ///
    /// Peers: for an employee or a lead, everyone else in their squad whatever their role (nobody without a squad);
    /// for a manager, every other manager and the manager's direct reports; for a head or an executive, every other
    /// head and their own direct reports whose role is manager.
    public func createFeedbackRequests(
        cycleID: ID<ReviewCycle>, subjectID: ID<Person>, dueDate: Day?, now: Timestamp,
        newRequestID: () -> ID<FeedbackRequest>, newNotificationID: () -> ID<Notification>, by principal: Principal
    ) throws(DomainError) -> Changed<(created: Int, totalPeers: Int)> {
        let cycle = try checkFeedbackRequest(cycleID: cycleID, subjectID: subjectID, by: principal)
        let peers = self.peers(of: subjectID)
        let asked = Set(
            feedbackRequests.rows(
                feedbackRequests.indexes.bySubjectAndCycle[SubjectInCycle(subject: subjectID, cycle: cycleID)]
            ).map(\.reviewerID))
        var changes: [Change] = []
        var created = 0
        for peer in peers where !asked.contains(peer) {
            guard let reviewer = people[peer] else { continue }
            let (request, notification) = feedbackRequest(
                id: newRequestID(), cycle: cycle, subjectID: subjectID, reviewer: reviewer, dueDate: dueDate, now: now,
                notificationID: newNotificationID(), by: principal)
            changes += [Change(.feedbackRequestCreated, request), Change(.notificationCreated, notification)]
            created += 1
        }
        return Changed((created, peers.count), changes)
    }

    /// The peers bulk requests select for `subjectID`, in id order.
    public func peers(of subjectID: ID<Person>) -> [ID<Person>] {
        guard let subject = people[subjectID] else { return [] }
        var peers = SortedIDs<Person>()
        switch subject.role {
        case .employee, .lead:
            if let squad = subject.squad {
                for id in people.indexes.squadMembers[squad] { peers.insert(id) }
            }
        case .manager:
            for id in people.indexes.byRole[.manager] { peers.insert(id) }
            for id in people.indexes.directReports[subjectID] { peers.insert(id) }
        case .head, .executive:
            for id in people.indexes.byRole[.head] { peers.insert(id) }
            for id in people.indexes.directReports[subjectID] where people[id]?.role == .manager { peers.insert(id) }
        }
        peers.remove(subjectID)
        return Array(peers)
    }

    /// The acting person's pending feedback requests, oldest first.
    public func pendingFeedbackRequests(of person: ID<Person>, by principal: Principal) throws(DomainError)
        -> [FeedbackRequest]
    {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read feedback requests")
        return pendingFeedbackRequests(of: person)
    }

    func pendingFeedbackRequests(of person: ID<Person>) -> [FeedbackRequest] {
        feedbackRequests.rows(feedbackRequests.indexes.byReviewer[person]).filter { $0.status == .pending }
    }

    /// Submit the answers to a request: only its reviewer, only once.
    public func submitFeedback(
        requestID: ID<FeedbackRequest>, answers: FeedbackRequest.Answers, now: Timestamp, by principal: Principal
    ) throws(DomainError) -> Changed<FeedbackRequest> {
        let answers = try Self.validated(answers)
        guard var request = feedbackRequests[requestID] else {
            throw DomainError.notFound("feedback request", requestID.text)
        }
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "submit feedback")
        guard let person = principal.personID else {
            throw DomainError(
                .permissionDenied,
                "performance.feedback.submit is for the reviewer the request is assigned to, and this key acts as "
                    + "nobody: use a key with a person_id, or _meta.actor with act_as.")
        }
        guard request.reviewerID == person else {
            throw DomainError(.permissionDenied, "The feedback request \(requestID) is assigned to someone else.")
        }
        guard request.status == .pending else {
            throw DomainError(
                .conflict, "The feedback request \(requestID) was already submitted at \(request.submittedAt!).")
        }
        request.status = .submitted
        request.submittedAt = now
        request.answers = answers
        return Changed(.feedbackSubmitted, request)
    }

    /// The anonymized feedback about `subjectID` (in `cycleID` when given), its comments shuffled by
    /// `shuffleKey` so that their order never follows who submitted when.
    public func feedbackSummary(
        subjectID: ID<Person>, cycleID: ID<ReviewCycle>?, shuffleKey: UInt64, by principal: Principal
    ) throws(DomainError) -> FeedbackSummary {
        if let cycleID { _ = try visibleCycle(cycleID, by: principal) }
        try requireSubject(subjectID, field: "user_id", by: principal)
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read feedback")
        if let actorID = principal.personID, let actor = people[actorID], !actor.isAdmin,
            actor.role < .manager
        {
            let article = actor.role == .employee ? "an" : "a"
            throw DomainError(
                .permissionDenied,
                "The feedback summary is for managers, heads, executives and admins; \(article) \(actor.role.rawValue) "
                    + "may not read it.")
        }
        guard people[subjectID] != nil else { throw Self.unknownPerson(subjectID, field: "user_id") }
        let ids =
            cycleID.map { feedbackRequests.indexes.bySubjectAndCycle[SubjectInCycle(subject: subjectID, cycle: $0)] }
            ?? feedbackRequests.indexes.bySubject[subjectID]
        let answers = feedbackRequests.rows(ids).compactMap(\.answers)
        let minimum = organization?.settings.feedbackMinimumResponses ?? 1
        var summary = FeedbackSummary(
            responseCount: answers.count, minimumRequired: minimum, areas: nil, overallComments: nil)
        guard answers.count >= minimum else { return summary }
        var random = SplitMix64(
            state: shuffleKey ^ subjectID.high ^ (subjectID.low &* 0x9E37_79B9_7F4A_7C15) ^ (cycleID?.low ?? 0))
        summary.areas = FeedbackRequest.Area.allCases.map { area in
            var ratings: [Rating: Int] = [:]
            var comments: [String] = []
            for answer in answers {
                guard let given = answer.answer(area) else { continue }
                ratings[given.rating, default: 0] += 1
                if let comment = given.comment { comments.append(comment) }
            }
            return FeedbackSummary.AreaSummary(area: area, ratings: ratings, comments: comments.shuffled(by: &random))
        }
        summary.overallComments = answers.compactMap(\.overallComment).shuffled(by: &random)
        return summary
    }

    /// The acting person's pending work.
    public func actionItems(of person: ID<Person>, by principal: Principal) throws(DomainError) -> ActionItems {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read action items")
        return ActionItems(
            pendingReviews: reviews.count(reviews.indexes.byReviewer[person]) { $0.status != .completed },
            selfAssessments: reviews.count(reviews.indexes.bySubject[person]) { $0.status == .selfAssessment },
            pendingFeedback: pendingFeedbackRequests(of: person).count,
            openCycles: cycles.indexes.byStatus[.open].count)
    }

    // MARK: - Helpers

    /// The checks every feedback request shares, in the contract's order: the cycle visible, the subject in scope,
    /// the right to ask, the subject a person, the cycle open. Returns the cycle.
    private func checkFeedbackRequest(cycleID: ID<ReviewCycle>, subjectID: ID<Person>, by principal: Principal)
        throws(DomainError) -> ReviewCycle
    {
        let cycle = try visibleCycle(cycleID, by: principal)
        try requireSubject(subjectID, field: "subject_id", by: principal)
        try Authorization.require(.updatePerformance, of: principal, in: self, to: "request feedback")
        guard people[subjectID] != nil else { throw Self.unknownPerson(subjectID, field: "subject_id") }
        guard cycle.status == .open else {
            throw DomainError(
                .validation(field: "cycle_id"),
                "The cycle \(cycle.name) is \(cycle.status.rawValue); feedback is requested in an open cycle.")
        }
        return cycle
    }

    /// A new request and the reviewer's notification of it.
    private func feedbackRequest(
        id: ID<FeedbackRequest>, cycle: ReviewCycle, subjectID: ID<Person>, reviewer: Person, dueDate: Day?,
        now: Timestamp, notificationID: ID<Notification>, by principal: Principal
    ) -> (FeedbackRequest, Notification) {
        let request = FeedbackRequest(
            id: id, cycleID: cycle.id, subjectID: subjectID, reviewerID: reviewer.id, dueDate: dueDate,
            status: .pending,
            requestedBy: principal.actorID, createdAt: now, submittedAt: nil, answers: nil)
        let subjectName = people[subjectID]?.name ?? subjectID.text
        let due = dueDate.map { ", due \($0)" } ?? ""
        let notification = Notification(
            id: notificationID, recipientID: reviewer.id, kind: .feedbackRequested, subjectID: id.text,
            message: "Your feedback on \(subjectName) is requested for \(cycle.name)\(due).", createdAt: now,
            readAt: nil)
        return (request, notification)
    }

    /// The answers with their comments trimmed and checked (an empty comment is none).
    private static func validated(_ answers: FeedbackRequest.Answers) throws(DomainError) -> FeedbackRequest.Answers {
        var answers = answers
        for (index, area) in FeedbackRequest.Area.allCases.enumerated() where index < answers.areas.count {
            answers.areas[index].comment = try Validate.optionalText(
                answers.areas[index].comment, field: "\(area.rawValue)_comment", maximum: maximumFeedbackComment)
        }
        answers.overallComment = try Validate.optionalText(
            answers.overallComment, field: "overall_comment", maximum: maximumFeedbackComment)
        return answers
    }
}

extension Array {
    /// The elements in an order drawn from `random` (Fisher–Yates).
    func shuffled(by random: inout SplitMix64) -> [Element] {
        var result = self
        guard result.count > 1 else { return result }
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            let other = Int(random.next() % UInt64(index + 1))
            result.swapAt(index, other)
        }
        return result
    }
}
