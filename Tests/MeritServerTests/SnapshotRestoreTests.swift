import Testing

@testable import MeritDomain
@testable import MeritServer

/// A snapshot's sections are read on three threads (decoded, indexed, stored) in batches: however many batches a
/// table takes, the state that comes back is the one that was written, rows, creation order and indexes alike.
@Suite("restoring a snapshot")
struct SnapshotRestoreTests {
    static func id<Entity>(_ kind: UInt64, _ number: Int) -> ID<Entity> {
        ID(high: 0x0190_0000_0000_0000 | kind, low: UInt64(number) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// A state of several thousand rows in several tables, each of more rows than a batch, with removals (so
    /// that creation order has holes) and updates, made by the reducer.
    static func organization() -> State {
        var state = State()
        var sequence: Int64 = 0
        func apply(_ change: Change) {
            sequence += 1
            state.apply(change, sequence: sequence)
        }
        apply(Change(.organizationCreated, ChangeKindTests.organization))
        let people = 1500
        for number in 0..<people {
            var person = ChangeKindTests.person
            person.id = id(1, number)
            person.email = "p\(number)@example.org"
            person.managerID = number < 30 ? nil : id(1, number % 30)
            person.squad = number.isMultiple(of: 3) ? nil : "squad \(number % 40)"
            apply(Change(.personCreated, person))
        }
        var cycle = ChangeKindTests.cycle
        for number in 0..<3 {
            cycle.id = id(2, number)
            apply(Change(.cycleCreated, cycle))
        }
        for number in 0..<2000 {
            var review = ChangeKindTests.review
            review.id = id(3, number)
            // One review of a person in a cycle, as the domain keeps it.
            review.cycleID = id(2, number / people)
            review.userID = id(1, number % people)
            review.reviewerID = id(1, (number * 7) % people)
            review.status = number.isMultiple(of: 2) ? .completed : .inReview
            review.strengths = "A long phrase that many reviews repeat word for word (\(number % 5))"
            apply(Change(.reviewCreated, review))
            if number.isMultiple(of: 9) { apply(Change(.reviewDeleted, review)) }
        }
        for number in 0..<1200 {
            var notification = ChangeKindTests.notification
            notification.id = id(4, number)
            notification.recipientID = id(1, number % 100)
            notification.message = "Notification number \(number), which is long enough to live on the heap"
            apply(Change(.notificationCreated, notification))
            if number.isMultiple(of: 4) {
                notification.readAt = ChangeKindTests.later
                apply(Change(.notificationRead, notification))
            }
        }
        // Summaries of 200 employees by 2 managers, whose drafts fill more than a chunk of their lists, with periods
        // and creation times out of order: the indexes built at once must sort them.
        for number in 0..<1600 {
            var summary = ChangeKindTests.summary
            summary.id = id(5, number)
            summary.employeeID = id(1, number % 200)
            summary.managerID = id(1, number % 2)
            summary.status = number.isMultiple(of: 4) ? .shared : number.isMultiple(of: 7) ? .archived : .draft
            summary.periodEnd = Day(daysSinceEpoch: 20_000 + Int64(number * 37 % 300))
            summary.createdAt = Timestamp(milliseconds: ChangeKindTests.now.milliseconds + Int64(number * 53 % 1000))
            // Bodies of many sizes, read back into shared blocks.
            let words = number == 800 ? 2_000 : number % 40
            summary.body = RichText(
                stored: Array(
                    (#"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":""#
                        + String(repeating: "word \(number) ", count: max(words, 1)) + #""}]}]}"#).utf8))
            apply(Change(.summaryCreated, summary))
        }
        return state
    }

    @Test("thousands of rows in several tables come back as they were written, indexes and creation order included")
    func roundTrip() throws {
        let state = Self.organization()
        let bytes = SnapshotCodec.encode(state)
        let restored = try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) }
        #expect(restored.lastEventSequence == state.lastEventSequence)
        #expect(restored.organization == state.organization)
        #expect(restored.people == state.people)
        #expect(restored.cycles == state.cycles)
        #expect(restored.reviews == state.reviews)
        #expect(restored.notifications == state.notifications)
        #expect(restored.summaries == state.summaries)
        #expect(restored.indexesAreConsistent)
        #expect(SnapshotCodec.encode(restored) == bytes)
    }

    @Test("a section that holds an id twice, or a second section of a kind, is refused as damaged")
    func damaged() throws {
        let person = ChangeKindTests.person
        func snapshot(_ sections: [[Person]]) -> [UInt8] {
            var writer = BinaryWriter()
            writer.byte(SnapshotCodec.format)
            writer.int(3)
            for rows in sections {
                writer.byte(ResourceKind.person.rawValue)
                writer.byte(UInt8(ResourceKind.person.schemaVersion))
                writer.varint(rows.count)
                for row in rows { row.encode(to: &writer) }
            }
            return writer.bytes
        }
        var other = person
        other.id = Self.id(1, 1)
        other.email = "other@example.org"
        let valid = snapshot([[person, other]])
        #expect(try valid.withUnsafeBytes { try SnapshotCodec.decode($0) }.people.count == 2)
        let twice = snapshot([[person, other, person]])
        let repeated = #expect(throws: StoredFormError.self) {
            try twice.withUnsafeBytes { try SnapshotCodec.decode($0) }
        }
        #expect(repeated?.description.contains("holds \(person.id.text) twice") == true)
        let split = snapshot([[person], [other]])
        let second = #expect(throws: StoredFormError.self) {
            try split.withUnsafeBytes { try SnapshotCodec.decode($0) }
        }
        #expect(second?.description.contains("a second person section") == true)
    }

    @Test("an enumeration stored by a name no case has is refused, naming it")
    func unknownEnumeration() throws {
        var review = ChangeKindTests.review
        review.kpiRatings[0].rating = .partiallyAchieving
        var state = State()
        state.apply(Change(.reviewCreated, review), sequence: 1)
        var bytes = SnapshotCodec.encode(state)
        let name = Array("partially_achieving".utf8)
        let start = try #require(
            bytes.indices.first { bytes[$0..<min($0 + name.count, bytes.count)].elementsEqual(name) })
        bytes[start] = UInt8(ascii: "q")
        let error = #expect(throws: StoredFormError.self) {
            try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) }
        }
        #expect(error?.description.contains("unknown value \"qartially_achieving\"") == true)
    }
}
