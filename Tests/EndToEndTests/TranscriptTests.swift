import Foundation
import MeritJSON
import MeritTestSupport
import Testing

/// Replays every `Protocol/examples/*.jsonl` transcript against the built binary: the same files every client's
/// tests replay, so all of them agree on the wire.
@Suite("Protocol/examples transcripts, replayed against the binary")
struct TranscriptTests {
    static let transcripts: [Transcript] = (try? Transcript.all()) ?? []

    @Test("the transcripts load and are not empty")
    func transcriptsLoad() throws {
        let all = try Transcript.all()
        #expect(all.count >= 4)
        #expect(all.allSatisfy { !$0.exchanges.isEmpty })
    }

    @Test("every documented method is exercised by some transcript, and event notifications are recorded in one")
    func coverage() throws {
        var methods: Set<String> = []
        var eventTypes: Set<String> = []
        for exchange in try Transcript.all().flatMap(\.exchanges) {
            if let request = try? JSONParser.parse(exchange.request) {
                for call in request.arrayValue ?? [request] {
                    if let method = call["method"]?.stringValue { methods.insert(method) }
                }
            }
            for notification in exchange.notifications {
                if let type = notification["params"]?["type"]?.stringValue { eventTypes.insert(type) }
            }
        }
        let documented = Set(try OpenRPCContract().methodNames)
        #expect(documented.subtracting(methods).sorted() == [])
        #expect(eventTypes.isSuperset(of: ["summary.created", "summary.shared", "notification.created"]))
    }

    @Test("each transcript's responses match exactly, in order", arguments: transcripts.map(\.name))
    func replay(name: String) throws {
        let transcript = try #require(Self.transcripts.first { $0.name == name })
        let merit = try SpawnedMerit.serve(try Transcript.dataDirectory(), arguments: Transcript.serveArguments)
        for exchange in transcript.exchanges {
            merit.send(exchange.request)
            if let expected = exchange.expected {
                let line = try #require(merit.nextLine(), "no response to line \(exchange.line) of \(name)")
                let actual = try JSONParser.parse(line)
                #expect(actual == expected, "line \(exchange.line) of \(name): got \(line)")
                try checkAgainstContract(
                    request: exchange.request, response: actual, where: "line \(exchange.line) of \(name)")
            }
            for notification in exchange.notifications {
                let line = try #require(merit.nextLine(), "no event after line \(exchange.line) of \(name)")
                #expect(
                    try JSONParser.parse(line) == notification,
                    "event after line \(exchange.line) of \(name): got \(line)")
            }
        }
        #expect(merit.waitForExit() == 0)
        #expect(merit.remainingLines().isEmpty, "a notification in \(name) was answered")
    }

    /// Every successful result in a transcript conforms to the result schema its method documents.
    func checkAgainstContract(request line: String, response: JSON, where place: String) throws {
        let contract = try OpenRPCContract()
        guard let request = try? JSONParser.parse(line) else { return }
        let pairs: [(JSON, JSON)]
        if case .array(let requests) = request, case .array(let responses) = response {
            let answered = requests.filter { $0["id"] != nil }
            pairs = Array(zip(answered, responses))
        } else {
            pairs = [(request, response)]
        }
        for (request, response) in pairs {
            guard let method = request["method"]?.stringValue, let result = response["result"],
                method != "rpc.discover", method != "exit"
            else { continue }
            let violations = contract.violations(ofResult: result, method: method)
            #expect(violations.isEmpty, "\(place): \(method) result breaks openrpc.json: \(violations)")
        }
    }
}
