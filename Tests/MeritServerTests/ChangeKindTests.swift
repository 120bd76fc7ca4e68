import MeritJSON
import MeritTestSupport
import Testing

@testable import MeritDomain
@testable import MeritServer

/// Every kind of change goes through every form it has (the log's binary form, a snapshot, the API's JSON and the
/// stored JSON of earlier versions) and comes back equal. A kind without a sample here fails the test: a new kind
/// cannot ship without passing through every form.
@Suite("every change kind, through every form")
struct ChangeKindTests {
    static let now = Timestamp(milliseconds: 1_776_243_600_123)
    static let later = Timestamp(milliseconds: 1_776_330_000_456)

    static func id<Entity>(_ low: UInt64) -> ID<Entity> { ID(high: 0x0190_0000_0000_0001, low: low) }

    static let organization = Organization(
        id: id(1), name: "Acme \"Quoted\" Ünïcode",
        settings: .init(feedbackMinimumResponses: 3, summaryReviewWorkflow: true), createdAt: now, updatedAt: later)
    static let key = APIKey(
        id: id(2), name: "warehouse", scopes: [.eventsRead, .summariesRead, .actAs], personID: id(3),
        secretHash: String(repeating: "ab", count: 32), createdAt: now, revokedAt: later)
    static let person = Person(
        id: id(3), name: "Ada Lovelace", email: "Ada@Example.org", role: .head, managerID: id(4), squad: "core",
        reviewTemplateID: id(5), isAdmin: true, createdAt: now, updatedAt: later)
    static let template = Template(
        id: id(5), name: "Engineering",
        items: [
            .init(id: id(6), area: "delivery", label: "Ships on time", isMandatory: true, sortOrder: 0),
            .init(id: id(7), area: "craft", label: "Reviews code\nwell", isMandatory: false, sortOrder: -3),
        ], createdAt: now, updatedAt: later)
    static let observation = Observation(
        id: id(8), employeeID: id(3), authorID: "key_01M817QNM0KT2C5MS6W02NQQQQ", text: "Led the review 🚀",
        observedOn: Day("2026-04-10")!, createdAt: now)
    static let objective = Objective(
        id: id(9), employeeID: id(3), authorID: "emp_01M817QNM0KT2C5MS6W02NQQQQ", title: "Ship search",
        description: "v1 by Q1", dueDate: Day("2027-03-31")!, status: .inProgress, createdAt: now, updatedAt: later)
    static let notification = Notification(
        id: id(10), recipientID: id(3), kind: .feedbackRequested, subjectID: "frq_01M817QNM0KT2C5MS6W02NQQQQ",
        message: "Asked for feedback", createdAt: now, readAt: later)

    static let cycle = ReviewCycle(
        id: id(11), type: .annual, name: "FY 2026", periodStart: Day("2026-01-01")!, periodEnd: Day("2026-12-31")!,
        dueDate: Day("2027-01-15")!, status: .open, createdAt: now, updatedAt: later)
    static let review = Review(
        id: id(12), cycleID: id(11), userID: id(3), reviewerID: id(4), status: .completed, strengths: "Ships",
        growthAreas: nil, discussionTopics: "Career\nnext steps", reviewerNotes: "Solid", actionItems: "Mentor",
        kpiRatings: [
            .init(
                id: id(13), templateItemID: id(6), area: "delivery", label: "Ships on time", isMandatory: true,
                rating: .exceeding, notes: "Met target", sortOrder: 0),
            .init(
                id: id(14), templateItemID: id(7), area: "craft", label: "Reviews", isMandatory: false, rating: nil,
                notes: nil, sortOrder: 1),
        ],
        goals: [
            .init(
                id: id(15), goal: "AI certification", successMeasures: "Certificate", supportNeeded: nil,
                status: .notCompleted, sortOrder: 0)
        ], kpiPassCount: 1, kpiTotalCount: 2, kpiPassed: false, completedAt: later, createdAt: now, updatedAt: later)
    static let feedbackRequest = FeedbackRequest(
        id: id(16), cycleID: id(11), subjectID: id(3), reviewerID: id(4), dueDate: Day("2026-04-01")!,
        status: .submitted, requestedBy: "key_01M817QNM0KT2C5MS6W02NQQQQ", createdAt: now, submittedAt: later,
        answers: .init(
            areas: FeedbackRequest.Area.allCases.map { .init(rating: .achieving, comment: "On \($0.rawValue)") },
            overallComment: "Strong"))

    /// A body whose members are not in the order a tree would write them, with text that needs escapes.
    static let bodyJSON =
        #"{"content":[{"attrs":{"level":2},"type":"heading","content":[{"text":"Strengths \"quoted\"","type":"text"}]},"#
        + #"{"type":"paragraph","content":[{"marks":[{"type":"bold"}],"type":"text","text":"Led the launch ✓"},"#
        + #"{"type":"text","text":" (notes)","marks":[{"attrs":{"href":"https://example.org"},"type":"link"}]}]},"#
        + #"{"type":"paragraph","content":[]},{"type":"horizontal_rule"}],"type":"doc"}"#
    static let body = RichText(stored: Array(bodyJSON.utf8))

    static let summary = Summary(
        id: id(17), employeeID: id(3), managerID: id(4), periodStart: Day("2026-01-01")!, periodEnd: Day("2026-03-31")!,
        body: body,
        status: .shared, includedObservationIDs: [id(8)], includedObjectiveIDs: [id(9)], sharedAt: later,
        approvedAt: nil, createdAt: now, updatedAt: later,
        feedback: [
            .init(id: id(18), kind: .clarificationRequest, comment: "Goal 2?", authorID: id(3), createdAt: later)
        ],
        periodEndChanges: [.init(sequence: 40, previous: Day("2026-02-28")!)])

    /// A sample change of every kind.
    static func sample(_ kind: ChangeKind) -> Change? {
        switch kind {
        case .organizationCreated, .organizationUpdated: Change(kind, organization)
        case .keyCreated, .keyRevoked: Change(kind, key)
        case .personCreated, .personUpdated: Change(kind, person)
        case .templateCreated, .templateUpdated: Change(kind, template)
        case .observationCreated: Change(kind, observation)
        case .objectiveCreated: Change(kind, objective)
        case .notificationCreated, .notificationRead: Change(kind, notification)
        case .cycleCreated, .cycleUpdated, .cycleDeleted: Change(kind, cycle)
        case .reviewCreated, .reviewUpdated, .reviewCompleted, .reviewDeleted, .goalOutcomeRecorded:
            Change(kind, review)
        case .feedbackRequestCreated, .feedbackSubmitted: Change(kind, feedbackRequest)
        case .summaryCreated, .summaryUpdated, .summarySubmitted, .summaryApproved, .summaryShared, .summaryArchived,
            .summaryFeedbackSubmitted:
            Change(kind, summary)
        }
    }

    @Test("the table of change kinds: codes unique, types unique and well formed, every resource reachable")
    func table() {
        let types = ChangeKind.allCases.map(\.row.type)
        #expect(Set(types).count == types.count)
        #expect(Set(ChangeKind.allCases.map(\.rawValue)).count == ChangeKind.allCases.count)
        for kind in ChangeKind.allCases {
            #expect(kind.row.version >= 1)
            #expect(ChangeKind(type: kind.row.type) == kind)
            let parts = kind.row.type.split(separator: ".")
            #expect(parts.count == 2 && parts.allSatisfy { !$0.isEmpty }, "\(kind.row.type)")
        }
        #expect(Set(ChangeKind.allCases.map(\.row.resource)) == Set(ResourceKind.allCases))
    }

    @Test("a sample of each kind comes back equal from the log's binary form", arguments: ChangeKind.allCases)
    func binary(kind: ChangeKind) throws {
        let change = try #require(Self.sample(kind), "\(kind) has no sample")
        #expect(change.resource.kind == kind.row.resource)
        for actor in [
            nil, Principal(keyID: Self.id(2), scopes: [], personID: nil),
            Principal(keyID: Self.id(2), scopes: [], personID: Self.id(3)),
        ] {
            let record = EventCodec.encodeBinaryTransaction(
                [change, change], firstSequence: 41, createdAt: Self.later, actor: actor, newID: { Self.id(99) })
            let events = try record.withBytes { bytes throws(StoredFormError) in
                try EventCodec.decodeBinaryTransaction(bytes)
            }
            #expect(events.map(\.change) == [change, change])
            #expect(events.map(\.sequence) == [41, 42])
            #expect(events.allSatisfy { $0.createdAt == Self.later && $0.id == Self.id(99) })
            #expect(events[0].actorID == (actor?.personID?.text ?? actor?.keyID.text))
            var replayed: [Change] = []
            try record.withBytes { bytes throws(StoredFormError) in
                try EventCodec.replayBinaryTransaction(bytes) { change, _ in replayed.append(change) }
            }
            #expect(replayed == [change, change])
        }
    }

    @Test("a sample of each kind, applied, comes back equal from a snapshot", arguments: ChangeKind.allCases)
    func snapshot(kind: ChangeKind) throws {
        let change = try #require(Self.sample(kind), "\(kind) has no sample")
        var state = State()
        // A removal needs the resource there first.
        if kind.row.effect == .remove { state.restore(change.resource) }
        state.apply(change, sequence: 7)
        let bytes = SnapshotCodec.encode(state)
        let restored = try bytes.withUnsafeBytes { try SnapshotCodec.decode($0) }
        #expect(SnapshotCodec.encode(restored) == bytes)
        #expect(restored.lastEventSequence == 7)
        #expect(restored.indexesAreConsistent)
        let holds = restored.holds(change.resource)
        #expect(holds == (kind.row.effect == .write), "\(kind)")
    }

    @Test(
        "a sample of each kind renders the same API JSON as a tree and as bytes, and its stored JSON reads back equal",
        arguments: ChangeKind.allCases)
    func json(kind: ChangeKind) throws {
        let change = try #require(Self.sample(kind), "\(kind) has no sample")
        let record = change.resource.record
        var direct = JSONWriter()
        record.write(to: &direct)
        var tree = JSONWriter()
        tree.write(record.json)
        #expect(direct.bytes == tree.bytes)
        let stored = record.storedJSON
        let version = kind.row.version
        let decoded = try StoredJSONDecoder.decode(
            kind.row.resource, from: stored, what: kind.row.type, schemaVersion: version)
        #expect(decoded == change.resource)
        // Written as JSON and parsed again, as a log of type 1 or a snapshot of format 1 held it.
        let reparsed = try JSONParser.parse(stored.serialized())
        #expect(
            try StoredJSONDecoder.decode(kind.row.resource, from: reparsed, what: kind.row.type, schemaVersion: version)
                == decoded)
    }

    @Test("a summary's body is kept exactly as it was sent through every form, and checks as a body")
    func summaryBody() throws {
        #expect(try RichText(validating: Array(Self.bodyJSON.utf8), path: "body") == Self.body)
        var direct = JSONWriter()
        Self.summary.write(to: &direct)
        let written = String(decoding: direct.bytes, as: UTF8.self)
        #expect(written.contains(#","body":\#(Self.bodyJSON),"status":"#))
        #expect(Self.summary.json["body"]?.jsonText == Self.bodyJSON)
    }

    /// A summary as schema version 1 of its change kinds stored it: the same fields, the body a tree.
    struct SummaryVersion1: FieldRecord {
        var summary: Summary
        var tree: RichTextNode

        func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("id", summary.id)
            encoder.encode("employee_id", summary.employeeID)
            encoder.encode("manager_id", summary.managerID)
            encoder.encode("period_start", summary.periodStart)
            encoder.encode("period_end", summary.periodEnd)
            encoder.encode("body", tree)
            encoder.encode("status", summary.status)
            encoder.encode("included_observation_ids", summary.includedObservationIDs)
            encoder.encode("included_objective_ids", summary.includedObjectiveIDs)
            encoder.encode("shared_at", summary.sharedAt)
            encoder.encode("approved_at", summary.approvedAt)
            encoder.encode("created_at", summary.createdAt)
            encoder.encode("updated_at", summary.updatedAt)
            encoder.encode(.stored("feedback"), summary.feedback)
            encoder.encode(.stored("period_end_changes"), summary.periodEndChanges)
        }

        init(summary: Summary, tree: RichTextNode) {
            self.summary = summary
            self.tree = tree
        }

        init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            throw StoredFormError("only written, to read it as a Summary")
        }
    }

    @Test("a summary stored by schema version 1, its body a tree, reads back with the body the API showed then")
    func summaryVersion1() throws {
        let tree = RichTextNode(
            type: .doc,
            content: [
                RichTextNode(
                    type: .heading, attrs: .init(level: 2), content: [.init(type: .text, text: "Tab\t\"q\" ✓")]),
                RichTextNode(
                    type: .paragraph,
                    content: [
                        .init(
                            type: .text, text: "x\u{2028}\u{1}",
                            marks: [.init(type: .bold, attrs: nil), .init(type: .link, attrs: .init(href: "h"))])
                    ]),
                RichTextNode(type: .paragraph, content: []), RichTextNode(type: .horizontalRule),
                RichTextNode(type: .heading, attrs: .init(level: nil)),
            ])
        let old = SummaryVersion1(summary: Self.summary, tree: tree)
        var expected = Self.summary
        // What the API showed: the tree written member by member, by the JSON writer.
        var shown = JSONWriter()
        shown.write(tree.json)
        expected.body = RichText(stored: shown.bytes)
        #expect(RichText.compactJSON(of: tree) == shown.bytes)

        var writer = BinaryWriter()
        old.encode(to: &writer)
        let binary = try writer.withBytes { bytes throws(StoredFormError) in
            var reader = BinaryReader(bytes)
            reader.schemaVersion = 1
            let summary = try Summary(from: &reader)
            #expect(reader.isAtEnd)
            return summary
        }
        #expect(binary == expected)
        let json = try StoredJSONDecoder.decode(Summary.self, from: old.storedJSON, what: "summary", schemaVersion: 1)
        #expect(json == expected)
    }

    @Test("the domain writes a tree's strings exactly as the JSON writer does")
    func escapes() {
        var random = SplitMixRandom(seed: 5)
        let pieces = [
            "a", "é", "✓", "🚀", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1F}", "\u{7F}", "\u{2028}",
            "\u{2029}", "\u{2027}", "\u{202A}", "/", "\u{E2}",
        ]
        for _ in 0..<500 {
            let text = (0..<random.next() % 13).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            var domain: [UInt8] = []
            RichText.appendQuoted(text, to: &domain)
            #expect(domain == JSON.string(text).serialized(), "\(text.debugDescription)")
        }
    }

    @Test("stored-only fields never reach the API's JSON")
    func storedOnly() {
        #expect(Self.key.json["secret_sha256"] == nil)
        #expect(Self.key.storedJSON["secret_sha256"] == .string(Self.key.secretHash))
        #expect(Self.notification.json["recipient_id"] == nil)
        #expect(Self.organization.json.objectValue?.keys == ["id", "name", "settings"])
        #expect(Self.feedbackRequest.json["answers"] == nil)
        #expect(Self.feedbackRequest.json["requested_by"] == nil)
        #expect(Self.feedbackRequest.storedJSON["answers"]?["overall_comment"] == "Strong")
        #expect(Self.summary.json["feedback"] == nil)
        #expect(Self.summary.json["period_end_changes"] == nil)
        // Members a rich-text node was not given stay absent; empty ones stay empty.
        #expect(Self.summary.json["body"]?["content"]?[2] == ["type": "paragraph", "content": []])
        #expect(Self.summary.json["body"]?["content"]?[3] == ["type": "horizontal_rule"])
    }

    @Test("rolling back a transaction restores every table exactly, indexes included", arguments: ChangeKind.allCases)
    func rollBack(kind: ChangeKind) throws {
        let change = try #require(Self.sample(kind), "\(kind) has no sample")
        var state = State()
        for other in ChangeKind.allCases where other.row.effect == .write && other != kind {
            if let sample = Self.sample(other), sample.resource.kind != kind.row.resource {
                state.restore(sample.resource)
            }
        }
        if kind.row.effect == .remove { state.restore(change.resource) }
        let before = SnapshotCodec.encode(state)
        state.beginTransaction()
        state.apply(change, sequence: 50)
        state.apply(change, sequence: 51)
        #expect(SnapshotCodec.encode(state) != before)
        state.rollBackTransaction()
        #expect(SnapshotCodec.encode(state) == before)
        #expect(state.indexesAreConsistent)
    }
}

extension State {
    /// Whether the state holds exactly `resource`.
    func holds(_ resource: Resource) -> Bool {
        struct Finder: TableVisitor {
            let resource: Resource
            var found = false
            mutating func visit<Row: TableRow>(_ table: Table<Row>) {
                guard Row.resourceKind == resource.kind else { return }
                found = table.rows.values.contains { $0.wrapped == resource }
            }
        }
        if case .organization(let value) = resource { return organization == value }
        var finder = Finder(resource: resource)
        visitTables(&finder)
        return finder.found
    }
}
