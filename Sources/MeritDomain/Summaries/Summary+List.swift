/// `summaries.list`: a page in the query's order, merged from lists already in that order.
///
/// Every list of summaries a page can come from is kept ordered by each sort key, per status, for everyone, for each
/// employee and for each manager (`Summary.Shelves`). A page enters each list that can hold what the principal may
/// read and the query asks for at the cursor by binary search, then takes entries from the one whose next entry comes
/// first (a heap), until it has one more than the page holds: the work grows with the number of lists (statuses
/// times the people in scope) and the page, never with the number of summaries they hold.
///
/// A scope of many people (a head's) would mean thousands of lists to enter for a page of twenty. Then the page
/// first walks everyone's lists, keeping what the principal may read, which takes about the page times the share of
/// summaries in scope; and only if that has not filled it within a budget does it merge the people's own lists, from
/// the last summary it walked past. Either way the cost is bounded, and the order and the page are the same.
extension State {
    /// How `listSummaries` chooses between merging the lists of the people in scope and walking everyone's.
    struct SummaryListTuning {
        /// The most lists merged before everyone's are walked first.
        var mergedLists = 256
        /// How many summaries a walk of everyone's lists looks at before merging the people's own: at least
        /// `scanned`, and `scannedPerEntry` for each entry the page wants.
        var scanned = 1024
        var scannedPerEntry = 32

        static let standard = SummaryListTuning()
    }

    /// A page of the summaries the principal may read, after `position`, and the position of the next page.
    public func listSummaries(_ query: SummaryQuery, after position: SummaryPosition?, by principal: Principal)
        throws(DomainError) -> (summaries: [Summary], next: SummaryPosition?)
    {
        try listSummaries(query, after: position, by: principal, tuning: .standard)
    }

    func listSummaries(
        _ query: SummaryQuery, after position: SummaryPosition?, by principal: Principal, tuning: SummaryListTuning
    ) throws(DomainError) -> (summaries: [Summary], next: SummaryPosition?) {
        try Authorization.require(.summariesRead, of: principal, in: self, to: "read summaries")
        // A walk orders every page as summaries were when it began: after the event of its first page.
        let sequence = position?.sequence ?? lastEventSequence
        let sort = query.sort
        let statuses = query.statuses ?? [.draft, .pendingReview, .approved, .shared]
        func matches(_ summary: Summary) -> Bool {
            statuses.contains(summary.status) && (query.employeeID == nil || summary.employeeID == query.employeeID)
                && (query.managerID == nil || summary.managerID == query.managerID)
                && (query.periodStartFrom.map { summary.periodStart >= $0 } ?? true)
                && (query.periodEndFrom.map { summary.periodEnd >= $0 } ?? true)
                && (query.periodEndUntil.map { summary.periodEnd <= $0 } ?? true)
        }

        // The summaries whose period_end changed since the walk began are out of place in the lists: they are
        // passed over there, and placed where they were when it began.
        var movers: Set<ID<Summary>> = []
        if sort.byPeriodEnd {
            summaries.indexes.periodEndChanges.forEach(
                after: OrderedIndex.Entry(key: sequence, id: ID(high: .max, low: .max)), descending: false
            ) { change in
                movers.insert(change.id)
                return true
            }
        }

        // The lists: those of the employee or the manager asked for, else of everyone the principal sees, and
        // what they wrote themself; or everyone's, walked first, for a scope of many people (`inScope`).
        var shelves: [Summary.Shelves] = []
        var inScope: Set<ID<Person>>?
        if let employee = query.employeeID {
            shelves = summaries.indexes.byEmployee[employee].map { [$0] } ?? []
        } else if let manager = query.managerID {
            shelves = summaries.indexes.byManager[manager].map { [$0] } ?? []
        } else {
            switch Authorization.peopleInScope(of: principal, in: self) {
            case .everyone:
                shelves = [summaries.indexes.everyone]
            case .only(let people) where people.count * statuses.count > tuning.mergedLists:
                inScope = Set(people)
            case .only(let people):
                shelves = people.compactMap { summaries.indexes.byEmployee[$0] }
                if let actor = principal.personID, let written = summaries.indexes.byManager[actor] {
                    shelves.append(written)
                }
            }
        }

        // Enter each list at the cursor, or, ordered by period_end, at the first period_end the filters allow,
        // whichever comes later; stop at the last one they allow.
        var bound = position.map { OrderedIndex<Summary>.Entry(key: $0.key, id: $0.id) }
        var limit: Int64?
        if sort.byPeriodEnd {
            let (first, last) =
                sort.descending
                ? (query.periodEndUntil, query.periodEndFrom) : (query.periodEndFrom, query.periodEndUntil)
            if let first {
                // Just before every entry of `first`, in the walk's direction.
                let edge =
                    sort.descending
                    ? OrderedIndex<Summary>.Entry(key: first.daysSinceEpoch + 1, id: ID(high: 0, low: 0))
                    : OrderedIndex<Summary>.Entry(key: first.daysSinceEpoch - 1, id: ID(high: .max, low: .max))
                if let cursor = bound {
                    bound = sort.descending ? min(cursor, edge) : max(cursor, edge)
                } else {
                    bound = edge
                }
            }
            limit = last?.daysSinceEpoch
        }
        func merge(_ shelves: [Summary.Shelves], after bound: OrderedIndex<Summary>.Entry?) -> Merge {
            var merge = Merge(descending: sort.descending)
            for personal in shelves {
                for status in statuses {
                    merge.add(
                        personal.list(status, byPeriodEnd: sort.byPeriodEnd).walk(
                            after: bound, descending: sort.descending))
                }
            }
            return merge
        }

        let wanted = query.limit + 1
        var found: [OrderedIndex<Summary>.Entry] = []
        var previous: ID<Summary>?
        /// Take entries from `merge` into the page until it is full, the filters' last period_end is passed, or
        /// `budget` entries were looked at; returns the last entry looked at when the budget ran out first.
        func take(from merge: inout Merge, budget: Int = .max) -> OrderedIndex<Summary>.Entry? {
            var looked = 0
            while found.count < wanted, let entry = merge.next() {
                if let limit, sort.descending ? entry.key < limit : entry.key > limit { return nil }
                looked += 1
                // A summary in two lists (about someone in scope, written by the principal) comes out twice in a row.
                if entry.id != previous {
                    previous = entry.id
                    if !movers.contains(entry.id), let summary = summaries[entry.id],
                        inScope.map({ $0.contains(summary.employeeID) || summary.managerID == principal.personID })
                            ?? true,
                        matches(summary), canRead(summary, by: principal)
                    {
                        found.append(entry)
                    }
                }
                if looked == budget && found.count < wanted { return entry }
            }
            return nil
        }
        if let inScope {
            var everyone = merge([summaries.indexes.everyone], after: bound)
            if let last = take(from: &everyone, budget: max(tuning.scanned, tuning.scannedPerEntry * wanted)) {
                // Too few in scope among everyone's: merge the people's own lists, from where the walk stopped.
                var lists = inScope.compactMap { summaries.indexes.byEmployee[$0] }
                if let actor = principal.personID, let written = summaries.indexes.byManager[actor] {
                    lists.append(written)
                }
                var personal = merge(lists, after: last)
                _ = take(from: &personal)
            }
        } else {
            var lists = merge(shelves, after: bound)
            _ = take(from: &lists)
        }

        for id in movers {
            guard let summary = summaries[id], matches(summary), canRead(summary, by: principal) else { continue }
            let entry = OrderedIndex<Summary>.Entry(key: summary.periodEnd(asOf: sequence).daysSinceEpoch, id: id)
            if let cursor = position.map({ OrderedIndex<Summary>.Entry(key: $0.key, id: $0.id) }) {
                guard sort.descending ? entry < cursor : cursor < entry else { continue }
            }
            found.append(entry)
        }
        if !movers.isEmpty { found.sort { sort.descending ? $1 < $0 : $0 < $1 } }
        let page = found.prefix(query.limit)
        let next =
            found.count > query.limit
            ? page.last.map { SummaryPosition(sequence: sequence, key: $0.key, id: $0.id) } : nil
        return (page.compactMap { summaries[$0.id] }, next)
    }
}

/// Several walks through ordered lists, read as one: the next entry is always the first of the walks' current ones
/// (a binary heap of the walks by their current entry).
private struct Merge {
    let descending: Bool
    private var walks: [OrderedIndex<Summary>.Walk] = []

    init(descending: Bool) {
        self.descending = descending
    }

    /// Add a walk (nothing when it is already past its last entry).
    mutating func add(_ walk: OrderedIndex<Summary>.Walk) {
        guard walk.current != nil else { return }
        walks.append(walk)
        var child = walks.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(walks[child], walks[parent]) else { break }
            walks.swapAt(child, parent)
            child = parent
        }
    }

    /// The next entry of all the walks, in order.
    mutating func next() -> OrderedIndex<Summary>.Entry? {
        guard let entry = walks.first?.current else { return nil }
        walks[0].advance()
        if walks[0].current == nil {
            walks.swapAt(0, walks.count - 1)
            walks.removeLast()
        }
        var parent = 0
        while true {
            let left = 2 * parent + 1
            var first = parent
            if left < walks.count && precedes(walks[left], walks[first]) { first = left }
            if left + 1 < walks.count && precedes(walks[left + 1], walks[first]) { first = left + 1 }
            guard first != parent else { break }
            walks.swapAt(parent, first)
            parent = first
        }
        return entry
    }

    /// Whether `walk`'s current entry comes before `other`'s.
    private func precedes(_ walk: OrderedIndex<Summary>.Walk, _ other: OrderedIndex<Summary>.Walk) -> Bool {
        guard let entry = walk.current, let otherEntry = other.current else { return walk.current != nil }
        return descending ? otherEntry < entry : entry < otherEntry
    }
}
