import MeritDomain
import MeritJSON
import MeritTestSupport
import Testing

@testable import MeritServer

/// Reviews are written straight to bytes; these hold the bytes to those of the JSON trees they replaced, and the
/// lists of one cycle to the indexes that serve them.
@Suite("performance.reviews: rendering and lists by cycle")
struct ReviewRenderingTests {
    // MARK: - The tree rendering the direct writers replaced, kept as the reference

    /// The review object as the tree rendering built it: every field, less the rows, plus the names beside the ids.
    static func referenceObject(_ review: Review, in state: State) -> JSONObject {
        let cycle = state.cycles[review.cycleID]
        var object = JSONObject()
        for (name, value) in review.json.objectValue ?? JSONObject() where name != "kpi_ratings" && name != "goals" {
            object.append(name, value)
        }
        return object.inserting(
            [("cycle_name", JSON(cycle?.name)), ("cycle_type", JSON(cycle?.type.rawValue))], after: "cycle_id"
        )
        .inserting([("user_name", JSON(state.people[review.userID]?.name))], after: "user_id")
        .inserting([("reviewer_name", JSON(state.people[review.reviewerID]?.name))], after: "reviewer_id")
    }

    static func referenceRatings(_ review: Review) -> JSON {
        .array(review.kpiRatings.sorted { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }.map(\.json))
    }

    static func referenceGoals(_ review: Review) -> JSON {
        .array(review.goals.sorted { ($0.sortOrder, $0.id) < ($1.sortOrder, $1.id) }.map(\.json))
    }

    static func referenceDetail(_ detail: ReviewDetail, in state: State) -> JSON {
        var aggregation = JSON.null
        if let kpiAggregation = detail.kpiAggregation {
            var object = JSONObject()
            for (item, ratings) in kpiAggregation {
                var counts = JSONObject()
                for rating in Rating.allCases {
                    if let count = ratings[rating] { counts.append(rating.rawValue, .int(Int64(count))) }
                }
                object.append(
                    item.text,
                    ["ratings": .object(counts), "most_common": JSON(ReviewDetail.mostCommon(ratings)?.rawValue)])
            }
            aggregation = .object(object)
        }
        return [
            "review": .object(referenceObject(detail.review, in: state)),
            "kpi_ratings": referenceRatings(detail.review), "goals": referenceGoals(detail.review),
            "previous_reviews": .array(
                detail.previousReviews.map { previous in
                    [
                        "review": .object(referenceObject(previous, in: state)),
                        "kpi_ratings": referenceRatings(previous), "goals": referenceGoals(previous),
                    ]
                }),
            "kpi_aggregation": aggregation,
        ]
    }

    static func referenceFeedData(_ review: Review, in state: State) -> JSON {
        var object = referenceObject(review, in: state)
        object.append("kpi_ratings", referenceRatings(review))
        object.append("goals", referenceGoals(review))
        return .object(object)
    }

    static func bytes(_ json: JSON) -> String {
        var writer = JSONWriter()
        writer.write(json)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func bytes(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        write(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Check every way a review is shown against the reference, byte for byte.
    static func expectSameBytes(for review: Review, in state: State, sourceLocation: SourceLocation = #_sourceLocation)
    {
        let detail = state.detail(of: review)
        #expect(
            bytes { detail.write(to: &$0, in: state) } == bytes(referenceDetail(detail, in: state)),
            sourceLocation: sourceLocation)
        let feed = review.feedData(for: .reviewUpdated, in: state)
        #expect(bytes(feed) == bytes(referenceFeedData(review, in: state)), sourceLocation: sourceLocation)
    }

    // MARK: - Tests

    @Test("reviews.get, create and update, the list and the feed write the bytes the JSON trees wrote")
    func sameBytes() throws {
        let year = try PreviousReviewTests.Year(ratings: [
            ["achieving", "exceeding", nil, "not_achieving"], ["achieving", "achieving", "partially_achieving", nil],
            ["exceeding", "exceeding", "partially_achieving", nil], ["exceeding", "achieving", nil, nil],
        ])
        let org = year.org
        let annual = PerformanceOrganization.ids(try org.review("E", in: year.annual)).review
        let current = PerformanceOrganization.ids(try org.review("E", in: year.q1)).review
        // Texts that need escaping, and goals whose sort order is not the order they are given in.
        _ = try org.result(
            "performance.reviews.update",
            [
                "id": .string(current), "strengths": "Line\nbreak, \"quoted\", tab\t, é, 😀, \u{2028} and \\",
                "reviewer_notes": .string(String(repeating: "Long notes. ", count: 200)),
                "goals": [
                    ["goal": "Second", "sort_order": 2, "support_needed": "Time <b>&</b>"],
                    ["goal": "First", "sort_order": 1],
                    ["goal": "Third", "sort_order": 2],
                ],
            ],
            as: "M")
        _ = try org.result(
            "performance.reviews.update", ["id": .string(annual), "status": "completed", "action_items": "None"],
            as: "M")
        _ = try org.review("G", in: year.q1, reviewer: "N")
        let state = org.session.server.engine.state
        #expect(state.reviews.count == 7)
        for review in state.reviews.inOrder { Self.expectSameBytes(for: review, in: state) }
        let annualID = try #require(ID<Review>(annual))
        let annualDetail = state.detail(of: try #require(state.reviews[annualID]))
        #expect(annualDetail.previousReviews.count == 4 && annualDetail.kpiAggregation?.count == 4)
        let reviews = state.reviews.inOrder
        #expect(
            Self.bytes { Review.writeList(reviews, to: &$0, in: state) }
                == Self.bytes(["reviews": .array(reviews.map { .object(Self.referenceObject($0, in: state)) })]))
        #expect(Self.bytes { Review.writeList([], to: &$0, in: state) } == #"{"reviews":[]}"#)
    }

    @Test("a review whose cycle and people are unknown, with rows out of their sort order, writes the same bytes")
    func sameBytesWithoutNames() throws {
        let sample = ChangeKindTests.review
        var review = sample
        review.kpiRatings.reverse()
        review.kpiRatings[0].sortOrder = 9
        review.goals = [
            Review.Goal(
                id: ChangeKindTests.id(30), goal: "Later", successMeasures: nil, supportNeeded: "Help", status: nil,
                sortOrder: 3),
            Review.Goal(
                id: ChangeKindTests.id(31), goal: "Sooner", successMeasures: "Done", supportNeeded: nil,
                status: .notCompleted, sortOrder: 1),
        ]
        var state = State()
        state.restore(.review(review))
        Self.expectSameBytes(for: review, in: state)
        let written = try JSONParser.parse(Self.bytes { state.detail(of: review).write(to: &$0, in: state) })
        #expect(written["review"]?["cycle_name"] == .null && written["review"]?["reviewer_name"] == .null)
        #expect(written["goals"]?.arrayValue?.map { $0["goal"] } == ["Sooner", "Later"])
    }

    /// Everyone's answers (results or errors) to `reviews.list`, without a cycle, then with each cycle, without and
    /// with a status.
    static func lists(_ org: PerformanceOrganization, cycles: [String]) -> [JSON] {
        var answers: [JSON] = []
        func answer(_ params: JSONObject, as name: String?) {
            let response = org.call("performance.reviews.list", params, as: name)
            answers.append(response["result"] ?? response["error"] ?? .null)
        }
        for name in [nil] + org.people.keys.sorted() {
            answer([:], as: name)
            for cycle in cycles {
                answer(["cycle_id": .string(cycle)], as: name)
                answer(["cycle_id": .string(cycle), "status": "draft"], as: name)
            }
        }
        return answers
    }

    @Test("a list of one cycle is the list of every cycle narrowed to it, for everyone, also from a snapshot")
    func listByCycle() throws {
        let org = try PerformanceOrganization()
        let q1 = try org.cycle("Q1 2026", start: "2026-01-01", end: "2026-03-31")
        let q2 = try org.cycle("Q2 2026", start: "2026-04-01", end: "2026-06-30")
        let q3 = try org.cycle("Q3 2026", start: "2026-07-01", end: "2026-09-30")
        // M reviews their reports and, in Q2, G (N's report); N reviews F (M's report) in Q3; the heads review the
        // managers.
        for name in ["E", "F", "L"] { _ = try org.review(name, in: q1) }
        _ = try org.review("G", in: q1, reviewer: "N")
        _ = try org.review("M", in: q1, reviewer: "H")
        _ = try org.complete(try org.review("E", in: q2), ratings: ["achieving", "achieving", nil, nil])
        _ = try org.review("G", in: q2)
        _ = try org.review("N", in: q2, reviewer: "H")
        _ = try org.review("E", in: q3)
        _ = try org.review("F", in: q3, reviewer: "N")
        let cycles = [q1, q2, q3]

        func ids(_ answer: JSON) -> [String] {
            answer["result"]?["reviews"]?.arrayValue?.compactMap { $0["user_name"]?.stringValue } ?? []
        }
        // Each list of a cycle is the full list narrowed to the cycle, in the same (id) order.
        let answers = Self.lists(org, cycles: cycles)
        let perPerson = 1 + 2 * cycles.count
        for start in stride(from: 0, to: answers.count, by: perPerson) {
            // (Those without view:performance are refused every list alike.)
            guard let all = answers[start]["reviews"]?.arrayValue else {
                #expect(answers[start..<(start + perPerson)].allSatisfy { $0 == answers[start] })
                continue
            }
            for (offset, cycle) in cycles.enumerated() {
                let expected = all.filter { $0["cycle_id"] == .string(cycle) }
                #expect(answers[start + 1 + 2 * offset]["reviews"] == .array(expected))
                #expect(
                    answers[start + 2 + 2 * offset]["reviews"] == .array(expected.filter { $0["status"] == "draft" }))
            }
        }
        // The reviewer sees a review outside their scope, and a review they write in it only once.
        #expect(
            ids(org.call("performance.reviews.list", ["cycle_id": .string(q2)], as: "M"))
                == ["Person E", "Person G"])
        #expect(
            ids(org.call("performance.reviews.list", ["cycle_id": .string(q3)], as: "N")) == ["Person F"])
        #expect(ids(org.call("performance.reviews.list", ["cycle_id": .string(q1)], as: "E")) == ["Person E"])
        #expect(
            ids(org.call("performance.reviews.list", ["cycle_id": .string(q1)], as: "H"))
                == ["Person E", "Person F", "Person L", "Person G", "Person M"])

        // The same answers and indexes after a full replay, and from a snapshot with changes after it.
        let live = org.session.server.engine.state.reviews
        try org.session.crashAndRestart()
        #expect(org.session.server.engine.state.reviews == live)
        #expect(Self.lists(org, cycles: cycles) == answers)
        try org.session.server.compactForTesting()
        try org.session.crashAndRestart()
        #expect(org.session.server.engine.state.reviews == live)
        #expect(Self.lists(org, cycles: cycles) == answers)
        let late = PerformanceOrganization.ids(try org.review("L", in: q3)).review
        _ = try org.result("performance.reviews.delete", ["id": .string(late)])
        _ = try org.review("F", in: q2, reviewer: "N")
        let changed = org.session.server.engine.state.reviews
        try org.session.server.compactForTesting()
        _ = try org.review("L", in: q2, reviewer: "N")
        let after = org.session.server.engine.state.reviews
        #expect(after != changed)
        try org.session.crashAndRestart()
        let restored = org.session.server.engine.state
        #expect(restored.reviews.indexes == after.indexes)
        #expect(restored.indexesAreConsistent)
        #expect(
            ids(org.call("performance.reviews.list", ["cycle_id": .string(q2)], as: "N"))
                == ["Person G", "Person N", "Person F", "Person L"])
        let all = org.call("performance.reviews.list")["result"]?["reviews"]?.arrayValue ?? []
        #expect(all.count == 12 && !all.contains { $0["id"] == .string(late) })
    }
}
