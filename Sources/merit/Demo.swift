import Foundation
import MeritJSON

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
    final class Client {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var pending = Data()

        init(data: URL) throws {
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = ["serve", "--data", data.path, "--clock", "2026-04-15T09:00:00Z", "--seed", "7"]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        /// Send one line and, unless it is a notification, print and return the response.
        @discardableResult
        func exchange(_ line: String, expectsResponse: Bool = true) -> JSON? {
            writeOutput("→ \(line)")
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            guard expectsResponse else { return nil }
            while true {
                if let newline = pending.firstIndex(of: 0x0A) {
                    let response = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    writeOutput("← \(response.count > 400 ? String(response.prefix(400)) + " …" : response)\n")
                    return try? JSONParser.parse(response)
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return nil }
                pending.append(chunk)
            }
        }
    }

    static func runScenario() throws -> Int32 {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("merit-demo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: data) }
        writeOutput("merit demo: spawning `merit serve --data \(data.path)` and talking JSON-RPC over its stdio.\n")
        let client = try Client(data: data)

        writeOutput("# Open the session.")
        let session = client.exchange(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"client_info":{"name":"demo","version":"1"}}}"#)
        writeOutput("# Ask the server what it offers: rpc.discover returns the OpenRPC document.")
        let document = client.exchange(#"{"jsonrpc":"2.0","id":2,"method":"rpc.discover"}"#)
        let names = document?["result"]?["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        writeOutput("  methods: \(names.joined(separator: ", "))\n")
        writeOutput("# A batch: two requests and a notification; the notification gets no answer.")
        client.exchange(
            #"[{"jsonrpc":"2.0","id":3,"method":"$/ping"},{"jsonrpc":"2.0","method":"$/ping"},"#
                + #"{"jsonrpc":"2.0","id":4,"method":"$/ping"}]"#)
        writeOutput("# Mistakes are answered with errors that say what to fix, and the server keeps serving.")
        client.exchange(#"{"jsonrpc":"2.0","id":5,"method":"$/ping","params":{"verbose":true}}"#)
        client.exchange(#"{"jsonrpc":"2.0","id":6,"method":"performance.cycles.lst"}"#)
        client.exchange(#"{"jsonrpc":"2.0","id":7,"method":"#)
        writeOutput("# Close the session.")
        client.exchange(#"{"jsonrpc":"2.0","id":8,"method":"shutdown"}"#)
        client.exchange(#"{"jsonrpc":"2.0","method":"exit"}"#, expectsResponse: false)
        client.process.waitUntilExit()
        let version = session?["result"]?["server_info"]?["version"]?.stringValue ?? "?"
        writeOutput("merit \(version) exited with status \(client.process.terminationStatus).")
        return client.process.terminationStatus == 0 && session?["result"] != nil ? 0 : 1
    }
}
