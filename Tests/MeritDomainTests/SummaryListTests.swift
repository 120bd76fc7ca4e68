import Testing

@testable import MeritDomain

/// `State.listSummaries` merges per-person lists; these tests hold every page of every walk to the answer of the
/// plainest possible reading of the contract: every summary, filtered, checked for visibility, sorted.
@Suite("summaries.list against a brute-force oracle")
struct SummaryListOracleTests {
    /// A random organization and its summaries:
    ///
    ///     executive X ── head H1 ─┬─ manager M1 ── lead La (squad a), six employees (squads a, b)
    ///                             └─ manager M2 ── six employees
    ///                    head H2 ── manager M3 ── lead Lb (squad b), six employees
    ///     admin A (an employee with is_admin, no manager)
    ///
    /// Summaries are about anyone but X, written by their manager or now and then by another writer (so that some
    /// were written about someone outside the writer's scope), in every status, with many equal period ends and
    /// creation times.
    struct Organization {
        var state = State()
        var people: [String: ID<Person>] = [:]
        var sequence: Int64 = 0
        var random: SplitMix64

        init(seed: UInt64, summaries: Int) {
            random = SplitMix64(state: seed)
            apply(
                Change(
                    .organizationCreated,
                    MeritDomain.Organization(
                        id: ID(high: 1, low: 1), name: "Oracle", settings: .init(), createdAt: Self.time(0),
                        updatedAt: Self.time(0))))
            add("X", .executive)
            add("H1", .head, manager: "X")
            add("H2", .head, manager: "X")
            add("M1", .manager, manager: "H1")
            add("M2", .manager, manager: "H1")
            add("M3", .manager, manager: "H2")
            add("La", .lead, manager: "M1", squad: "a")
            add("Lb", .lead, manager: "M3", squad: "b")
            for manager in ["M1", "M2", "M3"] {
                for index in 0..<6 {
                    add("\(manager)e\(index)", .employee, manager: manager, squad: index.isMultiple(of: 2) ? "a" : "b")
                }
            }
            add("A", .employee, admin: true)
            let subjects = people.keys.filter { $0 != "X" }.sorted()
            let writers = ["X", "H1", "H2", "M1", "M2", "M3", "A"]
            for index in 0..<summaries {
                let subject = subjects[Int(random.next() % UInt64(subjects.count))]
                var author = state.people[people[subject]!]?.managerID ?? people["X"]!
                if random.next() % 8 == 0 { author = people[writers[Int(random.next() % UInt64(writers.count))]]! }
                if author == people[subject] { author = people["X"]! }
                let end = Day(daysSinceEpoch: 20_100 + Int64(random.next() % 40))
                let status = Summary.Status.allCases[Int(random.next() % 5)]
                let shared = status == .shared || (status == .archived && random.next() % 2 == 0)
                var changes: [Summary.PeriodEndChange] = []
                if random.next() % 6 == 0 {
                    changes.append(
                        .init(sequence: Int(sequence - 3), previous: Day(daysSinceEpoch: end.daysSinceEpoch - 9)))
                }
                apply(
                    Change(
                        .summaryCreated,
                        Summary(
                            id: ID(high: 3, low: UInt64(index) &* 0x9E37_79B9 % 1_000_003),
                            employeeID: people[subject]!,
                            managerID: author,
                            periodStart: Day(daysSinceEpoch: end.daysSinceEpoch - Int64(random.next() % 60)),
                            periodEnd: end, body: RichText(stored: Array(#"{"type":"doc"}"#.utf8)), status: status,
                            includedObservationIDs: [], includedObjectiveIDs: [], sharedAt: shared ? Self.time(5) : nil,
                            approvedAt: nil, createdAt: Self.time(Int64(random.next() % 50)), updatedAt: Self.time(9),
                            feedback: [], periodEndChanges: changes)))
            }
        }

        static func time(_ offset: Int64) -> Timestamp { Timestamp(milliseconds: 1_776_000_000_000 + offset) }

        mutating func apply(_ change: Change) {
            sequence += 1
            state.apply(change, sequence: sequence)
        }

        mutating func add(
            _ name: String, _ role: Person.Role, manager: String? = nil, squad: String? = nil, admin: Bool = false
        ) {
            let id = ID<Person>(high: 2, low: UInt64(people.count + 1))
            people[name] = id
            apply(
                Change(
                    .personCreated,
                    Person(
                        id: id, name: name, email: "\(name)@oracle.example", role: role,
                        managerID: manager.flatMap { people[$0] }, squad: squad, reviewTemplateID: nil, isAdmin: admin,
                        createdAt: Self.time(0), updatedAt: Self.time(0))))
        }

        /// Who lists: an integration acting as nobody, or a person with every scope their role allows.
        func principal(_ name: String?) -> Principal {
            Principal(keyID: ID(high: 4, low: 1), scopes: Set(Scope.allCases), personID: name.map { people[$0]! })
        }

        /// What the contract says a walk returns: every summary that matches and the principal may read, in order.
        func oracle(_ query: SummaryQuery, by principal: Principal) -> [ID<Summary>] {
            let statuses = query.statuses ?? [.draft, .pendingReview, .approved, .shared]
            let kept = state.summaries.inOrder.filter { summary in
                statuses.contains(summary.status) && (query.employeeID.map { summary.employeeID == $0 } ?? true)
                    && (query.managerID.map { summary.managerID == $0 } ?? true)
                    && (query.periodStartFrom.map { summary.periodStart >= $0 } ?? true)
                    && (query.periodEndFrom.map { summary.periodEnd >= $0 } ?? true)
                    && (query.periodEndUntil.map { summary.periodEnd <= $0 } ?? true)
                    && state.canRead(summary, by: principal)
            }
            let keyed = kept.map { summary in
                (
                    key: query.sort.byPeriodEnd ? summary.periodEnd.daysSinceEpoch : summary.createdAt.milliseconds,
                    id: summary.id
                )
            }
            let sorted = keyed.sorted { ($0.key, $0.id) < ($1.key, $1.id) }
            return (query.sort.descending ? sorted.reversed() : sorted).map(\.id)
        }

        /// Every page of a walk, as ids.
        func walk(_ query: SummaryQuery, by principal: Principal, tuning: State.SummaryListTuning = .standard) throws
            -> [[ID<Summary>]]
        {
            var pages: [[ID<Summary>]] = []
            var position: SummaryPosition?
            repeat {
                let (page, next) = try state.listSummaries(query, after: position, by: principal, tuning: tuning)
                pages.append(page.map(\.id))
                position = next
            } while position != nil && pages.count < 1000
            return pages
        }
    }

    /// The ways a page may be made: merging the lists of everyone in scope (the standard for these few people);
    /// walking everyone's lists first (as for a head of many), within a budget so small that the page is finished by
    /// merging, or large enough that it never is.
    static let tunings: [State.SummaryListTuning] = [
        .standard, .init(mergedLists: 0, scanned: 1, scannedPerEntry: 0),
        .init(mergedLists: 0, scanned: 7, scannedPerEntry: 0), .init(mergedLists: 0, scanned: 10_000),
    ]

    @Test(
        "every walk of every scope, sort and filter pages through exactly what the oracle lists",
        arguments: [1, 2, 3], 0..<4)
    func oracle(seed: UInt64, tuning: Int) throws {
        var organization = Organization(seed: seed, summaries: 400)
        #expect(organization.state.indexesAreConsistent)
        let principals: [String?] = [nil, "X", "H1", "H2", "M1", "M3", "La", "Lb", "M1e0", "M3e1", "A"]
        let names = organization.people.keys.sorted()
        for round in 0..<300 {
            var random = organization.random
            var query = SummaryQuery()
            query.sort = SummarySort.allCases[Int(random.next() % 4)]
            query.limit = 1 + Int(random.next() % 9)
            switch random.next() % 6 {
            case 0: query.employeeID = organization.people[names[Int(random.next() % UInt64(names.count))]]
            case 1: query.managerID = organization.people[names[Int(random.next() % UInt64(names.count))]]
            default: break
            }
            switch random.next() % 5 {
            case 0: query.statuses = [Summary.Status.allCases[Int(random.next() % 5)]]
            case 1: query.statuses = Summary.Status.allCases.filter { _ in random.next() % 2 == 0 }
            default: break
            }
            if random.next() % 4 == 0 {
                query.periodStartFrom = Day(daysSinceEpoch: 20_050 + Int64(random.next() % 60))
            }
            if random.next() % 4 == 0 { query.periodEndFrom = Day(daysSinceEpoch: 20_100 + Int64(random.next() % 40)) }
            if random.next() % 4 == 0 { query.periodEndUntil = Day(daysSinceEpoch: 20_100 + Int64(random.next() % 40)) }
            organization.random = random
            let who = principals[round % principals.count]
            let principal = organization.principal(who)
            let pages = try organization.walk(query, by: principal, tuning: Self.tunings[tuning])
            let expected = organization.oracle(query, by: principal)
            #expect(pages.flatMap { $0 } == expected, "round \(round) as \(who ?? "an integration"): \(query)")
            #expect(pages.dropLast().allSatisfy { $0.count == query.limit })
            #expect(pages.last?.count ?? 0 <= query.limit)
        }
    }

    @Test(
        "a manager's walk meets summaries whose period_end changed as they were when it began, once each",
        arguments: 0..<4)
    func movedDuringWalk(tuning: Int) throws {
        var organization = Organization(seed: 9, summaries: 300)
        let principal = organization.principal("M1")
        for sort in [SummarySort.periodEnd, .periodEndDescending] {
            var query = SummaryQuery()
            query.sort = sort
            query.limit = 4
            let expected = organization.oracle(query, by: principal)
            var seen: [ID<Summary>] = []
            var position: SummaryPosition?
            var pages = 0
            repeat {
                let (page, next) = try organization.state.listSummaries(
                    query, after: position, by: principal, tuning: Self.tunings[tuning])
                seen += page.map(\.id)
                position = next
                pages += 1
                // Between pages, move the period of one of the summaries, seen or not, back or forth.
                let id = expected[Int(organization.random.next() % UInt64(expected.count))]
                var summary = try #require(organization.state.summaries[id])
                summary.periodEndChanges.append(
                    .init(sequence: Int(organization.sequence + 1), previous: summary.periodEnd))
                summary.periodEnd = Day(daysSinceEpoch: 20_090 + Int64(organization.random.next() % 60))
                organization.apply(Change(.summaryUpdated, summary))
            } while position != nil && pages < 500
            #expect(seen == expected, "\(sort)")
        }
    }
}
