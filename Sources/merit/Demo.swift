import Foundation
import MeritDomain
import MeritJSON
import MeritRPC
import MeritServer

/// `merit demo`: a quarter of performance reviews played through a real `merit serve`.
///
/// The demo makes a temporary data directory, spawns `merit serve` on it with pipes and drives it with JSON-RPC lines,
/// exactly as a client in another language would; the story itself is `DemoStory`. Every answer is checked: a request
/// that fails unexpectedly stops the demo with exit status 1 and the request's error on stderr.
enum Demo {
    /// The frozen "now" of the story, so that its dates make sense and its output is the same on every run.
    static let clock = "2026-04-15T09:00:00Z"
    /// The seed of ids and shuffles, for the same reason. (`--seed` makes keys predictable: the directory is
    /// temporary and removed at the end.)
    static let seed: UInt64 = 7

    static func run(_ arguments: [String]) throws(UsageError) -> Int32 {
        var reader = ArgumentReader(arguments, command: "demo", usage: Usage.demo)
        let wire = reader.flag("--wire")
        try reader.finish()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "merit-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try play(in: directory.path, wire: wire)
            return 0
        } catch {
            writeError("merit demo: \(error)")
            return 1
        }
    }

    /// Initialize the directory, spawn the server, play the story and end the session.
    static func play(in directory: String, wire: Bool) throws {
        guard let frozenClock = Timestamp(rfc3339: clock) else {
            throw DemoFailure("the demo's clock \(clock) is not a timestamp")
        }
        let created = try Administration.initialize(
            directory: directory, organizationName: "Acme Corp", frozenClock: frozenClock, seed: seed,
            diagnostics: Diagnostics(level: .warning))
        let output = DemoOutput()
        output.paragraph(
            "merit demo plays a quarter of performance reviews at Acme Corp through a real merit serve, over JSON-RPC "
                + "on its stdin and stdout, as a program in any language would. The clock is frozen at \(clock).")
        output.paragraph(
            "`merit init --org \"Acme Corp\"` created the organization \(created.organizationID) and its admin key "
                + "in a temporary data directory.")
        let client = try DemoClient(
            arguments: ["serve", "--data", directory, "--clock", clock, "--seed", String(seed)],
            wire: wire ? output : nil)
        let story = DemoStory(client: client, output: output, apiKey: created.apiKey)
        do {
            try story.play()
        } catch {
            client.terminate()
            throw error
        }
        let status = try client.finish()
        guard status == 0 else { throw DemoFailure("merit serve exited with status \(status) after exit") }
        output.paragraph(
            "The session ends with shutdown and the exit notification; merit serve exited with status 0, and the "
                + "temporary data directory is removed. `merit demo --wire` shows every JSON-RPC line of this story.")
    }
}

/// Why the demo stopped: a request that failed, an answer that was not what the story expected, or a server that went
/// away.
struct DemoFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}

/// A JSON-RPC error answer, as the server sent it.
struct RPCErrorAnswer: Error, CustomStringConvertible {
    /// The method that was called.
    var method: String
    /// The request's id, which `--wire` shows.
    var id: Int64
    /// `error.data.code`, such as `validation_error`.
    var code: String
    /// `error.message`.
    var message: String

    var description: String { "\(method) (request \(id)) failed with \(code): \(message)" }
}

/// A JSON-RPC 2.0 client of a spawned `merit serve`: one request line out, lines in until its response, with the
/// `event` notifications that arrive in between kept in a queue.
///
/// It reads with blocking `read(2)` calls on the demo's own thread: requests go one at a time, so there is always an
/// answer on its way when it reads.
final class DemoClient {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    private var nextID: Int64 = 1
    /// Where `--wire` prints each line sent and received, or `nil`.
    private let wire: DemoOutput?
    /// The `event` notifications received and not yet taken, oldest first.
    private var events: [JSON] = []

    /// Spawn this same binary with `arguments` (`serve …`), its stdin and stdout on pipes and its stderr on ours.
    init(arguments: [String], wire: DemoOutput?) throws {
        self.wire = wire
        let linuxSelf = "/proc/self/exe"
        if FileManager.default.fileExists(atPath: linuxSelf) {
            process.executableURL = URL(fileURLWithPath: linuxSelf)
        } else if let executable = Bundle.main.executableURL {
            process.executableURL = executable
        } else {
            throw DemoFailure("cannot find the merit executable to spawn")
        }
        process.arguments = arguments
        // The session authenticates with initialize {api_key}; a MERIT_API_KEY or MERIT_DATA of the user's shell must
        // not reach the server.
        process.environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.hasPrefix("MERIT_") || name == "MERIT_LOG_LEVEL"
        }
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// The process id of the server.
    var processIdentifier: Int32 { process.processIdentifier }

    /// Call `method` with `params`, as the person `actor` (`_meta.actor`) when one is given, and return the result;
    /// an error answer throws `RPCErrorAnswer`.
    @discardableResult
    func call(_ method: String, _ params: JSONObject = JSONObject(), as actor: String? = nil) throws -> JSON {
        let id = nextID
        nextID += 1
        var params = params
        if let actor { params["_meta"] = ["actor": .string(actor)] }
        let request: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)]
        try send(request.jsonText)
        while true {
            let message = try receive()
            if message["id"] == nil, message["method"]?.stringValue == "event" {
                events.append(message["params"] ?? .null)
                continue
            }
            guard message["id"]?.intValue == id else {
                throw DemoFailure("\(method): expected the response to request \(id), received \(message.jsonText)")
            }
            if let error = message["error"] {
                throw RPCErrorAnswer(
                    method: method, id: id, code: error["data"]?["code"]?.stringValue ?? "?",
                    message: error["message"]?.stringValue ?? error.jsonText)
            }
            guard let result = message["result"] else {
                throw DemoFailure("\(method): the response has neither result nor error: \(message.jsonText)")
            }
            return result
        }
    }

    /// Call `method` expecting it to be refused with `code`, and return the error's message; success or another
    /// error is a failure of the demo.
    func refusal(_ method: String, _ params: JSONObject = JSONObject(), as actor: String? = nil, code: String)
        throws -> String
    {
        do {
            try call(method, params, as: actor)
        } catch let answer as RPCErrorAnswer where answer.code == code {
            return answer.message
        }
        throw DemoFailure("\(method) succeeded, but the story expected it to be refused with \(code)")
    }

    /// The event notifications received so far and not yet taken, oldest first.
    func takeEvents() -> [JSON] {
        defer { events.removeAll() }
        return events
    }

    /// End the session as a polite client does: `shutdown`, then the `exit` notification; wait for the process and
    /// return its exit status.
    func finish() throws -> Int32 {
        try call("shutdown")
        try send(#"{"jsonrpc":"2.0","method":"exit"}"#)
        try? input.fileHandleForWriting.close()
        // Whatever still arrives (nothing should) is read to the end, so that the server never blocks on a full pipe.
        while (try? receive()) != nil {}
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stop the server after a failure: close its input, which ends it.
    func terminate() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func send(_ line: String) throws {
        wire?.line("→ \(line)")
        do {
            try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw DemoFailure("merit serve stopped reading its input: \(error)")
        }
    }

    /// The next message from the server, parsed.
    private func receive() throws -> JSON {
        let line = try readLine()
        wire?.line("← \(line)")
        do {
            return try JSONParser.parse(line)
        } catch {
            throw DemoFailure("merit serve wrote a line that is not JSON (\(error)): \(line)")
        }
    }

    private func readLine() throws -> String {
        let descriptor = output.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                process.waitUntilExit()
                throw DemoFailure("merit serve closed its output (exit status \(process.terminationStatus))")
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}

/// The demo's stdout: sections, wrapped paragraphs, aligned tables and, with `--wire`, the raw lines.
final class DemoOutput {
    /// How wide a paragraph may run, indentation included.
    let width = 100
    /// The indentation of everything inside a section.
    let indent = "   "

    /// A section's title, numbered when it is a step of the story, after a blank line.
    func section(_ number: Int?, _ title: String) {
        writeOutput("\n" + (number.map { "\($0). " } ?? "") + title)
    }

    /// A paragraph of prose, wrapped at `width` and indented.
    func paragraph(_ text: String) {
        writeOutput(Self.wrap(text, width: width, indent: indent).joined(separator: "\n"))
    }

    /// A table whose columns are as wide as their widest cell; `rightAligned` are the columns of numbers.
    func table(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int> = []) {
        writeOutput(Self.table(headers, rows, rightAligned: rightAligned, indent: indent + "  "))
    }

    /// Text that is already laid out, indented.
    func block(_ lines: [String]) {
        writeOutput(lines.map { $0.isEmpty ? "" : indent + "  " + $0 }.joined(separator: "\n"))
    }

    /// One raw line, as it is (`--wire`).
    func line(_ text: String) {
        writeOutput(text)
    }

    /// `text` broken into lines of at most `width` characters (a longer word keeps its own line), each indented.
    static func wrap(_ text: String, width: Int, indent: String, hangingIndent: String? = nil) -> [String] {
        var lines: [String] = []
        var current = indent
        var currentIsEmpty = true
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !currentIsEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = hangingIndent ?? indent
                currentIsEmpty = true
            }
            current += (currentIsEmpty ? "" : " ") + word
            currentIsEmpty = false
        }
        if !currentIsEmpty { lines.append(current) }
        return lines
    }

    /// The table as text: a header, a rule and the rows.
    static func table(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int>, indent: String) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func render(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
                if rightAligned.contains(column) { return padding + cell }
                return column == cells.count - 1 ? cell : cell + padding
            }
            return indent + padded.joined(separator: "  ")
        }
        let rule = indent + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        return ([render(headers), rule] + rows.map(render)).joined(separator: "\n")
    }
}

/// A summary's body for a terminal: the domain's plain-text rendering (`RichTextNode.plainText`) of the JSON the
/// server answered, each line wrapped, list items and quotes keeping their marker's indent.
enum BodyText {
    /// The lines of `body`, at most `width` characters wide.
    static func lines(_ body: JSON, width: Int) throws -> [String] {
        try RichTextNode(json: body).plainText.split(separator: "\n", omittingEmptySubsequences: false).flatMap {
            line -> [String] in
            let line = String(line)
            guard !line.isEmpty else { return [""] }
            return DemoOutput.wrap(
                line, width: width, indent: "", hangingIndent: String(repeating: " ", count: markerWidth(line)))
        }
    }

    /// How wide the markers opening a line of the rendering are: its indent, `> ` of quotes, `- ` or `1. ` of a
    /// list item.
    private static func markerWidth(_ line: String) -> Int {
        var rest = Substring(line)
        while true {
            let before = rest.count
            rest = rest.drop { $0 == " " }
            if rest.hasPrefix("> ") || rest.hasPrefix("- ") {
                rest = rest.dropFirst(2)
            } else if let dot = rest.firstIndex(of: "."), dot > rest.startIndex, rest[..<dot].allSatisfy(\.isNumber),
                rest[dot...].hasPrefix(". ")
            {
                rest = rest[rest.index(dot, offsetBy: 2)...]
            }
            if rest.count == before { return line.count - rest.count }
        }
    }
}
