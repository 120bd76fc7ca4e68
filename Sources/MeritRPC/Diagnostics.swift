import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Log lines for people, written to standard error without ever blocking the protocol.
///
/// Lines are handed to a background queue; when a reader of standard error falls behind by more than
/// `capacity` lines, further lines are dropped and counted rather than waited for.
public final class Diagnostics: Sendable {
    /// How much to say.
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case error, warning, info, debug

        /// The level's name as written on the command line.
        public var name: String { String(describing: self) }

        /// The level named `name`, or `nil`.
        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.name == name }) else { return nil }
            self = level
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The most verbose level written.
    public let level: Level
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "merit.diagnostics")
    private let capacity: Int
    private let state = Mutex((pending: 0, dropped: 0))

    /// Diagnostics writing to `descriptor` (standard error by default).
    public init(level: Level, descriptor: Int32 = 2, capacity: Int = 1024) {
        self.level = level
        self.descriptor = descriptor
        self.capacity = capacity
    }

    /// Write `message` if `level` is enabled.
    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level <= self.level else { return }
        let line = "merit: \(level == .info ? "" : "\(level.name): ")\(message())\n"
        let accepted = state.withLock { state -> Bool in
            guard state.pending < capacity else {
                state.dropped += 1
                return false
            }
            state.pending += 1
            return true
        }
        guard accepted else { return }
        queue.async { [self] in
            let dropped = self.state.withLock { state -> Int in
                state.pending -= 1
                defer { state.dropped = 0 }
                return state.dropped
            }
            var text = line
            if dropped > 0 { text = "merit: (\(dropped) log lines dropped)\n" + text }
            text.withUTF8 { bytes in
                _ = write(self.descriptor, bytes.baseAddress, bytes.count)
            }
        }
    }

    /// Wait until every accepted line has been written.
    public func drain() {
        queue.sync {}
    }
}
