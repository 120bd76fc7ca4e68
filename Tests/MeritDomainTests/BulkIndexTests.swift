import Dispatch
import Testing

@testable import MeritDomain

@Suite("the places of ids")
struct IDPositionsTests {
    /// Ids as the server makes them (consecutive within a millisecond), and random ones.
    static func ids(_ count: Int, random: inout SplitMix64) -> [ID<Summary>] {
        (0..<count).map { number in
            number.isMultiple(of: 2)
                ? ID(high: 0x0190_0000_0000_0000 | UInt64(number / 64), low: 0xFFFF_FFFF_FFFF_FF00 &+ UInt64(number))
                : ID(high: random.next(), low: random.next())
        }
    }

    @Test("inserts, moves and removals in any order agree with a dictionary, through growth and copies")
    func agreesWithADictionary() {
        var random = SplitMix64(state: 11)
        let ids = Self.ids(5000, random: &random)
        var positions = IDPositions<Summary>()
        var expected: [ID<Summary>: Int] = [:]
        var copies: [(IDPositions<Summary>, [ID<Summary>: Int])] = []
        for step in 0..<40_000 {
            let id = ids[Int(random.next() % UInt64(ids.count))]
            switch random.next() % 4 {
            case 0:
                let (place, isNew) = positions.place(of: id, next: step)
                #expect(isNew == (expected[id] == nil))
                if isNew { expected[id] = step }
                #expect(place == expected[id])
            case 1:
                positions.set(id, to: step)
                expected[id] = step
            case 2:
                #expect(positions.removeValue(forKey: id) == expected.removeValue(forKey: id))
            default:
                #expect(positions[id] == expected[id])
            }
            if step.isMultiple(of: 10_000) { copies.append((positions, expected)) }
        }
        #expect(positions.count == expected.count)
        #expect(Dictionary(uniqueKeysWithValues: positions.entries.map { ($0.id, $0.position) }) == expected)
        for id in ids { #expect(positions[id] == expected[id]) }
        // A copy taken on the way is unchanged by what was done after it.
        for (copy, then) in copies {
            #expect(copy.count == then.count)
            #expect(Dictionary(uniqueKeysWithValues: copy.entries.map { ($0.id, $0.position) }) == then)
        }
    }

    @Test("removing every id of a long run of neighbours leaves each other one findable")
    func removalsInARun() {
        // Consecutive ids of one millisecond, in a table kept small: long runs of occupied slots.
        let ids = (0..<96).map { ID<Summary>(high: 7, low: UInt64($0)) }
        var positions = IDPositions<Summary>()
        for (place, id) in ids.enumerated() { positions.set(id, to: place) }
        for (place, id) in ids.enumerated() where place.isMultiple(of: 3) {
            #expect(positions.removeValue(forKey: id) == place)
        }
        for (place, id) in ids.enumerated() {
            #expect(positions[id] == (place.isMultiple(of: 3) ? nil : place))
        }
        #expect(positions.count == 64)
        #expect(positions.removeValue(forKey: ID(high: 8, low: 0)) == nil)
    }

    @Test("equal whatever the order the ids came in; room made ahead changes nothing")
    func equality() {
        var random = SplitMix64(state: 3)
        let ids = Self.ids(300, random: &random)
        var forward = IDPositions<Summary>()
        var backward = IDPositions<Summary>()
        backward.reserveCapacity(1000)
        for (place, id) in ids.enumerated() { forward.set(id, to: place) }
        for (place, id) in ids.enumerated().reversed() { backward.set(id, to: place) }
        #expect(forward == backward)
        backward.set(ids[0], to: 999)
        #expect(forward != backward)
        #expect(IDPositions<Summary>()[ids[0]] == nil)
    }
}

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
        #expect(parts == [0, 1])
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

@Suite("bytes in shared blocks")
struct SharedBytesTests {
    @Test("runs copied into an arena read back as they were, across blocks, alone when large, after the arena is gone")
    func arena() {
        var random = SplitMix64(state: 23)
        var arena: ByteArena? = ByteArena()
        var runs: [[UInt8]] = []
        var copies: [SharedBytes] = []
        // Enough runs to fill several blocks, of every size up to a quarter of a block and a little past it.
        var total = 0
        while total < 3 * ByteArena.blockSize {
            let count =
                runs.count.isMultiple(of: 50)
                ? ByteArena.blockSize / 4 + Int(random.next() % 3) - 1 : Int(random.next() % 2000)
            let run = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            runs.append(run)
            copies.append(run.withUnsafeBufferPointer { arena!.copy($0) })
            total += count
        }
        arena = nil
        for (run, copy) in zip(runs, copies) {
            #expect(copy.array == run)
            #expect(Int(copy.count) == run.count)
            #expect(copy == SharedBytes(run))
        }
        #expect(copies[1] != copies[2] || runs[1] == runs[2])
        #expect(SharedBytes([]) == SharedBytes([]))
        #expect(SharedBytes([1, 2]) != SharedBytes([1, 3]))
        #expect(SharedBytes([1, 2]) != SharedBytes([1, 2, 3]))
    }
}
