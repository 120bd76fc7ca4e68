import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `$/ping` over real pipes to the spawned `merit serve`, one at a time and with 64 in flight, against
/// `/bin/cat` echoing the same lines as the zero-work baseline.
enum TransportBenchmark {
    static let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"#.utf8) + [0x0A]

    /// A child process with its stdin and stdout as raw descriptors.
    final class Child {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)

        init(_ executable: String, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            try process.run()
        }

        var writeDescriptor: Int32 { input.fileHandleForWriting.fileDescriptor }
        var readDescriptor: Int32 { output.fileHandleForReading.fileDescriptor }

        func write(_ bytes: [UInt8]) { write(bytes, ..<bytes.count) }

        /// Write `range` of `bytes`, all of it.
        func write(_ bytes: [UInt8], _ range: some RangeExpression<Int>) {
            bytes.withUnsafeBytes { whole in
                let raw = UnsafeRawBufferPointer(rebasing: whole[range])
                var offset = 0
                while offset < raw.count {
                    let count = Glibc.write(writeDescriptor, raw.baseAddress! + offset, raw.count - offset)
                    if count > 0 { offset += count } else if errno != EINTR { fatalError("write failed: \(errno)") }
                }
            }
        }

        /// Read what is available and return how many newlines it held.
        func readLines() -> Int {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(readDescriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { fatalError("the child closed its output") }
            var lines = 0
            for index in 0..<count where buffer[index] == 0x0A { lines += 1 }
            return lines
        }

        func finish() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    /// Round-trip times of single requests, in nanoseconds, after `warmUp` unmeasured ones; `request` makes the
    /// line for each iteration.
    static func oneAtATime(
        _ child: Child, count: Int, warmUp: Int = 2000, request: (Int) -> [UInt8] = { _ in line }
    ) -> [UInt64] {
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        for iteration in 0..<(count + warmUp) {
            let bytes = request(iteration)
            let start = now()
            child.write(bytes)
            var received = 0
            while received < 1 { received += child.readLines() }
            if iteration >= warmUp { samples.append(now() - start) }
        }
        return samples
    }

    /// Requests per second with `inFlight` outstanding at all times.
    static func pipelined(_ child: Child, inFlight: Int, total: Int) -> Double {
        let batch = Array([[UInt8]](repeating: line, count: inFlight).joined())
        var sent = inFlight
        var received = 0
        let start = now()
        child.write(batch)
        while received < total {
            let lines = child.readLines()
            received += lines
            let more = min(lines, total - sent)
            if more > 0 {
                child.write(Array(batch[0..<(more * line.count)]))
                sent += more
            }
        }
        return Double(total) / (Double(now() - start) / 1e9)
    }

    static func run(merit: String) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("merit-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: data) }
        let singles = 20_000
        let total = 1_000_000

        _ = try StorageBenchmark.initialize(data, merit: merit)
        let meritChild = try Child(merit, ["serve", "--data", data.path])
        let meritSamples = oneAtATime(meritChild, count: singles)
        let meritRate = pipelined(meritChild, inFlight: 64, total: total)
        meritChild.finish()

        let catChild = try Child("/bin/cat", [])
        let catSamples = oneAtATime(catChild, count: singles)
        let catRate = pipelined(catChild, inFlight: 64, total: total)
        catChild.finish()

        let meritMedian = percentile(meritSamples, 0.5)
        let catMedian = percentile(catSamples, 0.5)
        let ratio = Double(meritMedian) / Double(catMedian)
        report(
            "transport: $/ping over pipes to merit serve, against /bin/cat echoing the same line",
            [
                Row(
                    name: "merit one at a time, p50 / p99", value: microseconds(meritMedian),
                    note: microseconds(percentile(meritSamples, 0.99))),
                Row(
                    name: "cat one at a time, p50 / p99", value: microseconds(catMedian),
                    note: microseconds(percentile(catSamples, 0.99))),
                Row(
                    name: "merit p50 / cat p50", value: String(format: "%.2f×", ratio),
                    note: "target ≤ 1.5×  \(verdict(ratio <= 1.5))"),
                Row(
                    name: "merit, 64 in flight", value: "\(grouped(meritRate)) /s",
                    note: "target ≥ 300 000 /s  \(verdict(meritRate >= 300_000))"),
                Row(name: "cat, 64 in flight", value: "\(grouped(catRate)) /s"),
            ])
    }
}
