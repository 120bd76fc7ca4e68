import MeritJSON

/// The story `merit demo` tells: a quarter of performance reviews at Acme Corp, one step per section.
///
/// Every step goes through `DemoClient`, acting as a person with `_meta.actor` where a person would act, and checks
/// what it is told: a result the story did not expect is a `DemoFailure`, named after its step.
final class DemoStory {
    /// Someone of the company, as `people.create` made them.
    struct Person {
        var id: String
        var name: String
        var role: String

        /// The first name, which the story uses in its sentences.
        var first: String { DemoStory.firstName(name) }
    }

    /// A person to create: who they are and where they sit.
    struct Member {
        var name: String
        var role: String
        /// The first name of their manager, created before them.
        var manager: String?
        var squad: String?
        var isAdmin = false
    }

    /// A review cycle the story made.
    struct Cycle {
        var id: String
        var name: String
    }

    /// The company: an executive, a people-operations admin, three heads, four managers, and five squads of a lead
    /// and their teammates, in an order where everyone's manager comes first.
    static let roster: [Member] = {
        var members = [
            Member(name: "Alex Morgan", role: "executive"),
            Member(name: "Priya Shah", role: "employee", manager: "Alex", isAdmin: true),
            Member(name: "Hana Kim", role: "head", manager: "Alex"),
            Member(name: "Omar Haddad", role: "head", manager: "Alex"),
            Member(name: "Sofia Rossi", role: "head", manager: "Alex"),
            Member(name: "Dana Reyes", role: "manager", manager: "Hana"),
            Member(name: "Marco Bianchi", role: "manager", manager: "Hana"),
            Member(name: "Lena Fischer", role: "manager", manager: "Omar"),
            Member(name: "Tom Becker", role: "manager", manager: "Sofia"),
        ]
        for (squad, manager, lead, teammates) in squads {
            members.append(Member(name: lead, role: "lead", manager: manager, squad: squad))
            members += teammates.map { Member(name: $0, role: "employee", manager: manager, squad: squad) }
        }
        return members
    }()

    /// The squads: name, manager, lead, teammates.
    static let squads: [(String, String, String, [String])] = [
        ("payments", "Dana", "Ravi Patel", ["Eli Novak", "Maya Lopez", "Noah Berg", "Zoe Clarke", "Ivan Petrov"]),
        ("checkout", "Dana", "Aisha Bello", ["Ben Carter", "Chloe Martin", "Diego Alvarez"]),
        ("platform", "Marco", "Kenji Sato", ["Lucas Meyer", "Nina Kowalski", "Oscar Lind", "Paula Costa"]),
        ("growth", "Lena", "Fatima Zahra", ["Gabriel Silva", "Hugo Laurent", "Iris Walsh"]),
        ("support", "Tom", "Jonas Weber", ["Kira Ivanova", "Leo Grant", "Mila Horvat", "Sam Okafor"]),
    ]

    /// The review template everyone gets: area, label, mandatory.
    static let kpis: [(String, String, Bool)] = [
        ("performance", "Delivery on commitments", true),
        ("performance", "Code and work quality", false),
        ("communication", "Clear written updates", false),
        ("development", "Learning goals met", true),
        ("automation", "Automates repetitive work", false),
    ]

    /// The rating scale, lowest first, and how the story writes each rating.
    static let scale = ["not_achieving", "partially_achieving", "achieving", "exceeding"]

    let client: DemoClient
    let output: DemoOutput
    let apiKey: String

    /// Everyone, by first name.
    private var people: [String: Person] = [:]
    /// Names by id, for the event feed: people, and the admin key.
    private var names: [String: String] = [:]
    private var firstCycle = Cycle(id: "", name: "")
    private var secondCycle = Cycle(id: "", name: "")
    /// The reviews of the first cycle, by the first name of the person reviewed.
    private var reviews: [String: String] = [:]

    init(client: DemoClient, output: DemoOutput, apiKey: String) {
        self.client = client
        self.output = output
        self.apiKey = apiKey
    }

    /// Play every step in order.
    func play() throws {
        try step(nil, "The session", openSession)
        try step(1, "The company", buildCompany)
        try step(2, "The review cycle", openCycle)
        try step(3, "Reviews for Dana's team", createReviews)
        try step(4, "Live events", subscribe)
        try step(5, "Peer feedback on Eli", gatherFeedback)
        try step(6, "Self-assessments, ratings and pass/fail", assessAndRate)
        try step(7, "The next quarter: goal outcomes and history", nextQuarter)
        try step(8, "Dana's summary of Eli's quarter", writeSummary)
        try step(9, "Action items", showActionItems)
        try step(10, "The event feed, read with a watermark", readEventFeed)
    }

    /// Run one step under its title; a failure names the step.
    private func step(_ number: Int?, _ title: String, _ body: () throws -> Void) throws {
        output.section(number, title)
        do {
            try body()
        } catch {
            throw DemoFailure("\(number.map { "step \($0)" } ?? "the step") \"\(title)\": \(error)")
        }
    }

    // MARK: - The steps

    private func openSession() throws {
        output.paragraph("merit serve runs as process \(client.processIdentifier), on pipes.")
        let refusal = try client.refusal("organization.get", code: "authentication_required")
        output.paragraph("Before the session is authenticated, domain methods are refused: \"\(refusal)\"")
        let session = try client.call(
            "initialize", ["client_info": ["name": "merit-demo", "version": "1"], "api_key": .string(apiKey)])
        let principal = session["principal"]
        names[principal?["key_id"]?.stringValue ?? ""] = "the admin key"
        let scopes = principal?["scopes"]?.arrayValue?.count ?? 0
        output.paragraph(
            "initialize with the admin key opens it: merit \(session["server_info"]?["version"]?.stringValue ?? "?"), "
                + "protocol \(session["protocol_version"]?.stringValue ?? "?"), organization "
                + "\(session["organization"]?["name"]?.stringValue ?? "?"). The key acts as nobody and has all "
                + "\(scopes) scopes, act_as among them: from here on the demo acts as each person by putting "
                + "\"_meta\": {\"actor\": \"emp_…\"} in a request's params.")
    }

    private func buildCompany() throws {
        let template = try client.call(
            "templates.create",
            [
                "name": "Engineering and operations",
                "items": .array(
                    Self.kpis.map { area, label, mandatory in
                        ["area": .string(area), "label": .string(label), "is_mandatory": .bool(mandatory)]
                    }),
            ])
        let templateID = try template.string("id")
        for member in Self.roster {
            var params: JSONObject = [
                "name": .string(member.name), "email": .string(Self.email(member.name)), "role": .string(member.role),
                "review_template_id": .string(templateID),
            ]
            if let manager = member.manager { params["manager_id"] = .string(try person(manager).id) }
            if let squad = member.squad { params["squad"] = .string(squad) }
            if member.isAdmin { params["is_admin"] = true }
            let created = try client.call("people.create", params)
            let person = Person(id: try created.string("id"), name: member.name, role: member.role)
            people[person.first] = person
            names[person.id] = person.name
        }
        let mandatory = Self.kpis.filter(\.2).count
        output.paragraph(
            "The admin key imports the company, as an HR system would: the review template \"Engineering and "
                + "operations\" with \(Self.kpis.count) KPIs (\(mandatory) of them mandatory), then "
                + "\(Self.roster.count) people, each given that template. Alex Morgan is the executive; Hana Kim, "
                + "Omar Haddad and Sofia Rossi are heads; Priya Shah runs people operations (is_admin); four "
                + "managers run five squads:")
        var rows: [[String]] = []
        for (squad, manager, lead, _) in Self.squads {
            let members = try client.call("people.list", ["squad": .string(squad)]).array("data")
            rows.append([squad, try person(manager).name, lead, String(members.count)])
        }
        output.table(["squad", "manager", "lead", "people"], rows, rightAligned: [3])
        let managers = try client.call("people.list", ["role": "manager"]).array("data")
        output.paragraph(
            "people.list {role: manager} finds \(managers.count) managers: "
                + managers.compactMap { $0["name"]?.stringValue }.joined(separator: ", ") + ".")
    }

    private func openCycle() throws {
        let priya = try person("Priya")
        let dana = try person("Dana")
        let cycle = try client.call(
            "performance.cycles.create",
            [
                "type": "quarterly", "name": "Q4 2025", "period_start": "2025-10-01", "period_end": "2025-12-31",
                "due_date": "2026-04-30",
            ], as: priya.id)
        firstCycle = Cycle(id: try cycle.string("id"), name: try cycle.string("name"))
        try expect(cycle["status"]?.stringValue == "draft", "a new cycle should be a draft")
        let hidden = try client.call("performance.cycles.list", as: dana.id).array("cycles")
        try client.call(
            "performance.cycles.update", ["id": .string(firstCycle.id), "status": "open"], as: priya.id)
        let shown = try client.call("performance.cycles.list", as: dana.id).array("cycles")
        try expect(hidden.isEmpty && shown.count == 1, "Dana should see the cycle once it is open, and only then")
        output.paragraph(
            "Priya creates the quarterly cycle \"Q4 2025\" (2025-10-01 to 2025-12-31, due 2026-04-30). As a draft it "
                + "is hers alone: cycles.list shows Dana \(hidden.count) cycles. Priya opens it, and Dana sees "
                + "\(shown.count).")
    }

    private func createReviews() throws {
        let dana = try person("Dana")
        let team = try client.call("people.list", ["manager_id": .string(dana.id)], as: dana.id).array("data")
        for member in team {
            let review = try client.call(
                "performance.reviews.create",
                ["cycle_id": .string(firstCycle.id), "user_id": .string(try member.string("id"))], as: dana.id)
            reviews[Self.firstName(try member.string("name"))] = try review.review("id")
        }
        output.paragraph(
            "Dana creates a Q4 2025 review for each of her \(team.count) direct reports; she is the reviewer of each "
                + "(and notified of each). A review starts as a draft holding a snapshot of its subject's template, "
                + "one KPI row per item. Eli's:")
        let eli = try client.call("performance.reviews.get", ["id": .string(try review(of: "Eli"))], as: dana.id)
        output.table(
            ["#", "area", "KPI", "mandatory", "rating"],
            try eli.array("kpi_ratings").enumerated().map { offset, row in
                [
                    String(offset + 1), try row.string("area"), try row.string("label"),
                    row["is_mandatory"]?.boolValue == true ? "yes" : "no", row["rating"]?.stringValue ?? "—",
                ]
            }, rightAligned: [0])
        for (_, id) in reviews.sorted(by: { $0.key < $1.key }) {
            try client.call(
                "performance.reviews.update", ["id": .string(id), "status": "self_assessment"], as: dana.id)
        }
        let stats = try client.call("performance.cycles.get", ["id": .string(firstCycle.id)])["stats"]
        try expect(stats?["self_assessment"]?.intValue == Int64(team.count), "every review should await its subject")
        output.paragraph(
            "Dana moves all \(team.count) to self_assessment. cycles.get counts the cycle's reviews: total "
                + "\(stats?["total"]?.intValue ?? 0), self_assessment \(stats?["self_assessment"]?.intValue ?? 0), "
                + "completed \(stats?["completed"]?.intValue ?? 0).")
    }

    private func subscribe() throws {
        let answer = try client.call("events.subscribe")
        try expect(answer["subscribed"]?.boolValue == true, "events.subscribe should answer {subscribed: true}")
        output.paragraph(
            "The session calls events.subscribe: from now on each change is followed, after its response, by an "
                + "`event` notification on this same stdout. The demo keeps them and counts them in step 10.")
    }

    private func gatherFeedback() throws {
        let priya = try person("Priya")
        let dana = try person("Dana")
        let eli = try person("Eli")
        let organization = try client.call(
            "organization.update", ["settings": ["feedback_min_responses": 3]], as: priya.id)
        let feedbackMinimum = organization["settings"]?["feedback_min_responses"]?.intValue ?? 0
        try expect(feedbackMinimum == 3, "the minimum should now be 3")
        output.paragraph(
            "Priya sets the organization's feedback_min_responses to \(feedbackMinimum): below that, the summary of "
                + "someone's peer feedback shows nothing, so that nobody can tell who wrote what.")
        let bulk = try client.call(
            "performance.feedback.requests.create_bulk",
            ["cycle_id": .string(firstCycle.id), "subject_id": .string(eli.id), "due_date": "2026-04-24"], as: dana.id)
        let peers = ["Ravi", "Maya", "Noah", "Zoe", "Ivan"]
        try expect(
            bulk["created"]?.intValue == Int64(peers.count) && bulk["total_peers"]?.intValue == Int64(peers.count),
            "Eli's five squad peers should be asked")
        output.paragraph(
            "Dana asks for peer feedback on Eli in bulk: created \(bulk["created"]?.intValue ?? 0) of total_peers "
                + "\(bulk["total_peers"]?.intValue ?? 0), everyone else in the payments squad (Ravi, Maya, Noah, Zoe "
                + "and Ivan), each notified.")

        try submitFeedback(from: "Maya", about: eli, Self.answers["Maya"] ?? [:])
        try submitFeedback(from: "Ravi", about: eli, Self.answers["Ravi"] ?? [:])
        let early = try client.call("performance.feedback.summary", ["user_id": .string(eli.id)], as: dana.id)
        try expect(
            early["sufficient"]?.boolValue == false && early["response_count"]?.intValue == 2
                && early["areas"] == nil,
            "two responses should not be enough")
        output.paragraph(
            "Maya and Ravi answer. Dana asks for the summary and gets only \(early.jsonText): "
                + "\(early["response_count"]?.intValue ?? 0) responses are fewer than "
                + "\(early["minimum_required"]?.intValue ?? 0).")

        try submitFeedback(from: "Noah", about: eli, Self.answers["Noah"] ?? [:])
        try submitFeedback(from: "Ivan", about: eli, Self.answers["Ivan"] ?? [:])
        let summary = try client.call("performance.feedback.summary", ["user_id": .string(eli.id)], as: dana.id)
        try expect(
            summary["sufficient"]?.boolValue == true && summary["response_count"]?.intValue == 4,
            "four responses should be enough")
        output.paragraph(
            "Noah and Ivan answer too (Zoe has not yet). With \(summary["response_count"]?.intValue ?? 0) responses "
                + "the summary is sufficient; it counts the ratings per area and never says who gave which:")
        let areas = summary["areas"]?.objectValue ?? JSONObject()
        output.table(
            ["area"] + Self.scale.map(Self.words),
            areas.members.map { area, value in
                [area] + Self.scale.map { rating in value["ratings"]?[rating]?.intValue.map(String.init) ?? "·" }
            }, rightAligned: [1, 2, 3, 4])
        output.paragraph("Its comments come shuffled, so that their order does not follow who answered when:")
        var comments: [String] = []
        for (area, value) in areas.members {
            for comment in value["comments"]?.arrayValue ?? [] {
                comments.append("\(area): \(comment.stringValue ?? "")")
            }
        }
        for comment in summary["overall_comments"]?.arrayValue ?? [] {
            comments.append("overall: \(comment.stringValue ?? "")")
        }
        output.block(comments.map { "• " + $0 })
        let refusal = try client.refusal(
            "performance.feedback.summary", ["user_id": .string(eli.id)], as: eli.id, code: "permission_denied")
        output.paragraph("Eli himself may not read it: \"\(refusal)\"")
    }

    private func assessAndRate() throws {
        let eli = try person("Eli")
        let eliReview = try review(of: "Eli")
        let rows = try client.call("performance.reviews.get", ["id": .string(eliReview)], as: eli.id).array(
            "kpi_ratings"
        ).map { try $0.string("id") }
        try expect(rows.count == Self.kpis.count, "Eli's review should have a row per KPI of the template")
        let refusal = try client.refusal(
            "performance.reviews.update",
            ["id": .string(eliReview), "kpi_ratings": [["id": .string(rows[0]), "rating": "exceeding"]]],
            as: eli.id, code: "permission_denied")
        try client.call(
            "performance.reviews.update",
            [
                "id": .string(eliReview), "status": "in_review",
                "kpi_ratings": [
                    ["id": .string(rows[0]), "notes": "Shipped the refund flow and the ledger export on time."],
                    ["id": .string(rows[4]), "notes": "Scripted the payments deploys; releases take minutes now."],
                ],
                "goals": [
                    [
                        "goal": "Ship the payments retry service",
                        "success_measures": "Retries live for every card payment",
                        "support_needed": "Time with platform",
                    ],
                    [
                        "goal": "Mentor Zoe through her first on-call rotation",
                        "success_measures": "Zoe leads an incident",
                    ],
                ],
                "discussion_topics": "Growing towards a senior role; a conference this year.",
            ], as: eli.id)
        output.paragraph(
            "Eli fills in his self-assessment: notes on two KPIs, two goals for next quarter and his discussion "
                + "topics, then moves the review on to in_review. Rating himself is not his to do: \"\(refusal)\"")
        for name in ["Maya", "Noah"] {
            try client.call(
                "performance.reviews.update",
                [
                    "id": .string(try review(of: name)), "status": "in_review",
                    "discussion_topics": "Next quarter's priorities.",
                ], as: try person(name).id)
        }
        let completions = try ["Eli", "Maya", "Noah"].map { name in
            try rateAndComplete(name, Self.ratings[name] ?? [])
        }
        output.paragraph(
            "Maya and Noah submit theirs too. Dana rates the KPIs of all three and completes their reviews. Eli's:")
        output.table(
            ["area", "KPI", "mandatory", "rating", "passes"],
            try (completions.first?.review ?? .null).array("kpi_ratings").map { row in
                let rating = row["rating"]?.stringValue ?? ""
                return [
                    try row.string("area"), try row.string("label"),
                    row["is_mandatory"]?.boolValue == true ? "yes" : "no", Self.words(rating),
                    Self.passes(rating) ? "yes" : "no",
                ]
            })
        output.paragraph(
            "Completing a review computes its pass/fail: at least 75% of its KPIs passed, every mandatory one among them:"
        )
        output.table(
            ["review", "KPIs passed", "share", "mandatory KPIs", "kpi_passed"], completions.map(\.row),
            rightAligned: [1, 2])
        for completion in completions { output.paragraph(completion.sentence) }
        let stats = try client.call("performance.cycles.get", ["id": .string(firstCycle.id)])["stats"]
        output.paragraph(
            "The cycle now counts \(stats?["completed"]?.intValue ?? 0) completed of \(stats?["total"]?.intValue ?? 0) "
                + "reviews.")
    }

    private func nextQuarter() throws {
        let priya = try person("Priya")
        let dana = try person("Dana")
        let eli = try person("Eli")
        try client.call("performance.cycles.update", ["id": .string(firstCycle.id), "status": "closed"], as: priya.id)
        let cycle = try client.call(
            "performance.cycles.create",
            [
                "type": "quarterly", "name": "Q1 2026", "period_start": "2026-01-01", "period_end": "2026-03-31",
                "due_date": "2026-05-15",
            ], as: priya.id)
        secondCycle = Cycle(id: try cycle.string("id"), name: try cycle.string("name"))
        try client.call("performance.cycles.update", ["id": .string(secondCycle.id), "status": "open"], as: priya.id)
        let created = try client.call(
            "performance.reviews.create", ["cycle_id": .string(secondCycle.id), "user_id": .string(eli.id)],
            as: dana.id)
        let reviewID = try created.review("id")
        let previous = try created.array("previous_reviews")
        try expect(
            previous.count == 1 && previous.first?["review"]?["cycle_name"]?.stringValue == firstCycle.name,
            "the Q1 2026 review should list the Q4 2025 review as previous")
        let goals = previous.first?["goals"]?.arrayValue ?? []
        output.paragraph(
            "Priya closes Q4 2025 and opens \"Q1 2026\" (2026-01-01 to 2026-03-31). Dana creates Eli's Q1 2026 "
                + "review; its previous_reviews holds his completed \(firstCycle.name) review with the "
                + "\(goals.count) goals he set. Dana records how they went (update_previous_goals):")
        let outcomes = ["completed", "not_completed"]
        let updated = try client.call(
            "performance.reviews.update_previous_goals",
            [
                "id": .string(reviewID),
                "outcomes": .array(
                    try zip(goals, outcomes).map { goal, outcome in
                        ["goal_id": .string(try goal.string("id")), "status": .string(outcome)]
                    }),
            ], as: dana.id)
        let recorded = updated["previous_reviews"]?[0]?["goals"]?.arrayValue ?? []
        try expect(
            recorded.map { $0["status"]?.stringValue ?? "" } == outcomes, "both outcomes should be recorded")
        output.table(
            ["Q4 2025 goal", "outcome"],
            try recorded.map { [try $0.string("goal"), Self.words($0["status"]?.stringValue ?? "")] })

        try client.call(
            "performance.reviews.update", ["id": .string(reviewID), "status": "self_assessment"], as: dana.id)
        try client.call(
            "performance.reviews.update",
            [
                "id": .string(reviewID), "status": "in_review",
                "goals": [["goal": "Lead the 3-D Secure migration", "success_measures": "All EU cards migrated"]],
            ], as: eli.id)
        let completed = try rateAndComplete("Eli", Self.ratings["Eli Q1"] ?? [], review: reviewID)
        output.paragraph(
            "Eli's Q1 2026 review goes through self-assessment, where he sets a new goal, and back to Dana. "
                + completed.sentence)
        let history = try client.call("performance.reviews.history", ["user_id": .string(eli.id)], as: dana.id)
            .array("history")
        try expect(history.count == 2, "Eli's history should hold both quarters")
        output.paragraph("Eli's history (performance.reviews.history), oldest first:")
        output.table(
            ["cycle", "period", "KPIs passed", "kpi_passed", "goals", "completed", "not completed"],
            try history.map { entry in
                [
                    try entry.string("cycle_name"),
                    "\(try entry.string("period_start")) – \(try entry.string("period_end"))",
                    "\(entry["kpi_pass_count"]?.intValue ?? 0) of \(entry["kpi_total_count"]?.intValue ?? 0)",
                    String(entry["kpi_passed"]?.intValue ?? 0), String(entry["goal_count"]?.intValue ?? 0),
                    String(entry["goals_completed"]?.intValue ?? 0),
                    String(entry["goals_not_completed"]?.intValue ?? 0),
                ]
            }, rightAligned: [3, 4, 5, 6])
        let current = try client.call("performance.goals.current", as: eli.id)
        output.paragraph(
            "performance.goals.current, as Eli: \(try current.array("goals").map { try $0.string("goal") }.joined(separator: "; ")) "
                + "(from \(current["cycle_name"]?.stringValue ?? "?")).")
    }

    private func writeSummary() throws {
        let priya = try person("Priya")
        let hana = try person("Hana")
        let dana = try person("Dana")
        let eli = try person("Eli")
        let observation = try client.call(
            "observations.create",
            [
                "employee_id": .string(eli.id), "observed_on": "2026-03-12",
                "text": "Led the review of the 12 March payments outage calmly and wrote a clear post-mortem.",
            ], as: dana.id)
        let objective = try client.call(
            "objectives.create",
            [
                "employee_id": .string(eli.id), "title": "Ship the payments retry service",
                "description": "Retries for every card payment, with alerting.", "due_date": "2026-06-30",
                "status": "in_progress",
            ], as: dana.id)
        try client.call("organization.update", ["settings": ["summary_review_workflow": true]], as: priya.id)
        output.paragraph(
            "Dana records an observation about Eli (observed 2026-03-12) and an objective for him (in progress, due "
                + "2026-06-30). Priya turns on summary_review_workflow: a summary must now be approved before it "
                + "is shared.")
        let draft = try client.call(
            "summaries.create",
            [
                "employee_id": .string(eli.id), "period_start": "2026-01-01", "period_end": "2026-03-31",
                "body": Self.summaryBody,
                "included_observation_ids": [.string(try observation.string("id"))],
                "included_objective_ids": [.string(try objective.string("id"))],
            ], as: dana.id)
        let summaryID = try draft.string("id")
        let hidden = try client.refusal("summaries.get", ["id": .string(summaryID)], as: eli.id, code: "not_found")
        output.paragraph(
            "Dana drafts a summary of Eli's Q1 2026 (status \(draft["status"]?.stringValue ?? "?")), citing both. "
                + "Until it is shared Eli cannot see it: \"\(hidden)\"")
        let submitted = try client.call("summaries.submit", ["id": .string(summaryID)], as: dana.id)
        let approved = try client.call("summaries.approve", ["id": .string(summaryID)], as: hana.id)
        let shared = try client.call(
            "summaries.share",
            ["id": .string(summaryID), "message": "Let's talk it through in our 1:1 on Thursday."], as: dana.id)
        try expect(
            submitted["status"]?.stringValue == "pending_review" && approved["status"]?.stringValue == "approved"
                && shared["status"]?.stringValue == "shared",
            "the summary should go pending_review → approved → shared")
        output.paragraph(
            "Dana submits it (pending_review), Hana approves it (approved) and Dana shares it with a message "
                + "(shared).")
        let notifications = try client.call("notifications.list", ["unread_only": true], as: eli.id).array("data")
        let sharedNotice = notifications.first { $0["kind"]?.stringValue == "summary_shared" }
        try expect(sharedNotice != nil, "Eli should be notified of the shared summary")
        output.paragraph("Eli's notification: \"\(sharedNotice?["message"]?.stringValue ?? "")\" What he reads:")
        let read = try client.call("summaries.get", ["id": .string(summaryID)], as: eli.id)
        try expect(read["body"] == Self.summaryBody, "the body should come back exactly as it was sent")
        output.block(try [""] + BodyText.lines(read["body"] ?? .null, width: 76) + [""])
        let feedback = try client.call(
            "summaries.feedback",
            [
                "id": .string(summaryID), "kind": "acknowledgment",
                "comment": "Thanks, Dana. Agreed on the writing focus.",
            ], as: eli.id)
        output.paragraph(
            "Eli acknowledges it (summaries.feedback, kind \(feedback["feedback"]?["kind"]?.stringValue ?? "?")): "
                + "\"\(feedback["feedback"]?["comment"]?.stringValue ?? "")\"")
    }

    private func showActionItems() throws {
        var rows: [[String]] = []
        for name in ["Dana", "Zoe"] {
            let someone = try person(name)
            let items = try client.call("performance.action_items", as: someone.id)
            rows.append(
                ["\(someone.name) (\(someone.role))"]
                    + ["pending_reviews", "self_assessments", "pending_feedback", "open_cycles"].map {
                        String(items[$0]?.intValue ?? 0)
                    })
        }
        output.paragraph("performance.action_items, as Dana and as Zoe:")
        output.table(
            ["person", "reviews to finish", "self-assessments", "feedback to give", "open cycles"], rows,
            rightAligned: [1, 2, 3, 4])
        output.paragraph(
            "Dana still reviews seven Q4 2025 reviews; Zoe owes her self-assessment and her feedback on Eli.")
    }

    private func readEventFeed() throws {
        var after: Int64 = 0
        var pages: [String] = []
        var counts: [String: Int] = [:]
        var total = 0
        while true {
            let page = try client.call("events.list", ["after": .int(after), "limit": 100])
            let events = try page.array("data")
            for event in events { counts[event["type"]?.stringValue ?? "?", default: 0] += 1 }
            total += events.count
            let next = page["next_after"]?.intValue ?? after
            if !events.isEmpty { pages.append("\(after + 1)–\(next)") }
            after = next
            if page["has_more"]?.boolValue != true { break }
        }
        let watermark = after
        output.paragraph(
            "events.list reads the durable feed from sequence 0, 100 events a page: \(pages.count) pages "
                + "(\(pages.joined(separator: ", "))), \(total) events in all. The demo keeps the watermark "
                + "\(watermark), the last sequence read. By type:")
        let byType = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        output.block(
            DemoOutput.wrap(
                byType.map { "\($0.key) \($0.value)" }.joined(separator: ", "), width: 90, indent: ""))

        let zoe = try person("Zoe")
        try submitFeedback(from: "Zoe", about: try person("Eli"), Self.answers["Zoe"] ?? [:])
        let fresh = try client.call("events.list", ["after": .int(watermark)]).array("data")
        try expect(fresh.count == 1, "exactly one event should follow the watermark, not \(fresh.count)")
        output.paragraph(
            "Then \(zoe.first) sends her late feedback on Eli. events.list {after: \(watermark)} returns only what "
                + "is new: \(fresh.count) new event.")
        output.block(fresh.map(describe))

        let live = client.takeEvents()
        let sequences = live.compactMap { $0["sequence"]?.intValue }
        let first = sequences.first ?? 0
        let last = sequences.last ?? 0
        try expect(
            !live.isEmpty && sequences == Array(first...last) && last == fresh.last?["sequence"]?.intValue,
            "the live notifications should be every event since the subscription, in order")
        output.paragraph(
            "Meanwhile, since events.subscribe in step 4, this session has received \(live.count) live event "
                + "notifications (sequences \(first) to \(last)): every event the feed holds after sequence "
                + "\(first - 1), in order, the last being Zoe's. Two of them:")
        let highlights = ["review.completed", "summary.shared"].compactMap { type in
            live.first { $0["type"]?.stringValue == type }
        }
        output.block(highlights.map(describe))
    }

    // MARK: - Helpers of the steps

    /// The person with this first name.
    private func person(_ first: String) throws -> Person {
        guard let person = people[first] else { throw DemoFailure("the story has nobody called \(first)") }
        return person
    }

    /// The first cycle's review of the person with this first name.
    private func review(of first: String) throws -> String {
        guard let id = reviews[first] else { throw DemoFailure("\(first) has no review in \(firstCycle.name)") }
        return id
    }

    /// Fail the step with `message` unless `condition` holds.
    private func expect(_ condition: Bool, _ message: String) throws {
        if !condition { throw DemoFailure("unexpected answer: \(message)") }
    }

    /// `someone` answers their pending request about `subject`, found in their own list of requests.
    private func submitFeedback(from someone: String, about subject: Person, _ answers: JSONObject) throws {
        let reviewer = try person(someone)
        let pending = try client.call("performance.feedback.requests.list", as: reviewer.id).array("requests")
        guard let request = pending.first(where: { $0["subject_id"]?.stringValue == subject.id }) else {
            throw DemoFailure("\(someone) has no pending feedback request about \(subject.name)")
        }
        var params = answers
        params["request_id"] = .string(try request.string("id"))
        let submitted = try client.call("performance.feedback.submit", params, as: reviewer.id)
        try expect(submitted["status"]?.stringValue == "submitted", "the request should now be submitted")
    }

    /// What completing a review showed: the review, its row in the verdict table and a sentence about it.
    private struct Completion {
        var review: JSON
        var row: [String]
        var sentence: String
    }

    /// Dana rates the review's KPIs with `ratings` (in row order) and completes it; the server's pass/fail is checked
    /// against the rule (pass/total ≥ 75% and every mandatory KPI passed) and explained.
    private func rateAndComplete(_ first: String, _ ratings: [String], review: String? = nil) throws -> Completion {
        let dana = try person("Dana")
        let id = try review ?? self.review(of: first)
        let rows = try client.call("performance.reviews.get", ["id": .string(id)], as: dana.id).array("kpi_ratings")
        try expect(rows.count == ratings.count, "the review should have \(ratings.count) KPI rows")
        let completed = try client.call(
            "performance.reviews.update",
            [
                "id": .string(id), "status": "completed",
                "kpi_ratings": .array(
                    try zip(rows, ratings).map { row, rating in
                        ["id": .string(try row.string("id")), "rating": .string(rating)]
                    }),
                "strengths": "Dependable delivery.", "growth_areas": "Keep the team informed in writing.",
                "reviewer_notes": "Discussed in our 1:1.", "action_items": "Agree next quarter's goals.",
            ], as: dana.id)
        let header = completed["review"] ?? .null
        let passCount = header["kpi_pass_count"]?.intValue ?? -1
        let totalCount = header["kpi_total_count"]?.intValue ?? -1
        let passed = header["kpi_passed"]?.boolValue
        let missed = try completed.array("kpi_ratings").filter { row in
            row["is_mandatory"]?.boolValue == true && !Self.passes(row["rating"]?.stringValue ?? "")
        }
        let expectedPasses = Int64(ratings.filter(Self.passes).count)
        let share = totalCount > 0 ? Int((Double(passCount) * 100 / Double(totalCount)).rounded()) : 0
        let expected = totalCount > 0 && passCount * 4 >= totalCount * 3 && missed.isEmpty
        try expect(
            header["status"]?.stringValue == "completed" && passCount == expectedPasses
                && totalCount == Int64(ratings.count) && passed == expected,
            "\(first)'s review should be completed with \(expectedPasses) of \(ratings.count) KPIs passed and "
                + "kpi_passed \(expected), not \(completed["review"]?.jsonText ?? "?")")
        let verdict = passed == true ? "passed" : "failed"
        var reasons: [String] = []
        if passCount * 4 < totalCount * 3 { reasons.append("\(share)% is below 75%") }
        for row in missed {
            reasons.append(
                "\(row["label"]?.stringValue ?? "?") is mandatory and was rated "
                    + Self.words(row["rating"]?.stringValue ?? ""))
        }
        let why =
            reasons.isEmpty ? "at least 75% passed and every mandatory KPI passed" : reasons.joined(separator: "; ")
        let name = header["user_name"]?.stringValue ?? first
        let cycle = header["cycle_name"]?.stringValue ?? "?"
        let mandatory = missed.isEmpty ? "every mandatory KPI passed" : "a mandatory KPI did not pass"
        return Completion(
            review: completed,
            row: [
                "\(name), \(cycle)", "\(passCount) of \(totalCount)", "\(share)%",
                missed.isEmpty ? "all passed" : "\(missed.count) not passed", String(passed == true),
            ],
            sentence: "Dana (manager) rates \(first)'s \(cycle) KPIs and completes the review: \(passCount) of "
                + "\(totalCount) KPIs passed (\(share)%), \(mandatory) → \(verdict)"
                + (passed == true ? "." : ": \(why)."))
    }

    /// One event of the feed as a line: sequence, type, who acted and on what.
    private func describe(_ event: JSON) -> String {
        let sequence = event["sequence"]?.intValue ?? 0
        let type = event["type"]?.stringValue ?? "?"
        let actor = event["actor_id"]?.stringValue.map { names[$0] ?? $0 } ?? "merit init"
        let data = event["data"] ?? .null
        var what = data["name"]?.stringValue ?? data["id"]?.stringValue ?? ""
        if type.hasPrefix("review.") {
            what = "\(data["user_name"]?.stringValue ?? "?")'s review in \(data["cycle_name"]?.stringValue ?? "?")"
            if let passed = data["kpi_passed"]?.boolValue {
                what +=
                    ", \(data["kpi_pass_count"]?.intValue ?? 0) of \(data["kpi_total_count"]?.intValue ?? 0) "
                    + "KPIs, \(passed ? "passed" : "failed")"
            }
        } else if type.hasPrefix("summary.") {
            let employee = data["employee_id"]?.stringValue.map { names[$0] ?? $0 } ?? "?"
            what = "the summary of \(employee), now \(data["status"]?.stringValue ?? "?")"
        } else if type.hasPrefix("feedback") {
            what = "feedback on \(data["subject_name"]?.stringValue ?? "?"), \(data["status"]?.stringValue ?? "?")"
        }
        return "#\(sequence) \(type) by \(actor): \(what)"
    }

    /// A rating or status as words: `partially_achieving` → `partially achieving`.
    private static func words(_ value: String) -> String {
        value.replacingOccurrences(of: "_", with: " ")
    }

    /// Whether a KPI rated `rating` passes: achieving or exceeding.
    private static func passes(_ rating: String) -> Bool {
        rating == "achieving" || rating == "exceeding"
    }

    /// The first word of a name.
    static func firstName(_ name: String) -> String {
        name.split(separator: " ").first.map(String.init) ?? name
    }

    /// `first.last@acme.example`.
    private static func email(_ name: String) -> String {
        name.lowercased().split(separator: " ").joined(separator: ".") + "@acme.example"
    }

    // MARK: - What people say

    /// Dana's ratings, in the template's order.
    static let ratings: [String: [String]] = [
        "Eli": ["exceeding", "achieving", "partially_achieving", "achieving", "achieving"],
        "Maya": ["partially_achieving", "achieving", "exceeding", "achieving", "achieving"],
        "Noah": ["achieving", "achieving", "partially_achieving", "achieving", "partially_achieving"],
        "Eli Q1": ["exceeding", "achieving", "achieving", "achieving", "exceeding"],
    ]

    /// The peers' feedback on Eli.
    static let answers: [String: JSONObject] = [
        "Maya": [
            "organisation_rating": "achieving", "performance_rating": "exceeding",
            "performance_comment": "Unblocked the refund flow twice this quarter.", "communication_rating": "achieving",
            "development_rating": "achieving", "automation_rating": "exceeding",
            "automation_comment": "His deploy scripts save us an hour a week.",
            "overall_comment": "Great to pair with.",
        ],
        "Ravi": [
            "organisation_rating": "achieving", "organisation_comment": "Plans his work well.",
            "performance_rating": "exceeding", "communication_rating": "partially_achieving",
            "communication_comment": "Status updates could be more regular.", "development_rating": "achieving",
            "automation_rating": "achieving", "overall_comment": "A dependable engineer.",
        ],
        "Noah": [
            "organisation_rating": "exceeding", "performance_rating": "achieving",
            "communication_rating": "partially_achieving",
            "communication_comment": "Sometimes hard to follow in design reviews.", "development_rating": "exceeding",
            "development_comment": "Picked up Kotlin in a month.", "automation_rating": "achieving",
        ],
        "Ivan": [
            "organisation_rating": "achieving", "performance_rating": "achieving", "communication_rating": "achieving",
            "development_rating": "achieving", "automation_rating": "exceeding",
            "automation_comment": "Automated the reconciliation report.", "overall_comment": "Always willing to help.",
        ],
        "Zoe": [
            "organisation_rating": "achieving", "performance_rating": "achieving", "communication_rating": "achieving",
            "development_rating": "exceeding", "automation_rating": "achieving",
            "overall_comment": "Helped me through my first weeks.",
        ],
    ]

    /// Dana's summary of Eli's quarter: a heading, paragraphs, a bullet list, bold and link marks.
    static let summaryBody: JSON = [
        "type": "doc",
        "content": [
            ["type": "heading", "attrs": ["level": 2], "content": [["type": "text", "text": "Eli Novak, Q1 2026"]]],
            [
                "type": "paragraph",
                "content": [
                    ["type": "text", "text": "Eli had a strong quarter. He "],
                    [
                        "type": "text", "text": "led the review of the March payments outage",
                        "marks": [["type": "bold"]],
                    ],
                    ["type": "text", "text": " calmly, and his post-mortem is now the team's template."],
                ],
            ],
            ["type": "heading", "attrs": ["level": 3], "content": [["type": "text", "text": "Highlights"]]],
            [
                "type": "bullet_list",
                "content": [
                    DemoStory.item("Shipped the refund flow and the ledger export on time."),
                    DemoStory.item("Started the payments retry service, his objective for Q2."),
                    DemoStory.item("Peers rate his delivery achieving or exceeding."),
                ],
            ],
            ["type": "heading", "attrs": ["level": 3], "content": [["type": "text", "text": "Next"]]],
            [
                "type": "paragraph",
                "content": [
                    ["type": "text", "text": "Keep the team informed in writing; the "],
                    [
                        "type": "text", "text": "engineering writing guide",
                        "marks": [["type": "link", "attrs": ["href": "https://handbook.acme.example/writing"]]],
                    ],
                    ["type": "text", "text": " is a good start."],
                ],
            ],
        ],
    ]

    private static func item(_ text: String) -> JSON {
        [
            "type": "list_item",
            "content": [["type": "paragraph", "content": [["type": "text", "text": .string(text)]]]],
        ]
    }
}

extension JSON {
    /// The string member `key`, or a failure naming it.
    fileprivate func string(_ key: String) throws -> String {
        guard let value = self[key]?.stringValue else {
            throw DemoFailure("the answer has no string \(key): \(jsonText)")
        }
        return value
    }

    /// The array member `key`, or a failure naming it.
    fileprivate func array(_ key: String) throws -> [JSON] {
        guard let value = self[key]?.arrayValue else {
            throw DemoFailure("the answer has no array \(key): \(jsonText)")
        }
        return value
    }

    /// The string member `key` of a review detail's `review`.
    fileprivate func review(_ key: String) throws -> String {
        try (self["review"] ?? .null).string(key)
    }
}
