import Foundation
import MeritTestSupport
import Testing

@Suite("the merit command line")
struct CommandLineTests {
    @Test("--version prints the version")
    func version() throws {
        let result = try runMerit(["--version"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("merit 0."))
    }

    @Test("help describes the commands", arguments: [["help"], ["--help"], ["help", "serve"], ["serve", "--help"]])
    func help(arguments: [String]) throws {
        let result = try runMerit(arguments)
        #expect(result.status == 0)
        #expect(result.output.contains("serve"))
    }

    @Test(
        "usage errors exit 64 and name what is wrong",
        arguments: [
            (["bogus"], "unknown command 'bogus'"), ([], "Usage: merit <command>"),
            (["serve", "--frobnicate"], "unknown option '--frobnicate' for 'serve'"),
            (["serve", "--clock", "yesterday"], "--clock must be an RFC 3339 timestamp"),
            (["serve", "--seed", "-1"], "--seed must be a non-negative integer"),
            (["serve", "--max-line-bytes", "0"], "--max-line-bytes must be a positive integer"),
            (["serve", "--log-level", "loud"], "--log-level must be one of error, warning, info, debug"),
            (["serve", "--data"], "--data needs a value"), (["help", "nothing"], "no such command 'nothing'"),
        ])
    func usageErrors(arguments: [String], message: String) throws {
        let result = try runMerit(arguments)
        #expect(result.status == 64)
        #expect(result.error.contains(message), "stderr was: \(result.error)")
        #expect(result.output.isEmpty)
    }

    @Test(
        "serve on a terminal prints a hint on stderr saying how to talk to it",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script is absent"))
    func terminalHint() throws {
        // script(1) runs the command on a new pseudo-terminal; its stdin is closed at once, which ends the session.
        let data = try TestDataDirectory()
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = [
            "-qec", "\(Repository.meritBinary.path) serve --data \(data.path) </dev/tty", "/dev/null",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("serving JSON-RPC 2.0 on stdin/stdout"), "script printed: \(text)")
        #expect(text.contains("$/ping"))
    }

    @Test("serve with piped stdin prints no hint")
    func noHintOnPipes() throws {
        let data = try TestDataDirectory()
        let result = try runMerit(["serve", "--data", data.path])
        #expect(result.status == 0)
        #expect(result.error.isEmpty)
    }
}

@Suite("merit demo")
struct DemoTests {
    /// The output with each run of whitespace made one space, so that what is asserted does not depend on where
    /// paragraphs wrap or how wide table columns are.
    static func prose(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test("plays a quarter through a spawned server, tells each step and exits 0")
    func story() throws {
        let result = try runMerit(["demo"])
        #expect(result.status == 0, "stderr: \(result.error)")
        #expect(result.error.isEmpty)
        let text = Self.prose(result.output)
        let steps: [(step: String, sentences: [String])] = [
            ("session", ["domain methods are refused", "initialize with the admin key opens it: merit 0."]),
            (
                "company",
                [
                    "with 5 KPIs (2 of them mandatory), then 33 people", "payments Dana Reyes Ravi Patel 6",
                    "people.list {role: manager} finds 4 managers",
                ]
            ),
            ("cycle", ["cycles.list shows Dana 0 cycles. Priya opens it, and Dana sees 1."]),
            (
                "reviews",
                [
                    "for each of her 10 direct reports", "1 performance Delivery on commitments yes —",
                    "total 10, self_assessment 10, completed 0",
                ]
            ),
            ("subscription", ["The session calls events.subscribe"]),
            (
                "feedback",
                [
                    "created 5 of total_peers 5",
                    #"gets only {"sufficient":false,"response_count":2,"minimum_required":3}"#,
                    "With 4 responses the summary is sufficient", "communication · 2 2 ·",
                    "• overall: Always willing to help.", "Eli himself may not read it",
                ]
            ),
            (
                "pass/fail",
                [
                    "Eli Novak, Q4 2025 4 of 5 80% all passed true",
                    "Maya Lopez, Q4 2025 4 of 5 80% 1 not passed false",
                    "Noah Berg, Q4 2025 3 of 5 60% all passed false",
                    "rates Eli's Q4 2025 KPIs and completes the review: 4 of 5 KPIs passed (80%), every mandatory KPI "
                        + "passed → passed.",
                    "→ failed: Delivery on commitments is mandatory and was rated partially achieving.",
                    "3 of 5 KPIs passed (60%), every mandatory KPI passed → failed: 60% is below 75%.",
                    "The cycle now counts 3 completed of 10 reviews.",
                ]
            ),
            (
                "next quarter",
                [
                    "its previous_reviews holds his completed Q4 2025 review with the 2 goals he set",
                    "Ship the payments retry service completed",
                    "Mentor Zoe through her first on-call rotation not completed",
                    "Q4 2025 2025-10-01 – 2025-12-31 4 of 5 1 2 1 1", "Q1 2026 2026-01-01 – 2026-03-31 5 of 5 1 1 0 0",
                ]
            ),
            (
                "summary",
                [
                    "Until it is shared Eli cannot see it",
                    "Dana submits it (pending_review), Hana approves it (approved)",
                    "Message: Let's talk it through in our 1:1 on Thursday.",
                    "Eli Novak, Q1 2026 Eli had a strong quarter",
                    "Highlights - Shipped the refund flow",
                    "engineering writing guide (https://handbook.acme.example/writing)",
                    "Eli acknowledges it (summaries.feedback, kind acknowledgment)",
                ]
            ),
            ("action items", ["Dana Reyes (manager) 7 0 0 1", "Zoe Clarke (employee) 0 1 1 1"]),
            (
                "event feed",
                [
                    "events.list reads the durable feed from sequence 0, 100 events a page: 2 pages",
                    "returns only what is new: 1 new event.",
                    "feedback.submitted by Zoe Clarke: feedback on Eli Novak, submitted",
                    "review.completed by Dana Reyes: Eli Novak's review in Q4 2025, 4 of 5 KPIs, passed",
                    "merit serve exited with status 0",
                ]
            ),
        ]
        for (step, sentences) in steps {
            for sentence in sentences {
                #expect(text.contains(sentence), "the \(step) step does not say: \(sentence)")
            }
        }
        #expect(!result.output.contains("→ {"), "without --wire no JSON-RPC line is printed")
    }

    @Test("--wire also prints every line sent and received, event notifications included")
    func wire() throws {
        let result = try runMerit(["demo", "--wire"])
        #expect(result.status == 0, "stderr: \(result.error)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix(#"→ {"jsonrpc":"2.0","id":2,"method":"initialize""#) })
        #expect(
            lines.contains { $0.hasPrefix(#"← {"jsonrpc":"2.0","id":2,"result":{"protocol_version":"2026-11-01""#) })
        #expect(lines.contains { $0.hasPrefix(#"← {"jsonrpc":"2.0","method":"event","params":{"id":"evt_"#) })
        #expect(lines.contains { $0 == #"→ {"jsonrpc":"2.0","method":"exit"}"# })
        let requests = lines.filter { $0.hasPrefix(#"→ {"jsonrpc":"2.0","id":"#) }.count
        let responses = lines.filter { $0.hasPrefix(#"← {"jsonrpc":"2.0","id":"#) }.count
        #expect(requests > 100 && requests == responses, "\(requests) requests, \(responses) responses")
        #expect(Self.prose(result.output).contains("every mandatory KPI passed → passed."), "the story is told too")
    }

    @Test("demo --help shows its usage")
    func help() throws {
        let result = try runMerit(["demo", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("Usage: merit demo [--wire]"))
    }
}
