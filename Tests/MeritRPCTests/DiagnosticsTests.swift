import Testing

@testable import MeritRPC

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test(
        "logging never blocks when nobody reads stderr: lines beyond the queue are dropped and counted",
        .timeLimit(.minutes(1)))
    func neverBlocks() throws {
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }
        let diagnostics = Diagnostics(level: .info, descriptor: descriptors[1], capacity: 8)
        // A pipe holds 64 KiB; this is far more. If logging waited for the reader, this loop would never end.
        let line = String(repeating: "x", count: 1000)
        for index in 0..<5000 { diagnostics.log(.info, "\(index) \(line)") }
        // Now read everything, which lets the background writer finish.
        let flags = fcntl(descriptors[0], F_GETFL)
        _ = fcntl(descriptors[0], F_SETFL, flags | O_NONBLOCK)
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<1000 {
            let count = buffer.withUnsafeMutableBytes { read(descriptors[0], $0.baseAddress, $0.count) }
            if count > 0 { text += String(decoding: buffer[0..<count], as: UTF8.self) }
            if text.contains("4999 ") || (count <= 0 && text.contains("dropped")) { break }
            if count <= 0 { usleep(1000) }
        }
        #expect(text.contains("log lines dropped") || text.split(separator: "\n").count < 5000)
    }

    @Test("lines below the level are not written")
    func levels() {
        #expect(Diagnostics.Level.error < .warning)
        #expect(Diagnostics.Level(name: "debug") == .debug)
        #expect(Diagnostics.Level(name: "loud") == nil)
    }
}
