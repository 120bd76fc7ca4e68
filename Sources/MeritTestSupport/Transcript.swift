import Foundation
import MeritJSON

/// A conformance transcript from `Protocol/examples/*.jsonl`: request lines, each followed by the response line
/// expected for it (the literal `null` when no response is expected, as for a notification).
public struct Transcript: Sendable {
    /// One request and what it should produce.
    public struct Exchange: Sendable {
        /// The line sent, verbatim (it need not be valid JSON).
        public var request: String
        /// The response expected, or `nil` when nothing is expected.
        public var expected: JSON?
        /// The notifications expected after it (`event`s), in order.
        public var notifications: [JSON]
        /// The line number of the request in the file, for messages.
        public var line: Int
    }

    /// The file's name, such as `01-session.jsonl`.
    public var name: String
    /// The exchanges, in order.
    public var exchanges: [Exchange]

    /// Every transcript in `Protocol/examples`, sorted by name.
    public static func all() throws -> [Transcript] {
        let directory = Repository.protocolDirectory.appendingPathComponent("examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    /// Load one transcript file.
    ///
    /// Lines alternate: a request, then the response expected for it (`null` for none). After a response, any line
    /// that is a JSON object with `"method": "event"` and no `id` is a further line expected from the same request: a
    /// notification the server writes after it (clients never send a method named `event`, so this is never
    /// ambiguous).
    public static func load(_ url: URL) throws -> Transcript {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .enumerated().filter { !$0.element.isEmpty }
        var exchanges: [Exchange] = []
        var index = 0
        func parse(_ line: (offset: Int, element: String)) throws -> JSON {
            do {
                return try JSONParser.parse(line.element)
            } catch {
                throw TranscriptError(
                    message: "\(url.lastPathComponent):\(line.offset + 1): the expected line is not JSON")
            }
        }
        while index < lines.count {
            let request = lines[index]
            guard index + 1 < lines.count else {
                throw TranscriptError(
                    message: "\(url.lastPathComponent):\(request.offset + 1): no expected line follows")
            }
            let expected = try parse(lines[index + 1])
            index += 2
            var notifications: [JSON] = []
            while index < lines.count, let value = try? JSONParser.parse(lines[index].element),
                value["method"] == "event", value["id"] == nil
            {
                notifications.append(value)
                index += 1
            }
            exchanges.append(
                Exchange(
                    request: request.element, expected: expected.isNull ? nil : expected,
                    notifications: notifications, line: request.offset + 1))
        }
        return Transcript(name: url.lastPathComponent, exchanges: exchanges)
    }

    /// The seed transcripts are replayed with, for `merit init` and `merit serve` alike.
    public static let seed: UInt64 = 1

    /// The data directory a transcript starts from: `merit init --org Acme --seed 1 --clock 2026-04-15T09:00:00Z`,
    /// which makes the organization's id and the admin key the same every time.
    public static func dataDirectory() throws -> TestDataDirectory {
        try TestDataDirectory(organization: "Acme", seed: seed)
    }

    /// The arguments a transcript is served with: the same clock and seed, so that ids and timestamps match.
    public static var serveArguments: [String] {
        ["--clock", TestDataDirectory.clock, "--seed", String(seed)]
    }
}

/// A transcript file that cannot be read.
public struct TranscriptError: Error, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { message }
}
