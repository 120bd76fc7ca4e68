/// What `summaries.update` asks to change; `nil` means "not given".
public struct SummaryEdit: Sendable {
    public var periodStart: Day?
    public var periodEnd: Day?
    /// A new body, read from the request; `updateSummary` holds it to the grammar.
    public var body: RichText.Candidate?
    public var includedObservationIDs: [ID<Observation>]?
    public var includedObjectiveIDs: [ID<Objective>]?

    /// An edit changing nothing.
    public init() {}
}

/// A transition of the lifecycle, with what it needs.
public enum SummaryAction: Sendable {
    case submit
    case approve
    /// Share, notifying the employee (with `message`) unless `notifyEmployee` is false.
    case share(notifyEmployee: Bool, message: String?)
    case archive

    /// The method's word for it.
    public var name: String {
        switch self {
        case .submit: "submit"
        case .approve: "approve"
        case .share: "share"
        case .archive: "archive"
        }
    }
}

/// How `summaries.list` orders summaries.
public enum SummarySort: String, Sendable, CaseIterable {
    case periodEnd = "period_end"
    case periodEndDescending = "-period_end"
    case createdAt = "created_at"
    case createdAtDescending = "-created_at"

    /// Whether it orders by `period_end`.
    public var byPeriodEnd: Bool { self == .periodEnd || self == .periodEndDescending }
    /// Whether it orders latest first.
    public var descending: Bool { self == .periodEndDescending || self == .createdAtDescending }
}

/// What `summaries.list` asks for: filters, order and page size.
public struct SummaryQuery: Sendable {
    public var sort: SummarySort = .periodEndDescending
    public var employeeID: ID<Person>?
    public var managerID: ID<Person>?
    /// The statuses wanted; `nil` means every status but archived.
    public var statuses: [Summary.Status]?
    public var periodStartFrom: Day?
    public var periodEndFrom: Day?
    public var periodEndUntil: Day?
    public var limit = 50

    /// The default query.
    public init() {}
}

/// Where a walk through `summaries.list` stands: the event it started after, and the sort key and id of the last
/// summary returned. Every page of a walk orders summaries as they were when it started, so that one changed or
/// created meanwhile is never returned twice and never makes the walk skip another.
public struct SummaryPosition: Sendable, Equatable {
    public var sequence: Int64
    public var key: Int64
    public var id: ID<Summary>

    /// A position.
    public init(sequence: Int64, key: Int64, id: ID<Summary>) {
        self.sequence = sequence
        self.key = key
        self.id = id
    }
}

/// The commands and queries of summaries.
///
/// Reading needs `summaries:read`; everything else `summaries:write`. Managers, heads, executives and admins
/// (and integrations) write the summaries of people in their scope, never their own; the summary's author may
/// always read it. The employee reads their summary only once it has been shared (before that it is `not_found` to
/// them), and is the only one who may post feedback on it.
extension State {
    /// The longest share message.
    public static let maximumShareMessage = 1000
    /// The most observations or objectives a summary cites.
    public static let maximumIncludedIDs = 200

    /// Create a draft summary.
    public func createSummary(
        id: ID<Summary>, employeeID: ID<Person>, managerID: ID<Person>?, periodStart: Day, periodEnd: Day,
        body: RichText.Candidate, observationIDs: [ID<Observation>], objectiveIDs: [ID<Objective>], now: Timestamp,
        by principal: Principal
    ) throws(DomainError) -> Changed<Summary> {
        try Self.checkSummaryPeriod(start: periodStart, end: periodEnd, today: now.day)
        let body = try body.checked()
        try Self.checkIncludedCount(observationIDs.count, objectiveIDs.count)
        try requireSubject(employeeID, field: "employee_id", by: principal)
        try Authorization.require(.summariesWrite, of: principal, in: self, to: "write summaries")
        guard let employee = people[employeeID] else { throw Self.unknownPerson(employeeID, field: "employee_id") }
        if principal.personID == employeeID {
            throw DomainError(.permissionDenied, "A summary is written about someone else: nobody writes their own.")
        }
        guard let manager = managerID ?? employee.managerID ?? principal.personID else {
            throw DomainError.invalid(
                "manager_id", "is required: \(employee.name) has no manager of record and the key acts as nobody")
        }
        guard let author = people[manager] else { throw Self.unknownPerson(manager, field: "manager_id") }
        if managerID != nil { try checkSummaryAuthor(author, of: employee) }
        try checkIncluded(observationIDs, objectiveIDs)
        let summary = Summary(
            id: id, employeeID: employeeID, managerID: manager, periodStart: periodStart, periodEnd: periodEnd,
            body: body, status: .draft, includedObservationIDs: observationIDs, includedObjectiveIDs: objectiveIDs,
            sharedAt: nil, approvedAt: nil, createdAt: now, updatedAt: now, feedback: [], periodEndChanges: [])
        return Changed(.summaryCreated, summary)
    }

    /// Change the body, the period or the cited ids, while the summary is a draft or pending review.
    public func updateSummary(id: ID<Summary>, _ edit: SummaryEdit, now: Timestamp, by principal: Principal)
        throws(DomainError) -> Changed<Summary>
    {
        try Self.checkSummaryPeriod(start: edit.periodStart, end: edit.periodEnd, today: now.day)
        let body = try edit.body?.checked()
        try Self.checkIncludedCount(edit.includedObservationIDs?.count ?? 0, edit.includedObjectiveIDs?.count ?? 0)
        var summary = try writableSummary(id, by: principal)
        try checkIncluded(edit.includedObservationIDs ?? [], edit.includedObjectiveIDs ?? [])
        guard summary.status == .draft || summary.status == .pendingReview else {
            throw DomainError(
                .conflict,
                "The summary \(id) is \(summary.status.rawValue); it can be updated only while draft or pending_review."
            )
        }
        let before = summary
        if let start = edit.periodStart { summary.periodStart = start }
        if let end = edit.periodEnd { summary.periodEnd = end }
        try Self.checkSummaryPeriod(start: summary.periodStart, end: summary.periodEnd, today: now.day)
        if let body { summary.body = body }
        if let ids = edit.includedObservationIDs { summary.includedObservationIDs = ids }
        if let ids = edit.includedObjectiveIDs { summary.includedObjectiveIDs = ids }
        guard summary != before else { return Changed(before, []) }
        if summary.periodEnd != before.periodEnd {
            summary.periodEndChanges.append(
                Summary.PeriodEndChange(sequence: Int(lastEventSequence + 1), previous: before.periodEnd))
            if summary.periodEndChanges.count > Summary.periodEndChangesKept { summary.periodEndChanges.removeFirst() }
        }
        summary.updatedAt = now
        return Changed(.summaryUpdated, summary)
    }

    /// Move the summary through its lifecycle; what is allowed depends on `summary_review_workflow` (CONTRACT §7);
    /// anything else is `conflict`. Sharing notifies the employee unless asked not to.
    public func transitionSummary(
        id: ID<Summary>, _ action: SummaryAction, now: Timestamp, notificationID: ID<Notification>,
        by principal: Principal
    ) throws(DomainError) -> Changed<Summary> {
        var action = action
        if case .share(let notify, let message) = action {
            action = .share(
                notifyEmployee: notify,
                message: try Validate.optionalText(message, field: "message", maximum: Self.maximumShareMessage))
        }
        var summary = try writableSummary(id, by: principal)
        let workflow = organization?.settings.summaryReviewWorkflow ?? false
        let allowed: [Summary.Status]
        let target: Summary.Status
        let kind: ChangeKind
        switch action {
        case .submit: (allowed, target, kind) = ([.draft], .pendingReview, .summarySubmitted)
        case .approve:
            (allowed, target, kind) = (
                workflow ? [.pendingReview] : [.draft, .pendingReview], .approved, .summaryApproved
            )
        case .share: (allowed, target, kind) = (workflow ? [.approved] : [.draft, .approved], .shared, .summaryShared)
        case .archive:
            (allowed, target, kind) = ([.draft, .pendingReview, .approved, .shared], .archived, .summaryArchived)
        }
        guard allowed.contains(summary.status) else {
            let from = allowed.map(\.rawValue).joined(separator: " or ")
            let reason =
                workflow && action.name != "submit" && action.name != "archive" ? " with the review workflow on" : ""
            throw DomainError(
                .conflict,
                "The summary \(id) is \(summary.status.rawValue); \(action.name) takes it only from \(from)\(reason).")
        }
        summary.status = target
        summary.updatedAt = now
        if target == .approved { summary.approvedAt = now }
        if target == .shared { summary.sharedAt = now }
        var changes = [Change(kind, summary)]
        if case .share(let notify, let message) = action, notify {
            let author =
                principal.personID.flatMap { people[$0] }?.name ?? people[summary.managerID]?.name ?? "Your manager"
            var text = "\(author) shared your summary for \(summary.periodStart) to \(summary.periodEnd)."
            if let message { text += " Message: \(message)" }
            changes.append(
                Change(
                    .notificationCreated,
                    Notification(
                        id: notificationID, recipientID: summary.employeeID, kind: .summaryShared, subjectID: id.text,
                        message: text, createdAt: now, readAt: nil)))
        }
        return Changed(summary, changes)
    }

    /// The employee's feedback on their shared summary; a clarification request notifies the manager. The value is
    /// the summary and the feedback.
    public func addSummaryFeedback(
        id: ID<Summary>, kind: Summary.Feedback.Kind, comment: String?, now: Timestamp,
        feedbackID: ID<Summary.Feedback>,
        notificationID: ID<Notification>, by principal: Principal
    ) throws(DomainError) -> Changed<(summary: Summary, feedback: Summary.Feedback)> {
        let comment = try Validate.optionalText(comment, field: "comment", maximum: 2000)
        var summary = try readSummary(id, by: principal)
        guard let author = principal.personID, author == summary.employeeID else {
            throw DomainError(.permissionDenied, "Only the employee the summary is about may post feedback on it.")
        }
        guard summary.status == .shared else {
            throw DomainError(
                .conflict, "The summary \(id) is \(summary.status.rawValue); feedback is posted on a shared summary.")
        }
        let feedback = Summary.Feedback(id: feedbackID, kind: kind, comment: comment, authorID: author, createdAt: now)
        summary.feedback.append(feedback)
        summary.updatedAt = now
        var changes = [Change(.summaryFeedbackSubmitted, summary)]
        if kind == .clarificationRequest {
            let name = people[author]?.name ?? "The employee"
            let question = comment.map { ": \($0)" } ?? "."
            changes.append(
                Change(
                    .notificationCreated,
                    Notification(
                        id: notificationID, recipientID: summary.managerID, kind: .summaryClarificationRequested,
                        subjectID: id.text, message: "\(name) asks for a clarification of their summary\(question)",
                        createdAt: now, readAt: nil)))
        }
        return Changed((summary, feedback), changes)
    }

    /// A summary the principal may read.
    public func readSummary(_ id: ID<Summary>, by principal: Principal) throws(DomainError) -> Summary {
        guard let summary = summaries[id], canRead(summary, by: principal) else {
            throw DomainError.notFound("summary", id.text)
        }
        try Authorization.require(.summariesRead, of: principal, in: self, to: "read summaries")
        return summary
    }

    /// Whether `principal` may read `summary`: the employee once it has been shared; else its author and whoever
    /// sees the employee.
    func canRead(_ summary: Summary, by principal: Principal) -> Bool {
        if principal.personID == summary.employeeID { return summary.sharedAt != nil }
        return principal.personID == summary.managerID
            || Authorization.canSee(summary.employeeID, by: principal, in: self)
    }

    /// A summary the principal may change: visible (else `not_found`), with `summaries:write`, and not their own.
    private func writableSummary(_ id: ID<Summary>, by principal: Principal) throws(DomainError) -> Summary {
        guard let summary = summaries[id], canRead(summary, by: principal) else {
            throw DomainError.notFound("summary", id.text)
        }
        try Authorization.require(.summariesWrite, of: principal, in: self, to: "change summaries")
        if principal.personID == summary.employeeID {
            throw DomainError(.permissionDenied, "Nobody changes a summary about themself.")
        }
        return summary
    }

    /// Not in the future, and ordered when both are known.
    private static func checkSummaryPeriod(start: Day?, end: Day?, today: Day) throws(DomainError) {
        if let start, start > today { throw DomainError.invalid("period_start", "(\(start)) is in the future") }
        if let end, end > today { throw DomainError.invalid("period_end", "(\(end)) is in the future") }
        if let start, let end, end < start {
            throw DomainError.invalid("period_end", "(\(end)) is before period_start (\(start))")
        }
    }

    /// A `manager_id` given at creation names someone who could write this summary themself: not the employee,
    /// with a role that writes summaries, and seeing the employee. Else anyone named would gain read and write
    /// access to it (`unprocessable` on `manager_id`).
    private func checkSummaryAuthor(_ author: Person, of employee: Person) throws(DomainError) {
        let problem: String?
        if author.id == employee.id {
            problem = "is the employee the summary is about"
        } else if !Authorization.grants(author, .summariesWrite) {
            let role = author.role == .employee ? "an employee" : "a \(author.role.rawValue)"
            problem = "is \(author.name), \(role), who does not write summaries"
        } else if !Authorization.canSee(employee.id, byPerson: author, in: self) {
            problem = "is \(author.name), who does not have \(employee.name) in their scope"
        } else {
            problem = nil
        }
        if let problem {
            throw DomainError(.unprocessable(field: "manager_id"), "manager_id \(author.id) \(problem).")
        }
    }

    private static func checkIncludedCount(_ observations: Int, _ objectives: Int) throws(DomainError) {
        if observations > maximumIncludedIDs {
            throw DomainError.invalid("included_observation_ids", "must list at most \(maximumIncludedIDs) ids")
        }
        if objectives > maximumIncludedIDs {
            throw DomainError.invalid("included_objective_ids", "must list at most \(maximumIncludedIDs) ids")
        }
    }

    /// Every cited observation and objective is one of the organization's (`unprocessable` otherwise).
    private func checkIncluded(_ observationIDs: [ID<Observation>], _ objectiveIDs: [ID<Objective>]) throws(DomainError)
    {
        for (offset, id) in observationIDs.enumerated() where observations[id] == nil {
            throw DomainError(
                .unprocessable(field: "included_observation_ids[\(offset)]"),
                "included_observation_ids[\(offset)] \(id) is not an observation of this organization.")
        }
        for (offset, id) in objectiveIDs.enumerated() where objectives[id] == nil {
            throw DomainError(
                .unprocessable(field: "included_objective_ids[\(offset)]"),
                "included_objective_ids[\(offset)] \(id) is not an objective of this organization.")
        }
    }
}
