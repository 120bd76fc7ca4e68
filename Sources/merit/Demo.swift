import Foundation
import MeritJSON
import MeritRPC
import MeritServer

/// `merit demo`: a real session end to end. It spawns `merit serve` on a temporary data directory, exactly as a
/// client in another language would, and prints every line it sends and receives.
enum Demo {
    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        let reader = ArgumentReader(arguments, command: "demo", usage: Usage.demo)
        try reader.finish()
        do {
            return try runScenario()
        } catch {
            writeError("merit demo: \(error)")
            return 1
        }
    }

    /// The server under demonstration, over pipes.
    ///
    /// It reads with `availableData`, which blocks until the server writes; `finish()` closes stdin and waits.
    final class Client {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var pending = Data()

        init(data: URL, apiKey: String? = nil) throws {
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = ["serve", "--data", data.path]
            if let apiKey {
                var environment = ProcessInfo.processInfo.environment
                environment["MERIT_API_KEY"] = apiKey
                process.environment = environment
            }
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        /// Send one line and, unless it is a notification, print and return the response.
        @discardableResult
        func exchange(_ line: String, expectsResponse: Bool = true, quiet: Bool = false) -> JSON? {
            writeOutput("→ \(line)")
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            guard expectsResponse else { return nil }
            while true {
                if let newline = pending.firstIndex(of: 0x0A) {
                    let response = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    writeOutput(quiet ? "← (\(response.utf8.count) bytes)\n" : "← \(response)\n")
                    return try? JSONParser.parse(response)
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return nil }
                pending.append(chunk)
            }
        }

        /// End of input: the server answers what it read and exits.
        func finish() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    static func runScenario() throws -> Int32 {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("merit-demo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: data) }
        let diagnostics = Diagnostics(level: .warning)
        let created = try Administration.initialize(
            directory: data.path, organizationName: "Acme Corp", frozenClock: nil, seed: nil, diagnostics: diagnostics)
        writeOutput(
            """
            merit demo: `merit init --org "Acme Corp" --data \(data.path)` created \(created.organizationID)
            and its admin key. Now spawning `merit serve --data \(data.path)` and talking JSON-RPC over its stdio.

            """)
        var client = try Client(data: data)
        writeOutput("# Domain methods need an authenticated session.")
        client.exchange(#"{"jsonrpc":"2.0","id":1,"method":"organization.get"}"#)
        writeOutput("# Open the session with the admin key.")
        let session = client.exchange(
            #"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"client_info":{"name":"demo","version":"1"},"#
                + #""api_key":"\#(created.apiKey)"}}"#)
        writeOutput("# Ask the server what it offers: rpc.discover returns the OpenRPC document.")
        let document = client.exchange(#"{"jsonrpc":"2.0","id":3,"method":"rpc.discover"}"#, quiet: true)
        let names = document?["result"]?["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        writeOutput("  methods: \(names.joined(separator: ", "))\n")
        client.exchange(#"{"jsonrpc":"2.0","id":4,"method":"organization.get"}"#)
        writeOutput("# Create a key for a reporting integration; its secret is shown this once.")
        let key = client.exchange(
            #"{"jsonrpc":"2.0","id":5,"method":"keys.create","params":{"name":"warehouse","#
                + #""scopes":["events:read","summaries:read"]}}"#)
        writeOutput("# Build the directory: a manager and a report.")
        let manager = client.exchange(
            #"{"jsonrpc":"2.0","id":51,"method":"people.create","params":{"name":"Mo Manager","#
                + #""email":"mo@acme.example","role":"manager"}}"#)
        let managerID = manager?["result"]?["id"]?.stringValue ?? ""
        let report = client.exchange(
            #"{"jsonrpc":"2.0","id":52,"method":"people.create","params":{"name":"Eve Engineer","#
                + #""email":"eve@acme.example","role":"employee","squad":"core","manager_id":"\#(managerID)"}}"#)
        let reportID = report?["result"]?["id"]?.stringValue ?? ""
        writeOutput("# Act as the manager for one request (_meta.actor, allowed by act_as) to record an observation.")
        client.exchange(
            #"{"jsonrpc":"2.0","id":53,"method":"observations.create","params":{"employee_id":"\#(reportID)","#
                + #""text":"Led the incident review calmly.","observed_on":"2026-04-10","#
                + #""_meta":{"actor":"\#(managerID)"}}}"#)
        writeOutput("# The report cannot see observations about themself: they are for managers.")
        client.exchange(
            #"{"jsonrpc":"2.0","id":54,"method":"observations.list","params":{"_meta":{"actor":"\#(reportID)"}}}"#)
        writeOutput("# A batch: two requests and a notification; the notification gets no answer.")
        client.exchange(
            #"[{"jsonrpc":"2.0","id":6,"method":"keys.list"},{"jsonrpc":"2.0","method":"$/ping"},"#
                + #"{"jsonrpc":"2.0","id":7,"method":"$/ping"}]"#)
        writeOutput("# Mistakes are answered with errors that say what to fix, and the server keeps serving.")
        client.exchange(#"{"jsonrpc":"2.0","id":8,"method":"keys.create","params":{"name":"x","scopes":["root"]}}"#)
        client.exchange(#"{"jsonrpc":"2.0","id":9,"method":"performance.cycles.lst"}"#)
        client.exchange(#"{"jsonrpc":"2.0","id":10,"method":"#)
        writeOutput("# Close the session.")
        client.exchange(#"{"jsonrpc":"2.0","id":11,"method":"shutdown"}"#)
        client.exchange(#"{"jsonrpc":"2.0","method":"exit"}"#, expectsResponse: false)
        client.process.waitUntilExit()
        let firstStatus = client.process.terminationStatus

        writeOutput("# Start again on the same directory: every acknowledged change is still there.")
        client = try Client(data: data, apiKey: created.apiKey)
        let keyID = key?["result"]?["id"]?.stringValue ?? ""
        client.exchange(#"{"jsonrpc":"2.0","id":12,"method":"keys.revoke","params":{"id":"\#(keyID)"}}"#)
        let listed = client.exchange(#"{"jsonrpc":"2.0","id":13,"method":"keys.list"}"#)
        client.finish()
        let version = session?["result"]?["server_info"]?["version"]?.stringValue ?? "?"
        let survived = listed?["result"]?["data"]?.arrayValue?.count == 2
        writeOutput(
            "merit \(version): both sessions ended with status \(firstStatus) and \(client.process.terminationStatus).")
        return firstStatus == 0 && client.process.terminationStatus == 0 && session?["result"] != nil && survived
            ? 0 : 1
    }
}
