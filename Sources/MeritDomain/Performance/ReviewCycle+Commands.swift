/// The commands and queries of review cycles. Managing cycles needs `manage:performance`; a draft cycle is visible
/// only with it (to anyone else it is `not_found`, in every method), as the seed says non-executives see only open
/// and closed cycles.
extension State {
    /// A cycle as `cycles.get` shows it, with the progress of the reviews the principal sees.
    public struct CycleDetail: Sendable {
        public var cycle: ReviewCycle
        /// Reviews in each status; `total` is their sum.
        public var counts: [Review.Status: Int]

        public var total: Int { counts.values.reduce(0, +) }
    }

    /// Create a cycle, as a draft.
    public func createCycle(
        id: ID<ReviewCycle>, type: ReviewCycle.Kind, name: String, periodStart: Day, periodEnd: Day, dueDate: Day?,
        now: Timestamp, by principal: Principal
    ) throws(DomainError) -> Changed<ReviewCycle> {
        let name = try Validate.name(name, field: "name")
        try Self.checkPeriod(start: periodStart, end: periodEnd, due: dueDate)
        try Authorization.require(.managePerformance, of: principal, in: self, to: "create review cycles")
        let cycle = ReviewCycle(
            id: id, type: type, name: name, periodStart: periodStart, periodEnd: periodEnd, dueDate: dueDate,
            status: .draft, createdAt: now, updatedAt: now)
        return Changed(.cycleCreated, cycle)
    }

    /// Change a cycle's name, dates or status. Status moves only draft → open → closed, and closed → open.
    public func updateCycle(
        id: ID<ReviewCycle>, name: String?, periodStart: Day?, periodEnd: Day?, dueDate: Day??,
        status: ReviewCycle.Status?, now: Timestamp, by principal: Principal
    ) throws(DomainError) -> Changed<ReviewCycle> {
        let name = try name.map { name throws(DomainError) in try Validate.name(name, field: "name") }
        if let periodStart, let periodEnd { try Self.checkPeriod(start: periodStart, end: periodEnd, due: nil) }
        var cycle = try visibleCycle(id, by: principal)
        try Authorization.require(.managePerformance, of: principal, in: self, to: "change review cycles")
        let before = cycle
        if let name { cycle.name = name }
        if let periodStart { cycle.periodStart = periodStart }
        if let periodEnd { cycle.periodEnd = periodEnd }
        if let dueDate { cycle.dueDate = dueDate }
        try Self.checkPeriod(start: cycle.periodStart, end: cycle.periodEnd, due: cycle.dueDate)
        if let status, status != cycle.status {
            switch (cycle.status, status) {
            case (.draft, .open), (.open, .closed), (.closed, .open): cycle.status = status
            default:
                throw DomainError.invalid(
                    "status",
                    "cannot move from \(cycle.status.rawValue) to \(status.rawValue): a cycle moves draft → open → "
                        + "closed, and closed → open")
            }
        }
        guard cycle != before else { return Changed(before, []) }
        cycle.updatedAt = now
        return Changed(.cycleUpdated, cycle)
    }

    /// Delete a draft cycle (a cycle that was ever opened keeps its history).
    public func deleteCycle(id: ID<ReviewCycle>, by principal: Principal) throws(DomainError) -> Changed<ReviewCycle> {
        let cycle = try visibleCycle(id, by: principal)
        try Authorization.require(.managePerformance, of: principal, in: self, to: "delete review cycles")
        guard cycle.status == .draft else {
            throw DomainError(
                .validation(field: "id"),
                "The cycle \(id) is \(cycle.status.rawValue); only a draft cycle can be deleted.")
        }
        return Changed(.cycleDeleted, cycle)
    }

    /// A cycle and the progress of the reviews in it that the principal sees.
    public func readCycle(_ id: ID<ReviewCycle>, by principal: Principal) throws(DomainError) -> CycleDetail {
        let cycle = try visibleCycle(id, by: principal)
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read review cycles")
        var counts: [Review.Status: Int] = [:]
        switch Authorization.peopleInScope(of: principal, in: self) {
        case .everyone:
            counts = reviews.indexes.statusCounts[id] ?? [:]
        case .only(let people):
            reviews.forEachRow(visibleReviewIDs(of: people, in: id, principal: principal)) { review in
                counts[review.status, default: 0] += 1
            }
        }
        return CycleDetail(cycle: cycle, counts: counts)
    }

    /// The cycles the principal sees, the most recent period first.
    public func listCycles(by principal: Principal) throws(DomainError) -> [ReviewCycle] {
        try Authorization.require(.viewPerformance, of: principal, in: self, to: "read review cycles")
        let drafts = seesDraftCycles(principal)
        return cycles.inOrder.filter { drafts || $0.status != .draft }.sorted {
            ($0.periodEnd, $0.periodStart, $0.id) > ($1.periodEnd, $1.periodStart, $1.id)
        }
    }

    /// The cycle with `id`, or `not_found` when there is none or it is a draft the principal may not see.
    func visibleCycle(_ id: ID<ReviewCycle>, by principal: Principal) throws(DomainError) -> ReviewCycle {
        guard let cycle = cycles[id], cycle.status != .draft || seesDraftCycles(principal) else {
            throw DomainError.notFound("review cycle", id.text)
        }
        return cycle
    }

    /// Whether `principal` sees draft cycles: only with `manage:performance`.
    func seesDraftCycles(_ principal: Principal) -> Bool {
        Authorization.allows(.managePerformance, to: principal, in: self)
    }

    /// A period ends on or after it starts; its due date, if any, is on or after its end.
    private static func checkPeriod(start: Day, end: Day, due: Day?) throws(DomainError) {
        guard end >= start else {
            throw DomainError.invalid("period_end", "(\(end)) is before period_start (\(start))")
        }
        if let due, due < end {
            throw DomainError.invalid("due_date", "(\(due)) is before period_end (\(end))")
        }
    }
}
