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
    @Test("runs a real session against a spawned server and prints the transcript")
    func demo() throws {
        let result = try runMerit(["demo"])
        #expect(result.status == 0, "stderr: \(result.error)")
        #expect(result.output.contains(#"→ {"jsonrpc":"2.0","id":2,"method":"initialize""#))
        #expect(result.output.contains(#"← {"jsonrpc":"2.0","id":2,"result":{"protocol_version":"2026-11-01""#))
        #expect(result.output.contains(#""code":"authentication_required""#))
        #expect(result.output.contains("both sessions ended with status 0 and 0"))
    }
}
