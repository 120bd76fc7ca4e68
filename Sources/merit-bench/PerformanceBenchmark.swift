import Foundation
import MeritJSON
import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// An organization of 10 000 people with three years of quarterly and annual review cycles, reviews with ratings
/// and goals, goal outcomes and 360° feedback, all written through the real write path (in-process, acting as the
/// people with `_meta.actor`); then the Performance API's reads, start-up after `merit compact`, and memory.
enum PerformanceBenchmark {
    /// Who is who: each person's id, role, manager and reviewer (indexes into the same arrays, -1 for none).
    struct Organization {
        var ids: [String] = []
        var roles: [String] = []
        var managers: [Int] = []
        var reviewers: [Int] = []
        var squads: [String?] = []
        /// The people of each squad, and each person's direct reports.
        var squadMembers: [String: [Int]] = [:]
        var reports: [Int: [Int]] = [:]
    }

    /// A review the generator wrote, for the reads that follow.
    struct WrittenReview {
        var id: String
        var cycle: String
        var reviewer: Int
    }

    static let areas = ["performance", "communication", "development", "organisation", "automation"]
    static let labels = [
        "Delivery on commitments", "Code quality", "Clear written updates", "Learning goals met", "Collaboration",
        "Ownership", "Planning", "Mentoring", "Customer focus", "Use of automation", "Incident response",
        "Documentation",
    ]
    static let goals = [
        ("Ship the billing export", "Live for all customers"), ("Mentor a new joiner", "Onboarded in 6 weeks"),
        ("Complete the AI certification", "Certificate obtained"), ("Lead the search rewrite", "Launched"),
        ("Cut build times in half", "CI under 10 minutes"), ("Write the on-call runbook", "Reviewed by SRE"),
    ]
    static let phrases = [
        "Reliable delivery all quarter.", "Communicates clearly with stakeholders.", "Took ownership of incidents.",
        "Needs to plan further ahead.", "Written updates could be more regular.", "A strong mentor to the squad.",
    ]

    /// Generate the organization and its history, time the reads, then compact and time start-up; print the report.
    static func run(merit: String, people: Int) throws {
        let suiteStart = now()
        resetPeakMemory()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-performance-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let key = try StorageBenchmark.initialize(data, merit: merit)
        let client = try InProcessServer(
            data: data,
            configuration: ServerConfiguration(diagnostics: Diagnostics(level: .error), environmentAPIKey: key))
        var random = SplitMix(seed: 42)

        // The generator: the organization, then three years of cycles, each written in pipelined groups.
        let generationStart = now()
        let organization = try makeOrganization(people: people, client: client, random: &random)
        var reviews: [WrittenReview] = []
        var cycles: [String] = []
        var feedbackSubjects: [(subject: Int, cycle: String)] = []
        var counts = (reviews: 0, outcomes: 0, requests: 0, submissions: 0)
        for year in 2023...2025 {
            for quarter in 0...4 {
                let annual = quarter == 4
                let name = annual ? "\(year) Annual Review" : "Q\(quarter + 1) \(year) Review"
                let start = annual ? "\(year)-01-01" : "\(year)-\(["01-01", "04-01", "07-01", "10-01"][quarter])"
                let end = annual ? "\(year)-12-31" : "\(year)-\(["03-31", "06-30", "09-30", "12-31"][quarter])"
                let due =
                    annual || quarter == 3 ? "\(year + 1)-01-31" : "\(year)-\(["04-30", "07-31", "10-31"][quarter])"
                let cycle =
                    try client.send([
                        client.request(
                            "performance.cycles.create",
                            #""type":"\#(annual ? "annual" : "quarterly")","name":"\#(name)","period_start":"\#(start)","#
                                + #""period_end":"\#(end)","due_date":"\#(due)""#)
                    ])[0]["id"]?.stringValue ?? ""
                try client.check([client.request("performance.cycles.update", #""id":"\#(cycle)","status":"open""#)])
                cycles.append(cycle)
                let written = try writeReviews(
                    cycle: cycle, organization: organization, client: client, random: &random)
                reviews += written.reviews
                counts.reviews += written.reviews.count
                counts.outcomes += written.outcomes
                if !annual {
                    let feedback = try writeFeedback(
                        cycle: cycle, due: due, organization: organization, client: client, random: &random)
                    feedbackSubjects += feedback.subjects.map { ($0, cycle) }
                    counts.requests += feedback.requests
                    counts.submissions += feedback.submissions
                }
                try client.check([client.request("performance.cycles.update", #""id":"\#(cycle)","status":"closed""#)])
            }
        }
        let generationSeconds = Double(now() - generationStart) / 1e9
        let written = client.sent

        // The reads, each alone in its group, as a user's request arrives: ~200 samples after a short warm-up.
        let managers = organization.roles.indices.filter { organization.roles[$0] == "manager" }
        let get = try samples(client) { _ in
            let review = reviews.randomElement(using: &random)!
            return client.request(
                "performance.reviews.get", #""id":"\#(review.id)""#, actor: organization.ids[review.reviewer])
        }
        var listed: [Int] = []
        let list = try samples(client, sizes: &listed) { _ in
            client.request(
                "performance.reviews.list", #""cycle_id":"\#(cycles.randomElement(using: &random)!)""#,
                actor: organization.ids[managers.randomElement(using: &random)!])
        }
        let icSubjects = feedbackSubjects.filter {
            organization.roles[organization.managers[$0.subject]] == "manager"
        }
        let summary = try samples(client) { _ in
            let (subject, cycle) = icSubjects.randomElement(using: &random)!
            return client.request(
                "performance.feedback.summary", #""user_id":"\#(organization.ids[subject])","cycle_id":"\#(cycle)""#,
                actor: organization.ids[organization.managers[subject]])
        }
        let peak = memoryStatus("VmHWM") ?? 0
        client.close()
        let size = directorySize(data)
        let startup = try startUp(data: data, key: key, merit: merit)
        let suiteSeconds = Double(now() - suiteStart) / 1e9

        let listSize = listed.isEmpty ? 0 : listed.reduce(0, +) / listed.count
        report(
            "performance: \(grouped(Double(people))) people, 3 years of cycles (12 quarterly, 3 annual), in-process",
            [
                Row(
                    name: "generator, pipelined groups of ≤ 500",
                    value: "\(grouped(Double(written) / generationSeconds)) requests/s",
                    note: String(format: "%@ requests in %.1f s", grouped(Double(written)), generationSeconds)),
                Row(
                    name: "  written", value: "\(grouped(Double(counts.reviews))) reviews",
                    note: "\(grouped(Double(counts.outcomes))) goal outcome calls, "
                        + "\(grouped(Double(counts.requests))) feedback requests, "
                        + "\(grouped(Double(counts.submissions))) submitted"),
                readRow("performance.reviews.get (as the reviewer)", get),
                readRow(
                    "performance.reviews.list {cycle_id} (as a manager)", list,
                    note: ";  \(listSize) reviews on average"),
                readRow("performance.feedback.summary {user_id, cycle_id} (as the manager)", summary),
                Row(
                    name: "peak RSS in-process after generation (VmHWM)", value: megabytes(peak),
                    note: "target ≤ 1.5 GB  \(verdict(peak <= 1536 << 20))"),
                Row(name: "data directory on disk", value: megabytes(size)),
                Row(name: "merit compact", value: String(format: "%.2f s", startup.compactSeconds)),
                Row(
                    name: "merit serve start-up after compact, p50", value: String(format: "%.3f s", startup.seconds),
                    note: "spawn to first answer;  target ≤ 1 s  \(verdict(startup.seconds <= 1))"),
                Row(
                    name: "merit serve RSS after start-up (VmHWM)", value: megabytes(startup.peakMemory),
                    note: "target ≤ 1.5 GB  \(verdict(startup.peakMemory <= 1536 << 20))"),
                Row(name: "wall time of the suite", value: String(format: "%.0f s", suiteSeconds)),
            ])
    }

    /// Five templates of 8 to 12 items, then the people, level by level (each level needs its managers' ids):
    /// executives, heads, managers with 10 to 50 reports each, and the reports in squads of eight, each led by a lead.
    static func makeOrganization(people: Int, client: InProcessServer, random: inout SplitMix) throws -> Organization {
        let templates = try client.send(
            (0..<5).map { template in
                let items = (0..<(8 + template)).map { item in
                    #"{"area":"\#(areas[item % areas.count])","label":"\#(labels[(item + template) % labels.count])","#
                        + #""is_mandatory":\#(item < 2)}"#
                }
                return client.request(
                    "templates.create", #""name":"Template \#(template)","items":[\#(items.joined(separator: ","))]"#)
            }
        ).map { $0["id"]?.stringValue ?? "" }
        var organization = Organization()
        let executives = 10
        let heads = max(1, people / 250)
        let managers = max(1, people / 30)
        let reports = people - executives - heads - managers
        // Each manager's share of the reports: a weight of 10 to 50, scaled to the reports there are.
        let weights = (0..<managers).map { _ in Int.random(in: 10...50, using: &random) }
        var shares = weights.map { $0 * reports / weights.reduce(0, +) }
        for index in 0..<(reports - shares.reduce(0, +)) { shares[index % managers] += 1 }
        var level: [(role: String, manager: Int, squad: String?)] = []
        func add(_ people: [(role: String, manager: Int, squad: String?)]) throws {
            for chunk in stride(from: 0, to: people.count, by: 500) {
                let lines = people[chunk..<min(chunk + 500, people.count)].map { person in
                    let index = organization.ids.count + level.count
                    level.append(person)
                    let manager = person.manager >= 0 ? #","manager_id":"\#(organization.ids[person.manager])""# : ""
                    let squad = person.squad.map { #","squad":"\#($0)""# } ?? ""
                    return client.request(
                        "people.create",
                        #""name":"Person \#(index)","email":"p\#(index)@perf.example","role":"\#(person.role)","#
                            + #""review_template_id":"\#(templates[index % templates.count])"\#(manager)\#(squad)"#)
                }
                let created = try client.send(lines)
                for (person, result) in zip(level, created) {
                    let index = organization.ids.count
                    organization.ids.append(result["id"]?.stringValue ?? "")
                    organization.roles.append(person.role)
                    organization.managers.append(person.manager)
                    organization.squads.append(person.squad)
                    if let squad = person.squad { organization.squadMembers[squad, default: []].append(index) }
                    if person.manager >= 0 { organization.reports[person.manager, default: []].append(index) }
                }
                level.removeAll()
            }
        }
        try add((0..<executives).map { _ in ("executive", -1, nil) })
        try add((0..<heads).map { ("head", $0 % executives, nil) })
        try add((0..<managers).map { ("manager", executives + $0 % heads, nil) })
        var members: [(role: String, manager: Int, squad: String?)] = []
        for (manager, share) in shares.enumerated() {
            for member in 0..<share {
                let squad = "m\(manager)-s\(member / 8)"
                members.append((member % 8 == 0 ? "lead" : "employee", executives + heads + manager, squad))
            }
        }
        try add(members)
        // Executives are reviewed by another executive, everyone else by their manager of record.
        organization.reviewers = organization.managers.enumerated().map { index, manager in
            manager >= 0 ? manager : (index + 1) % executives
        }
        return organization
    }

    /// Reviews of nearly everyone (2 % are skipped) in `cycle`, created by their reviewers; then, for each, the
    /// outcomes of the goals its previous reviews left open and the completion with every KPI row rated and 1–3 goals.
    static func writeReviews(
        cycle: String, organization: Organization, client: InProcessServer, random: inout SplitMix
    ) throws -> (reviews: [WrittenReview], outcomes: Int) {
        let subjects = organization.ids.indices.filter { _ in Int.random(in: 0..<100, using: &random) >= 2 }
        var created: [(review: WrittenReview, kpis: [String], openGoals: [String])] = []
        for chunk in stride(from: 0, to: subjects.count, by: 500) {
            let group = subjects[chunk..<min(chunk + 500, subjects.count)]
            let results = try client.send(
                group.map { subject in
                    client.request(
                        "performance.reviews.create",
                        #""cycle_id":"\#(cycle)","user_id":"\#(organization.ids[subject])""#,
                        actor: organization.ids[organization.reviewers[subject]])
                })
            for (subject, result) in zip(group, results) {
                var openGoals: [String] = []
                for previous in result["previous_reviews"]?.arrayValue ?? [] {
                    for goal in previous["goals"]?.arrayValue ?? [] where goal["status"]?.stringValue == nil {
                        openGoals.append(goal["id"]?.stringValue ?? "")
                    }
                }
                created.append(
                    (
                        WrittenReview(
                            id: result["review"]?["id"]?.stringValue ?? "", cycle: cycle,
                            reviewer: organization.reviewers[subject]),
                        (result["kpi_ratings"]?.arrayValue ?? []).map { $0["id"]?.stringValue ?? "" }, openGoals
                    ))
            }
        }
        var outcomes = 0
        for chunk in stride(from: 0, to: created.count, by: 250) {
            var lines: [String] = []
            for (review, kpis, openGoals) in created[chunk..<min(chunk + 250, created.count)] {
                let actor = organization.ids[review.reviewer]
                if !openGoals.isEmpty {
                    let statuses = openGoals.map { goal in
                        let status = Int.random(in: 0..<3, using: &random) == 0 ? "not_completed" : "completed"
                        return #"{"goal_id":"\#(goal)","status":"\#(status)"}"#
                    }
                    lines.append(
                        client.request(
                            "performance.reviews.update_previous_goals",
                            #""id":"\#(review.id)","outcomes":[\#(statuses.joined(separator: ","))]"#, actor: actor))
                }
                let ratings = kpis.map { row in
                    let roll = Int.random(in: 0..<100, using: &random)
                    let rating =
                        roll < 8
                        ? "not_achieving" : roll < 30 ? "partially_achieving" : roll < 85 ? "achieving" : "exceeding"
                    return #"{"id":"\#(row)","rating":"\#(rating)"}"#
                }
                let newGoals = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                    let (goal, measure) = goals.randomElement(using: &random)!
                    return #"{"goal":"\#(goal)","success_measures":"\#(measure)"}"#
                }
                lines.append(
                    client.request(
                        "performance.reviews.update",
                        #""id":"\#(review.id)","status":"completed","kpi_ratings":[\#(ratings.joined(separator: ","))],"#
                            + #""goals":[\#(newGoals.joined(separator: ","))],"#
                            + #""strengths":"\#(phrases.randomElement(using: &random)!)","#
                            + #""growth_areas":"\#(phrases.randomElement(using: &random)!)","#
                            + #""reviewer_notes":"\#(phrases.randomElement(using: &random)!)","#
                            + #""action_items":"Agree next quarter's goals.""#, actor: actor))
            }
            outcomes += lines.count - min(250, created.count - chunk)
            try client.check(lines)
        }
        return (created.map(\.review), outcomes)
    }

    /// Bulk feedback requests, by their manager, about a tenth of the people in squads and five managers; each
    /// reviewer reads their pending requests and submits four in five.
    static func writeFeedback(
        cycle: String, due: String, organization: Organization, client: InProcessServer,
        random: inout SplitMix
    ) throws -> (subjects: [Int], requests: Int, submissions: Int) {
        let inSquads = organization.roles.indices.filter { ["lead", "employee"].contains(organization.roles[$0]) }
        let managers = organization.roles.indices.filter { organization.roles[$0] == "manager" }
        let subjects =
            inSquads.filter { _ in Int.random(in: 0..<10, using: &random) == 0 }
            + (0..<5).map { _ in managers.randomElement(using: &random)! }
        for chunk in stride(from: 0, to: subjects.count, by: 500) {
            try client.check(
                subjects[chunk..<min(chunk + 500, subjects.count)].map { subject in
                    client.request(
                        "performance.feedback.requests.create_bulk",
                        #""cycle_id":"\#(cycle)","subject_id":"\#(organization.ids[subject])","due_date":"\#(due)""#,
                        actor: organization.ids[organization.managers[subject]])
                })
        }
        // Each reviewer finds the requests in their inbox (their pending requests, of this cycle and of earlier ones).
        var reviewers = Set<Int>()
        for subject in subjects {
            if let squad = organization.squads[subject] {
                reviewers.formUnion(organization.squadMembers[squad, default: []])
            } else {
                reviewers.formUnion(managers)
                reviewers.formUnion(organization.reports[subject, default: []])
            }
        }
        var requests: [(id: String, reviewer: String)] = []
        let inboxes = Array(reviewers).sorted()
        for chunk in stride(from: 0, to: inboxes.count, by: 500) {
            let group = inboxes[chunk..<min(chunk + 500, inboxes.count)]
            let results = try client.send(
                group.map { client.request("performance.feedback.requests.list", "", actor: organization.ids[$0]) })
            for (reviewer, result) in zip(group, results) {
                for request in result["requests"]?.arrayValue ?? [] where request["cycle_id"]?.stringValue == cycle {
                    requests.append((request["id"]?.stringValue ?? "", organization.ids[reviewer]))
                }
            }
        }
        let ratings = ["not_achieving", "partially_achieving", "achieving", "achieving", "exceeding"]
        let answered = requests.filter { _ in Int.random(in: 0..<5, using: &random) != 0 }
        for chunk in stride(from: 0, to: answered.count, by: 500) {
            try client.check(
                answered[chunk..<min(chunk + 500, answered.count)].map { request in
                    var fields = #""request_id":"\#(request.id)""#
                    for area in areas {
                        fields += #","\#(area)_rating":"\#(ratings.randomElement(using: &random)!)""#
                        if Int.random(in: 0..<4, using: &random) == 0 {
                            fields += #","\#(area)_comment":"\#(phrases.randomElement(using: &random)!)""#
                        }
                    }
                    if Bool.random(using: &random) {
                        fields += #","overall_comment":"\#(phrases.randomElement(using: &random)!)""#
                    }
                    return client.request("performance.feedback.submit", fields, actor: request.reviewer)
                })
        }
        return (subjects, requests.count, answered.count)
    }

    /// `merit compact`, then the median of five start-ups of `merit serve` (spawn to the answer to its first
    /// request) and the largest resident size a started server reached.
    static func startUp(data: URL, key: String, merit: String) throws -> (
        compactSeconds: Double, seconds: Double, peakMemory: Int
    ) {
        let compact = Process()
        compact.executableURL = URL(fileURLWithPath: merit)
        compact.arguments = ["compact", "--data", data.path]
        compact.standardOutput = FileHandle.nullDevice
        let compactStart = now()
        try compact.run()
        compact.waitUntilExit()
        let compactSeconds = Double(now() - compactStart) / 1e9
        guard compact.terminationStatus == 0 else { throw BenchmarkError(message: "merit compact failed") }
        // A copy of the compacted directory, to time and profile start-up on again without generating it.
        if let keep = ProcessInfo.processInfo.environment["MERIT_BENCH_KEEP"] {
            try FileManager.default.copyItem(atPath: data.path, toPath: keep)
        }
        var startups: [UInt64] = []
        var peakMemory = 0
        setenv("MERIT_API_KEY", key, 1)
        defer { unsetenv("MERIT_API_KEY") }
        for _ in 0..<5 {
            let start = now()
            let child = try TransportBenchmark.Child(merit, ["serve", "--data", data.path])
            child.write(TransportBenchmark.line)
            var received = 0
            while received < 1 { received += child.readLines() }
            startups.append(now() - start)
            peakMemory = max(peakMemory, memoryStatus("VmHWM", of: "\(child.process.processIdentifier)") ?? 0)
            child.finish()
        }
        return (compactSeconds, Double(percentile(startups, 0.5)) / 1e9, peakMemory)
    }

    /// The times of ~200 requests (after 20 unmeasured), each made by `line` and sent alone in its group.
    static func samples(_ client: InProcessServer, _ line: (Int) -> String) throws -> [UInt64] {
        var sizes: [Int] = []
        return try samples(client, sizes: &sizes, line)
    }

    /// The same, also collecting the number of elements of each answer's first array (the page size of a list).
    static func samples(_ client: InProcessServer, sizes: inout [Int], _ line: (Int) -> String) throws -> [UInt64] {
        var samples: [UInt64] = []
        for iteration in 0..<220 {
            let (time, result) = try client.time(line(iteration))
            guard iteration >= 20 else { continue }
            samples.append(time)
            if let object = result.objectValue, let first = object.first(where: { $0.value.arrayValue != nil }) {
                sizes.append(first.value.arrayValue?.count ?? 0)
            }
        }
        return samples
    }
}

/// The real `Server` driven in-process through a `Dispatcher`, as `merit serve` drives it but without the pipes:
/// the lines of a group are received, then flushed, which commits the group's changes with one fsync and writes
/// every response, as when the lines arrive in one read of stdin.
final class InProcessServer {
    let server: Server
    private var dispatcher: Dispatcher
    private var writer = JSONWriter(capacity: 1 << 22)
    /// Requests sent so far.
    private(set) var sent = 0

    init(data: URL, configuration: ServerConfiguration) throws {
        server = try Server(configuration: configuration, dataDirectory: data.path)
        dispatcher = Dispatcher(handler: server)
    }

    func close() { server.close() }

    /// A request line: `members` are the params' members as JSON text, `actor` the person to act as.
    func request(_ method: String, _ members: String, actor: String? = nil) -> String {
        let meta = actor.map { #"\#(members.isEmpty ? "" : ",")"_meta":{"actor":"\#($0)"}"# } ?? ""
        return #"{"jsonrpc":"2.0","id":\#(sent + 1),"method":"\#(method)","params":{\#(members)\#(meta)}}"#
    }

    /// Send `lines` as one group and return each response's `result`. An error stops the benchmark with its
    /// message: the generator must write exactly what it says.
    func send(_ lines: [String]) throws -> [JSON] {
        receive(lines)
        return try responses().map { try result(of: $0) }
    }

    /// Send `lines` as one group and check that no response is an error, without parsing the results.
    func check(_ lines: [String]) throws {
        receive(lines)
        let responses = responses()
        guard responses.count == lines.count else {
            throw BenchmarkError(message: "\(responses.count) responses to \(lines.count) requests")
        }
        for range in responses where isError(range) { _ = try result(of: range) }
    }

    /// The time of `line` sent alone in its group (parsing, handling, committing, writing the response) and its
    /// result, parsed after the clock stops.
    func time(_ line: String) throws -> (UInt64, JSON) {
        var bytes = Array(line.utf8)
        let start = now()
        bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        writer.bytes.removeAll(keepingCapacity: true)
        dispatcher.flush(into: &writer)
        let elapsed = now() - start
        sent += 1
        guard let range = responses().first else { throw BenchmarkError(message: "no response to \(line)") }
        return (elapsed, try result(of: range))
    }

    private func receive(_ lines: [String]) {
        for line in lines {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
        }
        sent += lines.count
        writer.bytes.removeAll(keepingCapacity: true)
        dispatcher.flush(into: &writer)
    }

    /// The byte ranges of the response lines in the writer.
    private func responses() -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for (index, byte) in writer.bytes.enumerated() where byte == 0x0A {
            ranges.append(start..<index)
            start = index + 1
        }
        return ranges
    }

    /// Whether the response in `range` is an error: after `{"jsonrpc":"2.0","id":N` comes `,"error"`, not
    /// `,"result"`.
    private func isError(_ range: Range<Int>) -> Bool {
        let prefix = #"{"jsonrpc":"2.0","id":"#.utf8.count
        var index = range.lowerBound + prefix
        while index < range.upperBound, writer.bytes[index] != 0x2C { index += 1 }
        return index + 2 < range.upperBound && writer.bytes[index + 2] == UInt8(ascii: "e")
    }

    private func result(of range: Range<Int>) throws -> JSON {
        let response = try JSONParser.parse(Array(writer.bytes[range]))
        guard let result = response["result"] else {
            throw BenchmarkError(
                message: "a request failed: \(response["error"]?["message"]?.stringValue ?? "no result")")
        }
        return result
    }
}

/// SplitMix64: a small, fast generator, seeded so that every run writes the same organization.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// A field of `/proc/<process>/status` given in kB (`VmHWM`, `VmRSS`), in bytes; `nil` where there is no `/proc`.
func memoryStatus(_ field: String, of process: String = "self") -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("\(field):") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }
    return nil
}

/// Reset this process's peak resident size (`VmHWM`), so that a suite reports its own peak and not an earlier
/// suite's (Linux 4.0 and later; elsewhere a no-op).
func resetPeakMemory() {
    let descriptor = open("/proc/self/clear_refs", O_WRONLY)
    guard descriptor >= 0 else { return }
    _ = write(descriptor, "5", 1)
    close(descriptor)
}

/// The bytes of the regular files under `directory`.
func directorySize(_ directory: URL) -> Int {
    var total = 0
    let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey])
    while let file = enumerator?.nextObject() as? URL {
        total += (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
    }
    return total
}

/// A row of a read's p50 and p99 against the reads' target, p99 ≤ 1 ms in-process.
func readRow(_ name: String, _ samples: [UInt64], note: String = "") -> Row {
    let p99 = percentile(samples, 0.99)
    return Row(
        name: "\(name), p50 / p99", value: microseconds(percentile(samples, 0.5)),
        note: "\(microseconds(p99));  target p99 ≤ 1 ms  \(verdict(p99 <= 1_000_000))\(note)")
}

/// `1536 << 20` → `1 536 MB`.
func megabytes(_ bytes: Int) -> String { "\(grouped(Double(bytes) / 1_048_576)) MB" }
