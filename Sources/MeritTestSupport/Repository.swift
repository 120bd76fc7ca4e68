import Foundation

/// Where the repository's files are, for tests: the root, `Protocol/`, the shared test data and the built binary.
public enum Repository {
    /// The repository root, found from this file's own path.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Protocol/`.
    public static var protocolDirectory: URL { root.appendingPathComponent("Protocol") }

    /// `../shared/data` beside the clone, where CI keeps the shared test data; `nil` in a user's clone.
    public static var sharedData: URL? {
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/data")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The `merit` executable built beside the test bundle (or named by `MERIT_BINARY`).
    public static var meritBinary: URL {
        if let path = ProcessInfo.processInfo.environment["MERIT_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        let testBundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBundle.deletingLastPathComponent()
        // On Linux the test runner is `<products>/MeritPackageTests.xctest`; elsewhere it may sit deeper.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("merit")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/merit")
    }
}

/// A directory under the system's temporary folder, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// A new, empty directory whose name starts with `prefix`.
    public init(prefix: String = "merit-test") {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8))"
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of the directory.
    public var path: String { url.path }

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
