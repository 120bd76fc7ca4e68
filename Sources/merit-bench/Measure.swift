import Dispatch
import Foundation

/// Nanoseconds on a monotonic clock.
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Run `body` repeatedly for about `seconds` and return operations per second, where one call of `body`
/// performs `operationsPerCall` operations. The best of `rounds` is reported, as the least disturbed.
func rate(seconds: Double = 1.0, rounds: Int = 3, operationsPerCall: Int, _ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var best = 0.0
    for _ in 0..<rounds {
        let start = now()
        var calls = 0
        let deadline = start + UInt64(seconds / Double(rounds) * 1e9)
        repeat {
            body()
            calls += 1
        } while now() < deadline
        let elapsed = Double(now() - start) / 1e9
        best = max(best, Double(calls * operationsPerCall) / elapsed)
    }
    return best
}

/// The value at quantile `q` (0…1) of `samples`.
func percentile(_ samples: [UInt64], _ q: Double) -> UInt64 {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
}

/// A row of the report.
struct Row {
    var name: String
    var value: String
    var note: String = ""
}

/// Print rows as an aligned table.
func report(_ title: String, _ rows: [Row]) {
    print("\n== \(title)")
    let width = rows.map(\.name.count).max() ?? 0
    let valueWidth = rows.map(\.value.count).max() ?? 0
    for row in rows {
        let name = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
        let value = String(repeating: " ", count: valueWidth - row.value.count) + row.value
        print("  \(name)  \(value)  \(row.note)")
    }
}

/// `1234567.8` → `1 234 568`.
func grouped(_ value: Double) -> String {
    let digits = String(Int(value.rounded()))
    var result = ""
    for (offset, character) in digits.reversed().enumerated() {
        if offset > 0 && offset % 3 == 0 { result.append(" ") }
        result.append(character)
    }
    return String(result.reversed())
}

/// `12345` ns → `12.3 µs`.
func microseconds(_ nanoseconds: UInt64) -> String {
    String(format: "%.1f µs", Double(nanoseconds) / 1000)
}

/// A check against a target, printed as PASS or MISS.
func verdict(_ met: Bool) -> String { met ? "PASS" : "MISS" }

/// The repository root, from this file's path at build time.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
