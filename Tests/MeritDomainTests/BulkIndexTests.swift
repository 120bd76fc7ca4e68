import Dispatch
import Testing

@testable import MeritDomain

@Suite("indexes built at once")
struct BulkIndexTests {
    @Test("an ordered index built from sorted entries equals one they were inserted into, at every size")
    func orderedIndexFromSorted() {
        for count in [0, 1, 511, 512, 513, 1024, 1500] {
            let entries = (0..<count).map {
                OrderedIndex<Summary>.Entry(key: Int64($0 / 4), id: ID(high: 1, low: UInt64($0)))
            }
            var inserted = OrderedIndex<Summary>()
            for entry in entries { inserted.insert(entry) }
            let built = OrderedIndex(sorted: entries)
            #expect(built == inserted)
            #expect(built.count == count)
            #expect(built.entries == entries)
            #expect(built.chunkStartsAreConsistent)
            var walked: [OrderedIndex<Summary>.Entry] = []
            built.forEach(after: entries.dropFirst(count / 2).first, descending: false) {
                walked.append($0)
                return true
            }
            #expect(walked == Array(entries.dropFirst(count / 2 + 1)))
        }
    }

    /// Summaries of every status, by 40 employees and 2 managers (whose drafts fill more than a chunk), with periods
    /// and creation times in and out of order, some with changes of `period_end`.
    static func summaries() -> [Summary] {
        var random = SplitMix64(state: 17)
        let base = Summary(
            id: ID(high: 0, low: 0), employeeID: ID(high: 1, low: 0), managerID: ID(high: 2, low: 0),
            periodStart: Day("2026-01-01")!, periodEnd: Day("2026-01-31")!,
            body: RichText(stored: Array(#"{"type":"doc","content":[]}"#.utf8)), status: .draft,
            includedObservationIDs: [], includedObjectiveIDs: [], sharedAt: nil, approvedAt: nil,
            createdAt: Timestamp(milliseconds: 1_700_000_000_000),
            updatedAt: Timestamp(milliseconds: 1_700_000_000_000),
            feedback: [], periodEndChanges: [])
        return (0..<2500).map { number in
            var summary = base
            // Ids mostly ascending, as they are made; every seventh from another run's clock.
            summary.id = ID(
                high: number.isMultiple(of: 7) ? random.next() : 0x0190_0000 + UInt64(number), low: random.next())
            summary.employeeID = ID(high: 1, low: UInt64(number % 40))
            summary.managerID = ID(high: 2, low: UInt64(number % 2))
            summary.status = random.next() % 5 < 3 ? .draft : Summary.Status.allCases[Int(random.next() % 5)]
            summary.periodEnd = Day(daysSinceEpoch: 20_000 + Int64(number / 10) - Int64(random.next() % 30))
            summary.createdAt = Timestamp(
                milliseconds: 1_700_000_000_000 + Int64(number) * 1000 - (number.isMultiple(of: 5) ? 50_000 : 0))
            if number.isMultiple(of: 11) {
                summary.periodEndChanges = [.init(sequence: number * 3, previous: Day(daysSinceEpoch: 19_000))]
            }
            return summary
        }
    }

    @Test("the summaries' indexes built at once equal those of inserting each, run in turn or at once")
    func summaryIndexes() {
        let summaries = Self.summaries()
        var inserted = Summary.Indexes()
        for summary in summaries { inserted.insert(summary) }
        var inTurn = Summary.Indexes.Builder(rows: summaries.count)
        var atOnce = Summary.Indexes.Builder(rows: summaries.count)
        for summary in summaries {
            inTurn.add(summary)
            atOnce.add(summary)
        }
        var parts: [Int] = []
        let built = inTurn.build { count, part in
            for index in 0..<count {
                parts.append(index)
                part(index)
            }
        }
        #expect(parts == Array(0..<parts.count))
        #expect(built == inserted)
        let concurrent = atOnce.build { count, part in
            withoutActuallyEscaping(part) { part in
                nonisolated(unsafe) let part = part
                DispatchQueue.concurrentPerform(iterations: count) { part($0) }
            }
        }
        #expect(concurrent == inserted)
        // Each manager's drafts take more than a chunk: the lists were built in chunks.
        #expect(inserted.byManager.count == 2 && inserted.byEmployee.count == 40)
        #expect(
            inserted.byManager.values.allSatisfy {
                $0.list(.draft, byPeriodEnd: true).count > OrderedIndex<Summary>.chunkSize
            })
        // And a builder given nothing builds empty indexes.
        #expect(
            Summary.Indexes.Builder(rows: 0).build { count, part in (0..<count).forEach(part) } == Summary.Indexes())
    }
}
