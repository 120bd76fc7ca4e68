import Foundation

/// merit-bench: measures Merit against baselines run on the same machine in the same run.
///
/// Usage: merit-bench [codec|transport|storage|writes|replay|directory|performance|summaries|all] [--merit PATH]
///   [--events N]
/// Environment: MERIT_BENCH_PEOPLE, MERIT_BENCH_PERFORMANCE_PEOPLE and MERIT_BENCH_SUMMARIES size the directory,
/// performance and summaries suites; MERIT_BENCH_SUMMARIES=0 runs only the summaries suite's durable writes.
/// Build in release for meaningful figures: swift run -c release merit-bench
var arguments = Array(CommandLine.arguments.dropFirst())
var events = 1_000_000
if let index = arguments.firstIndex(of: "--events"), index + 1 < arguments.count, let count = Int(arguments[index + 1])
{
    events = count
    arguments.removeSubrange(index...index + 1)
}
var meritPath = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("merit").path
if let index = arguments.firstIndex(of: "--merit"), index + 1 < arguments.count {
    meritPath = arguments[index + 1]
    arguments.removeSubrange(index...index + 1)
}
let suites = arguments.isEmpty ? ["all"] : arguments
let known = [
    "codec", "transport", "storage", "writes", "replay", "directory", "performance", "summaries", "all",
]
if let unknown = suites.first(where: { !known.contains($0) }) {
    FileHandle.standardError.write(Data("merit-bench: unknown benchmark '\(unknown)'; use \(known)\n".utf8))
    exit(64)
}
#if DEBUG
    print("warning: this is a debug build; run `swift run -c release merit-bench` for real figures")
#endif
print("merit-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, merit at \(meritPath)")
if suites.contains("codec") || suites.contains("all") {
    try CodecBenchmark.run()
}
if suites.contains("transport") || suites.contains("all") {
    try TransportBenchmark.run(merit: meritPath)
}
if suites.contains("storage") || suites.contains("all") {
    try StorageBenchmark.run(merit: meritPath, events: events)
} else if suites.contains("writes") || suites.contains("replay") {
    try StorageBenchmark.run(
        merit: meritPath, events: events, writes: suites.contains("writes"), replay: suites.contains("replay"))
}
if suites.contains("directory") || suites.contains("all") {
    try DirectoryBenchmark.run(
        merit: meritPath, people: Int(ProcessInfo.processInfo.environment["MERIT_BENCH_PEOPLE"] ?? "") ?? 100_000)
}
if suites.contains("performance") || suites.contains("all") {
    try PerformanceBenchmark.run(
        merit: meritPath,
        people: Int(ProcessInfo.processInfo.environment["MERIT_BENCH_PERFORMANCE_PEOPLE"] ?? "") ?? 10_000)
}
if suites.contains("summaries") || suites.contains("all") {
    try SummariesBenchmark.run(
        merit: meritPath,
        summaries: Int(ProcessInfo.processInfo.environment["MERIT_BENCH_SUMMARIES"] ?? "") ?? 1_000_000)
}
