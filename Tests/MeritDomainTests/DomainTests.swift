import Testing

@testable import MeritDomain

@Suite("ids and ULIDs")
struct IDTests {
    @Test("ULIDs encode to 26 Crockford characters, matching a known value")
    func encoding() {
        // The ULID specification's example time, 1469918176385 ms, with all-ones randomness.
        let ulid = ULID(milliseconds: 1_469_918_176_385, randomHigh: 0xFFFF, randomLow: UInt64.max)
        #expect(ulid.description == "01ARYZ6S41ZZZZZZZZZZZZZZZZ")
        #expect(ULID(milliseconds: 0, randomHigh: 0, randomLow: 0).description == String(repeating: "0", count: 26))
        #expect(
            ULID(milliseconds: 0, randomHigh: 0, randomLow: 1).description == String(repeating: "0", count: 25) + "1")
    }

    @Test("generated ids are strictly increasing, even with a frozen clock")
    func monotonic() {
        var generator = IDGenerator(seed: 1, stream: 0)
        let time = Timestamp(milliseconds: 1_776_243_600_000)
        var previous = generator.next(at: time).description
        for _ in 0..<1000 {
            let next = generator.next(at: time).description
            #expect(next > previous)
            previous = next
        }
    }

    @Test("a seed makes ids reproducible; another stream or seed gives others")
    func reproducible() {
        let time = Timestamp(milliseconds: 1_776_243_600_000)
        var first = IDGenerator(seed: 42, stream: 0)
        var second = IDGenerator(seed: 42, stream: 0)
        var otherStream = IDGenerator(seed: 42, stream: 2)
        var otherSeed = IDGenerator(seed: 43, stream: 0)
        let a = first.next(at: time)
        #expect(a == second.next(at: time))
        #expect(a != otherStream.next(at: time))
        #expect(a != otherSeed.next(at: time))
    }

    @Test(
        "typed ids check their prefix and form",
        arguments: [
            ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ", true), ("key_01ARYZ6S41ZZZZZZZZZZZZZZZZ", false),
            ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZ", false), ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZU", false),
            ("emp_81ARYZ6S41ZZZZZZZZZZZZZZZZ", false), ("emp01ARYZ6S41ZZZZZZZZZZZZZZZZ", false),
            ("emp_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true), ("emp_00000000000000000000000000", true),
            ("emp_01arYZ6S41ZZZZZZZZZZZZZZZZ", false), ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZI", false),
            ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZL", false), ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZO", false),
            ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZ\u{0}", false), ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZé", false),
            ("Emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ", false), ("emp-01ARYZ6S41ZZZZZZZZZZZZZZZZ", false),
            ("emp_01ARYZ6S41ZZZZZZZZZZZZZZZZZ", false), ("", false),
        ])
    func typedIDs(text: String, valid: Bool) {
        #expect((ID<Person>(text) != nil) == valid)
        #expect(ID<Person>(text)?.text == (valid ? text : nil))
    }

    @Test("an id's text and bits round-trip, and ids order as their text does")
    func textAndOrder() {
        var random = SplitMix64(state: 7)
        var ids: [ID<Person>] = []
        for index in 0..<2000 {
            // Every part of the bits: the time's top, the random parts' extremes, and equal times.
            let milliseconds = index.isMultiple(of: 3) ? random.next() >> 16 : UInt64(index / 10)
            let ulid = ULID(
                milliseconds: milliseconds, randomHigh: UInt16(truncatingIfNeeded: random.next()),
                randomLow: index.isMultiple(of: 5) ? UInt64.max - UInt64(index) : random.next())
            let id = ID<Person>(ulid)
            #expect(id.ulid == ulid)
            #expect(id.text == "emp_" + ulid.description)
            #expect(ID<Person>(id.text) == id)
            ids.append(id)
        }
        #expect(ids.sorted().map(\.text) == ids.map(\.text).sorted())
        #expect(Set(ids).count == Set(ids.map(\.text)).count)
    }
}

@Suite("timestamps and days")
struct TimeTests {
    @Test(
        "RFC 3339 round trips with milliseconds",
        arguments: [
            ("2026-04-01T09:12:00.000Z", "2026-04-01T09:12:00.000Z"),
            ("2026-04-01T09:12:00Z", "2026-04-01T09:12:00.000Z"),
            ("2026-04-01T09:12:00.123456Z", "2026-04-01T09:12:00.123Z"),
            ("2026-04-01T11:12:00+02:00", "2026-04-01T09:12:00.000Z"),
            ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
            ("2024-02-29T00:00:00.5Z", "2024-02-29T00:00:00.500Z"),
        ])
    func roundTrip(input: String, output: String) throws {
        let timestamp = try #require(Timestamp(rfc3339: input))
        #expect(timestamp.description == output)
    }

    @Test(
        "malformed timestamps are rejected",
        arguments: [
            "2026-04-01", "2026-04-01T25:00:00Z", "2026-02-30T00:00:00Z", "2026-04-01T09:12:00",
            "2026-04-01T09:12:00.Z",
            "yesterday", "2026-04-01T09:12:00+2:00",
        ])
    func malformed(input: String) {
        #expect(Timestamp(rfc3339: input) == nil)
    }

    @Test("days parse exactly and know their calendar")
    func days() throws {
        #expect(Day("2024-02-29") != nil)
        #expect(Day("2023-02-29") == nil)
        #expect(Day("2026-13-01") == nil)
        #expect(Day("2026-4-01") == nil)
        let day = try #require(Day("2026-03-31"))
        #expect(day.description == "2026-03-31")
        #expect(Day(daysSinceEpoch: 0).description == "1970-01-01")
        #expect(try #require(Day("2026-04-01")) > day)
    }
}

@Suite("the reducer")
struct ReducerTests {
    static let now = Timestamp(milliseconds: 1_776_243_600_000)

    static func person(_ id: String, email: String, role: Person.Role = .employee) -> Person {
        Person(
            id: testID(id), name: "P \(id)", email: email, role: role, managerID: nil, squad: nil,
            reviewTemplateID: nil, isAdmin: false, createdAt: now, updatedAt: now)
    }

    static func event(_ sequence: Int64, _ change: Change) -> Event {
        Event(id: testID("evt_\(sequence)"), sequence: sequence, createdAt: now, actorID: nil, change: change)
    }

    @Test("applying events builds the state and its indexes")
    func applies() throws {
        var state = State()
        state.apply(Self.event(1, Change(.personCreated, Self.person("emp_a", email: "A@x.org"))))
        state.apply(Self.event(2, Change(.personCreated, Self.person("emp_b", email: "b@x.org"))))
        var updated = Self.person("emp_a", email: "new@x.org")
        updated.role = .manager
        state.apply(Self.event(3, Change(.personUpdated, updated)))
        #expect(state.lastEventSequence == 3)
        #expect(state.people.count == 2)
        #expect(state.person(email: "NEW@x.org")?.role == .manager)
        #expect(state.person(email: "a@x.org") == nil)
        #expect(state.people.ids.ids == ["emp_a", "emp_b"].map(testID))
        #expect(state.indexesAreConsistent)
    }

    @Test("rolling back a transaction restores exactly the state before it")
    func rollBack() throws {
        var state = State()
        let key = APIKey(
            id: testID("key_1"), name: "k", scopes: [.keysManage], personID: nil, secretHash: "h1",
            createdAt: Self.now,
            revokedAt: nil)
        state.apply(Self.event(1, Change(.keyCreated, key)))
        state.apply(Self.event(2, Change(.personCreated, Self.person("emp_a", email: "a@x.org"))))
        let before = state
        state.beginTransaction()
        var revoked = key
        revoked.revokedAt = Self.now
        state.apply(Self.event(3, Change(.keyRevoked, revoked)))
        state.apply(Self.event(4, Change(.personCreated, Self.person("emp_b", email: "b@x.org"))))
        state.apply(Self.event(5, Change(.personUpdated, Self.person("emp_a", email: "changed@x.org"))))
        #expect(state.people.count == 2)
        state.rollBackTransaction()
        #expect(state.people.rows == before.people.rows)
        #expect(state.keys.rows == before.keys.rows)
        #expect(state.people.indexes == before.people.indexes)
        #expect(state.keys.indexes == before.keys.indexes)
        #expect(state.people.ids == before.people.ids)
        #expect(state.indexesAreConsistent)
        #expect(state.lastEventSequence == 2)
        #expect(state.activeKey(secretHash: "h1") != nil)
    }

    @Test("forgetting the undo of a transaction's first changes keeps them through a rollback of the later ones")
    func forgetUndo() throws {
        var state = State()
        state.apply(Self.event(1, Change(.personCreated, Self.person("emp_a", email: "a@x.org"))))
        state.beginTransaction()
        state.apply(Self.event(2, Change(.personUpdated, Self.person("emp_a", email: "first@x.org"))))
        state.apply(Self.event(3, Change(.personCreated, Self.person("emp_b", email: "b@x.org"))))
        let durable = state
        let mark = state.transactionMark()
        state.apply(Self.event(4, Change(.personUpdated, Self.person("emp_a", email: "second@x.org"))))
        state.apply(Self.event(5, Change(.personUpdated, Self.person("emp_b", email: "b2@x.org"))))
        state.apply(Self.event(6, Change(.personCreated, Self.person("emp_c", email: "c@x.org"))))
        state.forgetUndo(through: mark)
        #expect(state.inTransaction)
        state.rollBackTransaction()
        #expect(state.people.rows == durable.people.rows)
        #expect(state.people.ids == durable.people.ids)
        #expect(state.people.indexes == durable.people.indexes)
        #expect(state.lastEventSequence == 3)
        #expect(state.indexesAreConsistent)
        // Marks count from the transaction's start, so forgetting in two steps is forgetting once.
        var twice = durable
        twice.beginTransaction()
        let start = twice.transactionMark()
        twice.apply(Self.event(4, Change(.personUpdated, Self.person("emp_a", email: "second@x.org"))))
        let middle = twice.transactionMark()
        twice.apply(Self.event(5, Change(.personCreated, Self.person("emp_c", email: "c@x.org"))))
        twice.forgetUndo(through: start)
        twice.forgetUndo(through: middle)
        twice.rollBackTransaction()
        #expect(twice.person(email: "second@x.org") != nil)
        #expect(twice.people.count == 2)
        #expect(twice.lastEventSequence == 4)
        #expect(twice.indexesAreConsistent)
        // Many groups, each forgotten as the next is made (the forgotten entries are dropped along the way): a
        // rollback undoes the last group alone.
        var many = State()
        many.beginTransaction()
        var sequence: Int64 = 0
        for group in 0..<30 {
            let mark = many.transactionMark()
            for person in 0..<10 {
                sequence += 1
                let id = "emp_\(group)_\(person)"
                many.apply(Self.event(sequence, Change(.personCreated, Self.person(id, email: "\(id)@x.org"))))
            }
            many.forgetUndo(through: mark)
        }
        many.rollBackTransaction()
        #expect(many.people.count == 290)
        #expect(many.lastEventSequence == 290)
        #expect(many.indexesAreConsistent)
    }

    @Test("a committed transaction stays")
    func commit() {
        var state = State()
        state.beginTransaction()
        state.apply(Self.event(1, Change(.personCreated, Self.person("emp_a", email: "a@x.org"))))
        state.commitTransaction()
        state.rollBackTransaction()
        #expect(state.people.count == 1)
    }
}

@Suite("commands and rights")
struct CommandTests {
    @Test("init creates the organization and an all-scope admin key, once")
    func initialize() throws {
        var state = State()
        let changes = try state.initializeOrganization(
            id: testID("org_1"), name: "  Acme  ", adminKey: testID("key_1"), secretHash: "h",
            now: ReducerTests.now)
        for (offset, change) in changes.changes.enumerated() {
            state.apply(ReducerTests.event(Int64(offset + 1), change))
        }
        #expect(state.organization?.name == "Acme")
        #expect(state.activeKey(secretHash: "h")?.scopes == Scope.allCases)
        #expect(throws: DomainError.self) {
            try state.initializeOrganization(
                id: testID("org_2"), name: "Other", adminKey: testID("key_2"), secretHash: "h2",
                now: ReducerTests.now)
        }
    }

    @Test(
        "names must not be empty or control characters",
        arguments: [
            "", "   ", "a\u{7}b", String(repeating: "x", count: 201), "a\u{7F}b", "a\u{85}b", "Zoë\u{9F}", "\u{0}",
            "tab\tinside", "\u{2003}\u{2003}",
        ])
    func badNames(name: String) {
        #expect(throws: DomainError.self) { try Validate.name(name, field: "name") }
    }

    @Test(
        "names are trimmed of white space at either end, and otherwise kept as given",
        arguments: [
            ("Ada", "Ada"), (" Ada ", "Ada"), ("\u{2003}Zoë\u{3000}", "Zoë"), ("Zoë", "Zoë"), ("日本", "日本"),
            ("a b", "a b"), ("\nAda\n", "Ada"), ("x", "x"), ("~!", "~!"),
        ])
    func goodNames(name: String, expected: String) throws {
        #expect(try Validate.name(name, field: "name") == expected)
    }

    @Test(
        "rights follow the role table",
        arguments: [
            (Person.Role.employee, false, Set<Scope>([.viewPerformance, .directoryRead, .summariesRead])),
            (.lead, false, [.viewPerformance, .updatePerformance, .directoryRead, .summariesRead]),
            (.manager, false, [.viewPerformance, .updatePerformance, .directoryRead, .summariesRead, .summariesWrite]),
            (
                .executive, false,
                [
                    .viewPerformance, .updatePerformance, .managePerformance, .directoryRead, .summariesRead,
                    .summariesWrite,
                ]
            ),
            (.employee, true, Set(Scope.allCases)),
        ] as [(Person.Role, Bool, Set<Scope>)])
    func rights(role: Person.Role, isAdmin: Bool, expected: Set<Scope>) {
        var person = ReducerTests.person("emp_a", email: "a@x.org", role: role)
        person.isAdmin = isAdmin
        #expect(Authorization.rights(of: person) == expected)
    }

    @Test("a key acting as a person has the intersection of its scopes and the person's rights")
    func intersection() {
        var state = State()
        state.apply(ReducerTests.event(1, Change(.personCreated, ReducerTests.person("emp_a", email: "a@x.org"))))
        let principal = Principal(
            keyID: testID("key_1"), scopes: [.keysManage, .viewPerformance], personID: testID("emp_a"))
        #expect(Authorization.effectiveScopes(of: principal, in: state) == [.viewPerformance])
        let integration = Principal(keyID: testID("key_1"), scopes: [.keysManage], personID: nil)
        #expect(Authorization.effectiveScopes(of: integration, in: state) == [.keysManage])
        for scope in Scope.allCases {
            #expect(
                Authorization.allows(scope, to: principal, in: state)
                    == Authorization.effectiveScopes(of: principal, in: state).contains(scope))
            #expect(Authorization.allows(scope, to: integration, in: state) == (scope == .keysManage))
        }
    }
}

@Suite("notifications")
struct NotificationDomainTests {
    @Test("marking read changes only the recipient's unread ones, and undoes cleanly")
    func markRead() throws {
        var state = State()
        let recipient: ID<Person> = testID("emp_r")
        let other: ID<Person> = testID("emp_o")
        func notification(_ id: String, to person: ID<Person>, read: Bool = false) -> Notification {
            Notification(
                id: testID(id), recipientID: person, kind: .summaryShared, subjectID: "sum_1", message: "Shared",
                createdAt: ReducerTests.now, readAt: read ? ReducerTests.now : nil)
        }
        state.apply(ReducerTests.event(1, Change(.notificationCreated, notification("ntf_1", to: recipient))))
        state.apply(
            ReducerTests.event(2, Change(.notificationCreated, notification("ntf_2", to: recipient, read: true))))
        state.apply(ReducerTests.event(3, Change(.notificationCreated, notification("ntf_3", to: other))))
        let changes = try state.markNotificationsRead(
            [testID("ntf_1"), testID("ntf_2"), testID("ntf_1")], of: recipient, now: ReducerTests.now)
        #expect(changes.value == 1)
        #expect(changes.changes.count == 1)
        #expect(throws: DomainError.self) {
            try state.markNotificationsRead([testID("ntf_3")], of: recipient, now: ReducerTests.now)
        }
        state.beginTransaction()
        state.apply(ReducerTests.event(4, changes.changes[0]))
        #expect(state.notifications[testID("ntf_1")]?.readAt != nil)
        state.rollBackTransaction()
        #expect(state.notifications[testID("ntf_1")]?.readAt == nil)
        #expect(state.notifications.indexes.byRecipient[recipient].count == 2)
    }
}

@Suite("sorted id indexes")
struct SortedIDsTests {
    @Test("inserts keep ids ascending and unique, in or out of order; removal and paging find by binary search")
    func order() {
        var index = SortedIDs<Person>()
        let names = ["emp_05", "emp_01", "emp_09", "emp_03", "emp_07", "emp_03", "emp_10", "emp_02"]
        for name in names { index.insert(testID(name)) }
        #expect(index.ids == ["emp_01", "emp_02", "emp_03", "emp_05", "emp_07", "emp_09", "emp_10"].map(testID))
        index.remove(testID("emp_05"))
        index.remove(testID("emp_04"))
        #expect(index.ids == ["emp_01", "emp_02", "emp_03", "emp_07", "emp_09", "emp_10"].map(testID))
        #expect(index.firstIndex(after: nil) == 0)
        func after(_ name: String) -> Int { index.firstIndex(after: (testID(name) as ID<Person>).text) }
        #expect(after("emp_03") == 3)
        #expect(after("emp_04") == 3)
        #expect(after("emp_00") == 0)
        #expect(after("emp_10") == 6)
        #expect(after("emp_99") == 6)
        // A key that is not an id compares as text.
        #expect(index.firstIndex(after: "emp_") == 0)
        #expect(index.firstIndex(after: "emp_z") == 6)
        #expect(index.firstIndex(after: (testID("emp_03") as ID<Person>).text + "!") == 3)
    }

    @Test("the reducer keeps the role and squad indexes in id order through updates and undo")
    func reducerIndexes() {
        var state = State()
        func person(_ id: String, _ role: Person.Role, _ squad: String?) -> Person {
            Person(
                id: testID(id), name: id, email: "\(id)@x.example", role: role, managerID: nil, squad: squad,
                reviewTemplateID: nil, isAdmin: false, createdAt: Timestamp(milliseconds: 0),
                updatedAt: Timestamp(milliseconds: 0))
        }
        state.apply(Change(.personCreated, person("emp_b", .employee, "core")), sequence: 1)
        state.apply(Change(.personCreated, person("emp_a", .employee, "core")), sequence: 2)
        state.apply(Change(.personCreated, person("emp_c", .lead, nil)), sequence: 3)
        #expect(state.people.ids.ids == ["emp_a", "emp_b", "emp_c"].map(testID))
        #expect(state.people.indexes.byRole[.employee].ids == ["emp_a", "emp_b"].map(testID))
        #expect(state.people.indexes.squadMembers["core"].ids == ["emp_a", "emp_b"].map(testID))
        state.beginTransaction()
        state.apply(Change(.personUpdated, person("emp_a", .lead, "edge")), sequence: 4)
        #expect(state.people.indexes.byRole[.lead].ids == ["emp_a", "emp_c"].map(testID))
        #expect(state.people.indexes.squadMembers["core"].ids == ["emp_b"].map(testID))
        state.rollBackTransaction()
        #expect(state.people.indexes.byRole[.employee].ids == ["emp_a", "emp_b"].map(testID))
        #expect(state.people.indexes.byRole[.lead].ids == ["emp_c"].map(testID))
        #expect(state.people.indexes.squadMembers["core"].ids == ["emp_a", "emp_b"].map(testID))
        #expect(state.people.indexes.squadMembers.groups["edge"] == nil)
    }
}

@Suite("the range of writable times")
struct WritableTimeTests {
    @Test("RFC 3339 text that lands outside years 0000-9999 is refused, since it could not be written back")
    func range() {
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59.999Z")?.description == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59-01:00") == nil)
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00Z") != nil)
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00+00:01") == nil)
    }
}

@Suite("email addresses")
struct EmailTests {
    /// The rules as first written, one check at a time: the oracle for the one-pass check.
    static func reference(_ value: String) -> Bool {
        let email = value.trimmingWhitespace()
        let bytes = Array(email.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "@"))
        guard bytes.count <= 254, let at, at > 0, bytes.lastIndex(of: UInt8(ascii: "@")) == at else { return false }
        let domain = bytes[(at + 1)...]
        return domain.contains(UInt8(ascii: ".")) && domain.first != UInt8(ascii: ".")
            && domain.last != UInt8(ascii: ".")
            && !zip(domain, domain.dropFirst()).contains { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }
            && !bytes.contains { $0 <= 0x20 || $0 == 0x7F }
            && !(bytes.contains { $0 >= 0x80 } && email.unicodeScalars.contains { $0.properties.isWhitespace })
            && !email.containsControlCharacters
    }

    @Test("the one-pass check accepts and refuses exactly what the rules say")
    func matchesTheRules() {
        let fixed = [
            "ada@example.org", " ada@example.org ", "a@b.c", "@example.org", "ada@", "ada@example", "ada@.example.org",
            "ada@example.org.", "ada@example..org", "a..b@example.org", "ada@@example.org", "ada@ex@ample.org",
            "ada lovelace@example.org", "ada@exa\u{7F}mple.org", "ada@exa\tmple.org", "zoë@exämple.org",
            "ada\u{2003}x@example.org", "ada\u{85}@example.org", "ada\u{200B}@example.org", "", "@", ".", "a@.",
            String(repeating: "a", count: 243) + "@example.org", String(repeating: "a", count: 242) + "@example.org",
        ]
        for email in fixed {
            #expect(((try? Validate.email(email)) != nil) == Self.reference(email), "\(email.debugDescription)")
        }
        // Random strings over an alphabet rich in the characters the rules are about.
        let alphabet: [Character] = ["a", "b", "@", ".", ".", " ", "\t", "\u{7F}", "é", "\u{2003}", "\u{85}", "-"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let email = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(((try? Validate.email(email)) != nil) == Self.reference(email), "\(email.debugDescription)")
        }
    }
}

/// A test's id named `name` (`emp_a`): different names give different ids, which order as the names do when the
/// names are of the same length.
func testID<Entity>(_ name: String) -> ID<Entity> {
    var low: UInt64 = 0
    for byte in name.split(separator: "_", maxSplits: 1).last!.utf8 { low = low << 8 | UInt64(byte) }
    return ID(ULID(milliseconds: 0, randomHigh: 0, randomLow: low))
}

@Suite("tables")
struct TableTests {
    static func person(_ number: UInt64, squad: String?) -> Person {
        Person(
            id: ID(high: 1, low: number), name: "P \(number)", email: "p\(number)@x.example",
            role: number.isMultiple(of: 3) ? .lead : .employee, managerID: nil, squad: squad, reviewTemplateID: nil,
            isAdmin: false, createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 0))
    }

    @Test("rows keep their creation order through writes, removals (holes closed up) and rollbacks")
    func creationOrder() {
        var table = Table<Person>()
        // What the table must hold: the rows by id, and their ids in creation order.
        var rows: [ID<Person>: Person] = [:]
        var order: [ID<Person>] = []
        var random = SplitMix64(state: 11)
        var next: UInt64 = 1
        func check() {
            #expect(table.order == order)
            #expect(table.rows == rows)
            #expect(table.count == rows.count)
            #expect(table.indexesAreConsistent)
            #expect(table.inCreationOrder.map(\.id) == order)
            #expect(table.inOrder.map(\.id) == order.sorted())
        }
        for step in 0..<3000 {
            // Growing first, then mostly removing, so that holes pile up and are closed up, then growing again.
            let removing = step >= 1000 && step < 2200 ? 3 : 1
            let choice = random.next() % 6
            if choice < removing, !order.isEmpty {
                let id = order[Int(random.next() % UInt64(order.count))]
                #expect(table.remove(id) == rows[id])
                rows[id] = nil
                order.removeAll { $0 == id }
            } else if choice < 4 || order.isEmpty {
                let person = Self.person(next, squad: next.isMultiple(of: 2) ? "core" : nil)
                next += 1
                #expect(table.write(person) == nil)
                rows[person.id] = person
                order.append(person.id)
            } else {
                let id = order[Int(random.next() % UInt64(order.count))]
                var person = Self.person(id.low, squad: random.next().isMultiple(of: 2) ? "edge" : nil)
                person.name = "Renamed \(step)"
                #expect(table.write(person) == rows[id])
                rows[id] = person
            }
            if step.isMultiple(of: 97) { check() }
            if step.isMultiple(of: 250) {
                // A transaction of creations, updates and removals, rolled back: everything is as it was, and
                // the rows that were only updated keep their places.
                let before = table
                table.beginTransaction()
                for extra in 0..<20 {
                    let fresh = Self.person(next + UInt64(extra), squad: "temp")
                    table.write(fresh)
                    if !order.isEmpty {
                        let id = order[Int(random.next() % UInt64(order.count))]
                        var person = Self.person(id.low, squad: "moved")
                        person.email = "moved\(extra)@x.example"
                        table.write(person)
                    }
                    if extra.isMultiple(of: 5) { table.remove(fresh.id) }
                }
                table.rollBackTransaction()
                #expect(table == before)
                check()
            }
        }
        check()
        // A row removed in a rolled-back transaction comes back, at the end.
        let removed = order[0]
        table.beginTransaction()
        table.remove(removed)
        table.rollBackTransaction()
        order.removeFirst()
        order.append(removed)
        check()
    }

    @Test("rows restored without indexing, with their indexes built apart, make the table writing them makes")
    func restoreApart() {
        let people = (1...600).map { Self.person(UInt64($0), squad: $0.isMultiple(of: 4) ? "core" : "edge") }
        var written = State()
        for person in people { written.apply(Change(.personCreated, person), sequence: 1) }
        var restored = State()
        restored.reserveCapacity(people.count, for: Person.self)
        var indexes = Person.Indexes()
        let buffer = UnsafeMutableBufferPointer<Person>.allocate(capacity: people.count)
        defer { buffer.deallocate() }
        for (offset, person) in people.enumerated() {
            (buffer.baseAddress! + offset).initialize(to: person)
            indexes.insert(person)
        }
        #expect(restored.restore(moving: buffer, indexing: false) == nil)
        restored.install(indexes, for: Person.self)
        #expect(restored.people == written.people)
        #expect(restored.indexesAreConsistent)
        // A row whose id was there already is reported.
        (buffer.baseAddress!).initialize(to: people[7])
        #expect(restored.restore(moving: UnsafeMutableBufferPointer(rebasing: buffer[0..<1])) == people[7].id)
    }
}

@Suite("ordered indexes")
struct OrderedIndexTests {
    @Test("entries inserted in order, out of order and removed stay sorted and unique, and walks start at any bound")
    func sortedThroughAnything() {
        var index = OrderedIndex<Summary>()
        var expected: [OrderedIndex<Summary>.Entry] = []
        var random = SplitMix64(state: 5)
        func entry(_ key: Int64, _ low: UInt64) -> OrderedIndex<Summary>.Entry {
            .init(key: key, id: ID(high: 1, low: low))
        }
        // In order first (as a snapshot restores them: chunks fill), then anywhere, with removals and repeats.
        for step in 0..<6000 {
            let new: OrderedIndex<Summary>.Entry
            if step < 3000 {
                new = entry(Int64(step / 3), UInt64(step))
            } else {
                new = entry(Int64(random.next() % 1500), random.next() % 4000)
            }
            index.insert(new)
            if !expected.contains(new) { expected.append(new) }
            if step >= 3000 && step.isMultiple(of: 3) {
                let gone = expected.remove(at: Int(random.next() % UInt64(expected.count)))
                index.remove(gone)
            }
        }
        #expect(index.chunkStartsAreConsistent)
        expected.sort()
        #expect(index.entries == expected)
        #expect(index.count == expected.count)
        for bound in [nil, expected[0], expected[expected.count / 2], expected[expected.count - 1], entry(700, 0)] {
            var ascending: [OrderedIndex<Summary>.Entry] = []
            index.forEach(after: bound, descending: false) {
                ascending.append($0)
                return true
            }
            #expect(ascending == expected.filter { bound == nil || $0 > bound! })
            var descending: [OrderedIndex<Summary>.Entry] = []
            index.forEach(after: bound, descending: true) {
                descending.append($0)
                return true
            }
            #expect(descending == expected.filter { bound == nil || $0 < bound! }.reversed())
        }
    }
}
