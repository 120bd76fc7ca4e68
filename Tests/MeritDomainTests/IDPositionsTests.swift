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

    @Test("in small tables, nearly full, whose runs wrap around their end, every operation agrees with a dictionary")
    func smallTables() {
        var random = SplitMix64(state: 29)
        for round in 0..<2000 {
            // At most 24 ids: tables of 8 to 32 slots, up to three quarters full.
            let ids = Self.ids(4 + round % 21, random: &random)
            var positions = IDPositions<Summary>()
            var expected: [ID<Summary>: Int] = [:]
            for step in 0..<60 {
                let id = ids[Int(random.next() % UInt64(ids.count))]
                if random.next() % 3 == 0 {
                    #expect(positions.removeValue(forKey: id) == expected.removeValue(forKey: id))
                } else {
                    positions.set(id, to: step)
                    expected[id] = step
                }
                for id in ids where positions[id] != expected[id] {
                    Issue.record("round \(round), step \(step): \(id) is at \(String(describing: positions[id]))")
                }
            }
            #expect(positions.count == expected.count)
        }
    }

    @Test("removing every third id of a full table of consecutive ids leaves each other one findable")
    func removalsAmongNeighbours() {
        // Consecutive ids of one millisecond, as the server makes them.
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
