import Foundation
import MeritJSON
import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// A million summaries (`MERIT_BENCH_SUMMARIES`) over 10 000 employees, written in-process: the indexed reads,
/// start-up after `merit compact`, then durable `summaries.create` through `merit serve`, one at a time against a
/// raw append + fdatasync and 64 in flight. `MERIT_BENCH_SUMMARIES=0` runs the durable writes alone.
enum SummariesBenchmark {
    static let phrases = [
        "Shipped the billing export on time.", "Led the incident review calmly.", "Mentored the new joiner.",
        "Cut the build time in half.", "Wrote the on-call runbook.", "Planned the next quarter with the squad.",
    ]

    /// Write `summaries` summaries, time the reads, compact and time start-up, then the durable writes; print the
    /// report.
    static func run(merit: String, summaries: Int) throws {
        guard summaries > 0 else { return try runWrites(merit: merit) }
        let suiteStart = now()
        resetPeakMemory()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-summaries-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let key = try StorageBenchmark.initialize(data, merit: merit)
        // "Now" is frozen at 2026-04-15T09:00:00Z; every period ends on or before it.
        let client = try InProcessServer(
            data: data,
            configuration: ServerConfiguration(
                frozenClock: .init(milliseconds: 1_776_243_600_000), diagnostics: Diagnostics(level: .error),
                environmentAPIKey: key))

        // 10 heads, 200 managers and 10 000 employees; then the summaries, week after week, oldest first, each
        // written by the employee's manager.
        let employeeCount = 10_000
        let heads = try client.send(
            (0..<10).map {
                client.request(
                    "people.create", #""name":"Head \#($0)","email":"h\#($0)@sum.example","role":"head""#)
            }
        ).map { $0["id"]?.stringValue ?? "" }
        let managers = try client.send(
            (0..<200).map {
                client.request(
                    "people.create",
                    #""name":"Manager \#($0)","email":"m\#($0)@sum.example","role":"manager","#
                        + #""manager_id":"\#(heads[$0 % heads.count])""#)
            }
        ).map { $0["id"]?.stringValue ?? "" }
        var employees: [String] = []
        for chunk in stride(from: 0, to: employeeCount, by: 1000) {
            employees += try client.send(
                (chunk..<chunk + 1000).map {
                    client.request(
                        "people.create",
                        #""name":"Employee \#($0)","email":"e\#($0)@sum.example","role":"employee","#
                            + #""manager_id":"\#(managers[$0 % managers.count])""#)
                }
            ).map { $0["id"]?.stringValue ?? "" }
        }
        let weeks = (summaries + employeeCount - 1) / employeeCount
        // The last period ends on Sunday 2026-04-12, before the clock's Wednesday.
        let periods = (0..<weeks).map { week in
            let end = day(2026, 4, 12) - 7 * (weeks - 1 - week)
            return (start: text(of: end - 6), end: text(of: end))
        }
        let generationStart = now()
        for chunk in stride(from: 0, to: summaries, by: 1000) {
            try client.check(
                (chunk..<min(chunk + 1000, summaries)).map { index in
                    let (employee, period) = (index % employeeCount, periods[index / employeeCount])
                    let body =
                        #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Week to "#
                        + #"\#(period.end): "},{"type":"text","text":"\#(phrases[index % phrases.count])","#
                        + #""marks":[{"type":"bold"}]}]}]}"#
                    return client.request(
                        "summaries.create",
                        #""employee_id":"\#(employees[employee])","period_start":"\#(period.start)","#
                            + #""period_end":"\#(period.end)","body":\#(body)"#,
                        actor: managers[employee % managers.count])
                })
        }
        let generationSeconds = Double(now() - generationStart) / 1e9
        let peak = memoryStatus("VmHWM") ?? 0
        var random = SplitMix(seed: 7)

        // The reads, each alone in its group, as the employee's manager.
        var listed: [Int] = []
        let list = try PerformanceBenchmark.samples(client, sizes: &listed) { _ in
            let employee = Int.random(in: 0..<employeeCount, using: &random)
            return client.request(
                "summaries.list", #""filter":{"employee_id":"\#(employees[employee])"},"limit":20"#,
                actor: managers[employee % managers.count])
        }
        // A manager's own view, without a filter: the summaries of their 50 reports.
        let team = try PerformanceBenchmark.samples(client) { _ in
            client.request("summaries.list", #""limit":20"#, actor: managers.randomElement(using: &random)!)
        }
        // A head's: the summaries of the 1 000 people below their 20 managers (a tenth of all).
        let division = try PerformanceBenchmark.samples(client) { _ in
            client.request("summaries.list", #""limit":20"#, actor: heads.randomElement(using: &random)!)
        }
        var known: [(id: String, manager: String)] = []
        for _ in 0..<50 {
            let employee = Int.random(in: 0..<employeeCount, using: &random)
            let page = try client.send([
                client.request(
                    "summaries.list", #""filter":{"employee_id":"\#(employees[employee])"},"limit":20"#,
                    actor: managers[employee % managers.count])
            ])[0]
            for summary in page["data"]?.arrayValue ?? [] {
                known.append((summary["id"]?.stringValue ?? "", managers[employee % managers.count]))
            }
        }
        let get = try PerformanceBenchmark.samples(client) { _ in
            let summary = known.randomElement(using: &random)!
            return client.request("summaries.get", #""id":"\#(summary.id)""#, actor: summary.manager)
        }
        client.close()
        let size = directorySize(data)
        let startup = try PerformanceBenchmark.startUp(data: data, key: key, merit: merit)
        let durable = try writes(root: root, merit: merit)
        let suiteSeconds = Double(now() - suiteStart) / 1e9

        report(
            "summaries: \(grouped(Double(summaries))) summaries of \(grouped(Double(employeeCount))) employees, "
                + "in-process, then durable writes through merit serve",
            [
                Row(
                    name: "summaries.create, pipelined in groups of 1000",
                    value: "\(grouped(Double(summaries) / generationSeconds)) /s",
                    note: String(format: "%.1f s", generationSeconds)),
                readRow("summaries.list {employee_id} limit 20 (as the manager)", list),
                readRow("summaries.list, no filter, limit 20 (as a manager of 50)", team),
                readRow("summaries.list, no filter, limit 20 (as a head of 1 000)", division),
                readRow("summaries.get (as the manager)", get),
                Row(name: "peak RSS in-process after generation (VmHWM)", value: megabytes(peak)),
                Row(name: "data directory on disk", value: megabytes(size)),
                Row(name: "merit compact", value: String(format: "%.2f s", startup.compactSeconds)),
                Row(
                    name: "merit serve start-up after compact, p50", value: String(format: "%.3f s", startup.seconds),
                    note: "spawn to first answer;  target ≤ 1 s  \(verdict(startup.seconds <= 1))"),
                Row(name: "merit serve RSS after start-up (VmHWM)", value: megabytes(startup.peakMemory)),
            ] + durableRows(durable) + [
                Row(name: "wall time of the suite", value: String(format: "%.0f s", suiteSeconds))
            ])
    }

    /// The durable writes alone, without the million summaries: quicker to repeat while comparing builds.
    static func runWrites(merit: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-summaries-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        report("summaries: durable writes through merit serve", durableRows(try writes(root: root, merit: merit)))
    }

    /// The rows of the durable writes: one at a time against raw appends, and 64 in flight, with their targets.
    private static func durableRows(
        _ durable: (raw: UInt64, overwrite: UInt64, merit: UInt64, meritP99: UInt64, rate: Double)
    ) -> [Row] {
        let ratio = Double(durable.merit) / Double(durable.raw)
        return [
            Row(name: "raw 256-byte append + fdatasync, p50", value: microseconds(durable.raw)),
            Row(
                name: "durable summaries.create one at a time, p50 / p99", value: microseconds(durable.merit),
                note: microseconds(durable.meritP99)),
            Row(
                name: "merit p50 / raw p50", value: String(format: "%.2f×", ratio),
                note: "target ≤ 1.5×  \(verdict(ratio <= 1.5))"),
            StorageBenchmark.overwriteRow(durable.overwrite, merit: durable.merit),
            Row(
                name: "durable summaries.create, 64 in flight", value: "\(grouped(durable.rate)) /s",
                note: "target ≥ 53 000 /s (10× SQLite, synchronous=FULL)  \(verdict(durable.rate >= 53_000))"),
        ]
    }

    /// Durable `summaries.create` through a spawned `merit serve`, in a fresh organization of a manager and eight
    /// reports: one at a time, in ten rounds alternating with raw appends (the disk's speed drifts), then with 64 in
    /// flight, the request lines made before the clock starts.
    static func writes(
        root: URL, merit: String
    ) throws -> (raw: UInt64, overwrite: UInt64, merit: UInt64, meritP99: UInt64, rate: Double) {
        let data = root.appendingPathComponent("writes")
        let key = try StorageBenchmark.initialize(data, merit: merit)
        let setup = try InProcessServer(
            data: data,
            configuration: ServerConfiguration(diagnostics: Diagnostics(level: .error), environmentAPIKey: key))
        let manager =
            try setup.send([
                setup.request("people.create", #""name":"Mia Manager","email":"mia@w.example","role":"manager""#)
            ])[0]["id"]?.stringValue ?? ""
        let reports = try setup.send(
            (0..<8).map {
                setup.request(
                    "people.create",
                    #""name":"Report \#($0)","email":"r\#($0)@w.example","role":"employee","manager_id":"\#(manager)""#)
            }
        ).map { $0["id"]?.stringValue ?? "" }
        setup.close()
        let paragraphs =
            #"{"type":"paragraph","content":[{"type":"text","text":"A strong quarter: the billing export shipped on "#
            + #"time and the incident review was led calmly, with a written timeline the next morning. Planning "#
            + #"improved after the mid-quarter retrospective, and estimates were within a week on every item."}]},"#
            + #"{"type":"paragraph","content":[{"type":"text","text":"Next quarter: "},{"type":"text","text":"own "#
            + #"the on-call runbook","marks":[{"type":"bold"}]},{"type":"text","text":" and mentor the new joiner; "#
            + #"see the "},{"type":"text","text":"growth plan","marks":[{"type":"link","#
            + #""attrs":{"href":"https://wiki.example/growth"}}]},{"type":"text","text":"."}]}"#
        func createLine(_ index: Int) -> [UInt8] {
            let end = day(2025, 12, 28) - 7 * (index % 200)
            return Array(
                (#"{"jsonrpc":"2.0","id":\#(index),"method":"summaries.create","params":{"#
                    + #""employee_id":"\#(reports[index % reports.count])","period_start":"\#(text(of: end - 6))","#
                    + #""period_end":"\#(text(of: end))","body":{"type":"doc","content":[\#(paragraphs)]},"#
                    + #""_meta":{"actor":"\#(manager)"}}}"#).utf8) + [0x0A]
        }

        setenv("MERIT_API_KEY", key, 1)
        defer { unsetenv("MERIT_API_KEY") }
        let child = try TransportBenchmark.Child(merit, ["serve", "--data", data.path])
        let (raw, overwrites, singles, rate) = StorageBenchmark.durableWrites(
            child, root: root, lineBytes: 1200, request: createLine)
        return (
            percentile(raw, 0.5), percentile(overwrites, 0.5), percentile(singles, 0.5), percentile(singles, 0.99), rate
        )
    }

    /// The number of days from 1970-01-01 to the given date (proleptic Gregorian).
    static func day(_ year: Int, _ month: Int, _ dayOfMonth: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + dayOfMonth - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `YYYY-MM-DD` of a day number from `day(_:_:_:)`.
    static func text(of days: Int) -> String {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", year, month, dayOfMonth)
    }
}
