import Foundation
import MeritJSON
import MeritLog
import MeritRPC
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// Durable writes through the real binary against a raw append + fdatasync on the same disk, then replay and
/// start-up over a log of a million events.
enum StorageBenchmark {
    /// 256-byte appends to a file in the benchmark's directory, each made durable with fdatasync: the floor for a
    /// durable write.
    final class RawAppender {
        let path: String
        let descriptor: Int32
        /// A second file, laid down in zeros and made durable first, that `overwrites` writes over: what merit's log
        /// does, for comparison (the target is stated against appends).
        let zeroedPath: String
        let zeroed: Int32
        var zeroedOffset = 0
        let record = [UInt8](repeating: 0x61, count: 256)

        init(directory: URL) {
            path = directory.appendingPathComponent("raw-append.bin").path
            descriptor = open(path, O_CREAT | O_WRONLY | O_APPEND, 0o644)
            zeroedPath = directory.appendingPathComponent("raw-zeroed.bin").path
            zeroed = open(zeroedPath, O_CREAT | O_WRONLY, 0o644)
            let zeros = [UInt8](repeating: 0, count: 4 << 20)
            _ = zeros.withUnsafeBytes { write(zeroed, $0.baseAddress, $0.count) }
            fdatasync(zeroed)
        }

        /// The times of `count` appends.
        func appends(_ count: Int) -> [UInt64] {
            (0..<count).map { _ in
                let start = now()
                _ = record.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                fdatasync(descriptor)
                return now() - start
            }
        }

        /// The times of `count` writes over the zeros of the second file, one after another.
        func overwrites(_ count: Int) -> [UInt64] {
            (0..<count).map { _ in
                let start = now()
                _ = record.withUnsafeBytes { pwrite(zeroed, $0.baseAddress, $0.count, off_t(zeroedOffset)) }
                fdatasync(zeroed)
                zeroedOffset = (zeroedOffset + record.count) % (4 << 20)
                return now() - start
            }
        }

        deinit {
            close(descriptor)
            unlink(path)
            close(zeroed)
            unlink(zeroedPath)
        }
    }

    static func initialize(_ directory: URL, merit: String) throws -> String {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: merit)
        process.arguments = ["init", "--org", "Bench", "--data", directory.path, "--json"]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let created = try JSONParser.parse([UInt8](output.fileHandleForReading.readDataToEndOfFile()))
        guard let key = created["api_key"]?.stringValue else { throw BenchmarkError(message: "merit init failed") }
        return key
    }

    static func createLine(_ index: Int) -> [UInt8] {
        Array(
            (#"{"jsonrpc":"2.0","id":\#(index),"method":"people.create","params":{"name":"Person \#(index)","#
                + #""email":"p\#(index)@bench.example","role":"employee","squad":"s\#(index % 50)"}}"#).utf8) + [0x0A]
    }

    /// Run the write benchmarks, the replay benchmarks, or both.
    static func run(merit: String, events: Int, writes: Bool = true, replay: Bool = true) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-storage-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        if writes { try self.writes(root: root, merit: merit) }
        if replay { try self.replay(root: root, merit: merit, events: events) }
    }

    /// Durable writes of `request(i)` through `child`, which it finishes: one at a time in ten rounds of 300 that
    /// alternate with as many raw appends in `root` (the disk's speed drifts over seconds, and both must be measured
    /// under the same conditions), then 200 000 with 64 in flight, a new one sent for each answer. The requests are
    /// made before the clock starts (about `lineBytes` each), so that what is timed is merit, not the benchmark
    /// formatting lines.
    static func durableWrites(
        _ child: TransportBenchmark.Child, root: URL, lineBytes: Int, request: (Int) -> [UInt8]
    ) -> (raw: [UInt64], overwrites: [UInt64], singles: [UInt64], rate: Double) {
        let appender = RawAppender(directory: root)
        _ = appender.appends(200)
        _ = TransportBenchmark.oneAtATime(child, count: 0, warmUp: 200, request: request)
        var raw: [UInt64] = []
        var overwrites: [UInt64] = []
        var singles: [UInt64] = []
        for round in 0..<10 {
            raw += appender.appends(300)
            overwrites += appender.overwrites(300)
            singles += TransportBenchmark.oneAtATime(child, count: 300, warmUp: 0) { request(200 + round * 300 + $0) }
        }
        let total = 200_000
        var requests: [UInt8] = []
        var ends: [Int] = []
        requests.reserveCapacity(total * lineBytes)
        for index in 0..<total {
            requests += request(10_000 + index)
            ends.append(requests.count)
        }
        var sent = 64
        var received = 0
        let start = now()
        child.write(requests, ..<ends[sent - 1])
        while received < total {
            let lines = child.readLines()
            received += lines
            let next = min(sent + lines, total)
            if next > sent {
                child.write(requests, ends[sent - 1]..<ends[next - 1])
                sent = next
            }
        }
        let rate = Double(total) / (Double(now() - start) / 1e9)
        child.finish()
        return (raw, overwrites, singles, rate)
    }

    /// The raw write over zeros, as merit's log writes, against merit one at a time: for information, since the
    /// target is stated against appends.
    static func overwriteRow(_ overwrite: UInt64, merit: UInt64) -> Row {
        Row(
            name: "raw 256-byte write over zeros + fdatasync, p50", value: microseconds(overwrite),
            note: String(format: "merit p50 / this: %.2f×", Double(merit) / Double(overwrite)))
    }

    /// Durable `people.create` one at a time and with 64 in flight, against raw appends.
    static func writes(root: URL, merit: String) throws {
        let data = root.appendingPathComponent("writes")
        let key = try initialize(data, merit: merit)
        setenv("MERIT_API_KEY", key, 1)
        let child = try TransportBenchmark.Child(merit, ["serve", "--data", data.path])
        let (raw, overwrites, singles, pipelinedRate) = durableWrites(
            child, root: root, lineBytes: 140, request: createLine)
        unsetenv("MERIT_API_KEY")

        let rawMedian = percentile(raw, 0.5)
        let meritMedian = percentile(singles, 0.5)
        let ratio = Double(meritMedian) / Double(rawMedian)
        report(
            "storage: durable writes (people.create) through merit serve, against raw append + fdatasync",
            [
                Row(name: "raw 256-byte append + fdatasync, p50", value: microseconds(rawMedian)),
                Row(
                    name: "merit one at a time, p50 / p99", value: microseconds(meritMedian),
                    note: microseconds(percentile(singles, 0.99))),
                Row(
                    name: "merit p50 / raw p50", value: String(format: "%.2f×", ratio),
                    note: "target ≤ 1.5×  \(verdict(ratio <= 1.5))"),
                overwriteRow(percentile(overwrites, 0.5), merit: meritMedian),
                Row(
                    name: "merit, 64 in flight", value: "\(grouped(pipelinedRate)) /s",
                    note: "target ≥ 50 000 /s  \(verdict(pipelinedRate >= 50_000))"),
            ])
    }

    /// Build a log of `events` events (1000 people, then updates to them), then time replaying it and, after
    /// `merit compact`, starting up.
    static func replay(root: URL, merit: String, events: Int) throws {
        let data = root.appendingPathComponent("replay")
        let key = try initialize(data, merit: merit)
        let diagnostics = Diagnostics(level: .error)
        var configuration = ServerConfiguration(diagnostics: diagnostics, environmentAPIKey: key)
        // No automatic snapshot while the log is built: the replay measured must be of every event.
        configuration.snapshotThresholdBytes = .max
        do {
            let server = try Server(configuration: configuration, dataDirectory: data.path)
            var dispatcher = Dispatcher(handler: server)
            var writer = JSONWriter(capacity: 1 << 20)
            var written = 2  // merit init's two events
            var index = 0
            while written < events {
                for _ in 0..<1000 where written < events {
                    var line: [UInt8]
                    if index < 1000 {
                        line = createLine(index).dropLast()
                    } else {
                        let person = (index - 1000) % 1000
                        line = Array(
                            (#"{"jsonrpc":"2.0","id":\#(index),"method":"people.update","params":{"id":"\#(ids[person])","#
                                + #""name":"Person \#(person) v\#(index)"}}"#).utf8)
                    }
                    line.withUnsafeBytes { dispatcher.receive(line: $0) }
                    index += 1
                    written += 1
                    if index == 1000 { break }
                }
                writer.bytes.removeAll(keepingCapacity: true)
                dispatcher.flush(into: &writer)
                if ids.isEmpty {
                    ids = String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").compactMap {
                        (try? JSONParser.parse(String($0)))?["result"]?["id"]?.stringValue
                    }
                    guard ids.count == 1000 else { throw BenchmarkError(message: "people.create failed while seeding") }
                }
            }
            server.close()
        }
        // Count what the log really holds, so that the rate below is of events actually replayed.
        let inspection = LogInspector.verify(directory: data.path)
        guard inspection.isHealthy, inspection.records >= events - 2 else {
            throw BenchmarkError(message: "the replay log holds \(inspection.records) records, not \(events)")
        }
        var replayTimes: [Double] = []
        for _ in 0..<3 {
            let start = now()
            let server = try Server(configuration: configuration, dataDirectory: data.path)
            replayTimes.append(Double(now() - start) / 1e9)
            server.close()
        }
        if let keep = ProcessInfo.processInfo.environment["MERIT_BENCH_KEEP"] {
            try FileManager.default.copyItem(atPath: data.path, toPath: keep)
        }
        let replaySeconds = replayTimes.min() ?? 0
        let replayRate = Double(events) / replaySeconds
        let compactStart = now()
        _ = try Administration.compact(directory: data.path, diagnostics: diagnostics)
        let compactSeconds = Double(now() - compactStart) / 1e9
        // Start-up as a user meets it: spawn merit serve and wait for the answer to its first request.
        var startups: [UInt64] = []
        setenv("MERIT_API_KEY", key, 1)
        for _ in 0..<5 {
            let start = now()
            let child = try TransportBenchmark.Child(merit, ["serve", "--data", data.path])
            child.write(TransportBenchmark.line)
            var received = 0
            while received < 1 { received += child.readLines() }
            startups.append(now() - start)
            child.finish()
        }
        unsetenv("MERIT_API_KEY")
        let startup = Double(percentile(startups, 0.5)) / 1e9
        report(
            "storage: replay and start-up over \(grouped(Double(events))) events (1000 people, then updates)",
            [
                Row(
                    name: "replay without a snapshot", value: "\(grouped(replayRate)) events/s",
                    note: String(
                        format: "fastest of %@ s;  target ≥ 1 000 000 /s  %@",
                        replayTimes.map { String(format: "%.2f", $0) }.joined(separator: ", "),
                        verdict(replayRate >= 1e6))),
                Row(name: "merit compact", value: String(format: "%.2f s", compactSeconds)),
                Row(
                    name: "merit serve start-up after compact, p50", value: String(format: "%.3f s", startup),
                    note: "spawn to first answer;  target ≤ 1 s  \(verdict(startup <= 1))"),
            ])
    }

    nonisolated(unsafe) static var ids: [String] = []
}

/// A benchmark that could not run.
struct BenchmarkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
