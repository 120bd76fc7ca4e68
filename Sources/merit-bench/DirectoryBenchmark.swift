import Foundation
import MeritJSON
import MeritRPC
import MeritServer

/// An organization of 100 000 people: how long the indexed directory queries take ("my reports", "my squad",
/// "people with role X") and how long a visibility-checked read takes, in-process over the real engine.
enum DirectoryBenchmark {
    static func run(merit: String, people: Int) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-directory-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let key = try StorageBenchmark.initialize(data, merit: merit)
        let server = try Server(
            configuration: ServerConfiguration(diagnostics: Diagnostics(level: .error), environmentAPIKey: key),
            dataDirectory: data.path)
        defer { server.close() }
        var dispatcher = Dispatcher(handler: server)
        var writer = JSONWriter(capacity: 1 << 20)
        // What the server does for `lines`: read, handle, write the answers (into `writer.bytes`).
        func answer(_ lines: [String]) {
            for line in lines {
                var bytes = Array(line.utf8)
                bytes.withUnsafeMutableBytes { dispatcher.receive(line: UnsafeRawBufferPointer($0)) }
            }
            writer.bytes.removeAll(keepingCapacity: true)
            dispatcher.flush(into: &writer)
        }
        // The answers written, read back (outside any timing: this is the client's work, not the server's).
        func answers() -> [JSON] {
            writer.bytes.split(separator: UInt8(ascii: "\n")).compactMap {
                try? JSONParser.parse(String(decoding: $0, as: UTF8.self))
            }
        }
        func send(_ lines: [String]) -> [JSON] {
            answer(lines)
            return answers()
        }
        func create(_ index: Int, role: String, manager: String?) -> String {
            let managerField = manager.map { #","manager_id":"\#($0)""# } ?? ""
            return #"{"jsonrpc":"2.0","id":\#(index),"method":"people.create","params":{"name":"P\#(index)","#
                + #""email":"p\#(index)@scale.example","role":"\#(role)","squad":"s\#(index % 1000)"\#(managerField)}}"#
        }
        // A tree: 10 heads, 100 managers under them, everyone else spread over the managers.
        let start = now()
        let heads = send((0..<10).map { create($0, role: "head", manager: nil) }).compactMap {
            $0["result"]?["id"]?.stringValue
        }
        let managers = send((10..<110).map { create($0, role: "manager", manager: heads[$0 % 10]) }).compactMap {
            $0["result"]?["id"]?.stringValue
        }
        var index = 110
        while index < people {
            let chunk = (index..<min(index + 1000, people)).map {
                create($0, role: "employee", manager: managers[$0 % 100])
            }
            _ = send(chunk)
            index += chunk.count
        }
        let loadSeconds = Double(now() - start) / 1e9
        func timed(_ line: String, repeat count: Int = 200) -> (UInt64, Int) {
            var samples: [UInt64] = []
            var size = 0
            for _ in 0..<count {
                let begin = now()
                answer([line])
                samples.append(now() - begin)
                size = answers().first?["result"]?["data"]?.arrayValue?.count ?? -1
            }
            return (percentile(samples, 0.5), size)
        }
        let reports = timed(
            #"{"jsonrpc":"2.0","id":1,"method":"people.list","params":{"manager_id":"\#(managers[7])","limit":100}}"#)
        let squad = timed(#"{"jsonrpc":"2.0","id":1,"method":"people.list","params":{"squad":"s42","limit":100}}"#)
        let role = timed(#"{"jsonrpc":"2.0","id":1,"method":"people.list","params":{"role":"manager","limit":100}}"#)
        let anyone = timed(#"{"jsonrpc":"2.0","id":1,"method":"people.get","params":{"id":"\#(managers[3])"}}"#)
        report(
            "directory: \(grouped(Double(people))) people (10 heads, 100 managers), in-process over the real engine",
            [
                Row(
                    name: "people.create, pipelined in groups of 1000", value: String(format: "%.1f s", loadSeconds),
                    note: "\(grouped(Double(people) / loadSeconds)) /s"),
                Row(
                    name: "people.list manager_id (1 000 reports), p50", value: microseconds(reports.0),
                    note: "page of \(reports.1)"),
                Row(
                    name: "people.list squad (100 people), p50", value: microseconds(squad.0),
                    note: "page of \(squad.1)"),
                Row(
                    name: "people.list role manager (100), p50", value: microseconds(role.0), note: "page of \(role.1)"),
                Row(name: "people.get, p50", value: microseconds(anyone.0)),
            ])
    }
}
