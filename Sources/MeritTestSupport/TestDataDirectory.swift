import Foundation
import MeritJSON

/// A data directory initialized by the real `merit init --json`, removed when released.
public final class TestDataDirectory: Sendable {
    /// The temporary folder holding it.
    public let temporary: TemporaryDirectory
    /// The data directory's path.
    public let path: String
    /// The admin key `merit init` printed.
    public let apiKey: String
    /// The organization's id.
    public let organizationID: String

    /// The clock transcripts and reproducible tests run at.
    public static let clock = "2026-04-15T09:00:00Z"

    /// Run `merit init` on a fresh directory; `seed` (with the fixed clock) makes its ids and key reproducible.
    public init(organization: String = "Acme", seed: UInt64? = nil) throws {
        temporary = TemporaryDirectory(prefix: "merit-data")
        path = temporary.path("data")
        var arguments = ["init", "--org", organization, "--data", path, "--json"]
        if let seed { arguments += ["--seed", String(seed), "--clock", Self.clock] }
        let result = try runMerit(arguments)
        guard result.status == 0, let created = try? JSONParser.parse(result.output),
            let key = created["api_key"]?.stringValue, let organizationID = created["organization_id"]?.stringValue
        else {
            throw TranscriptError(message: "merit init failed (\(result.status)): \(result.error)")
        }
        apiKey = key
        self.organizationID = organizationID
    }
}

extension SpawnedMerit {
    /// `merit serve` on `data`, authenticated through `MERIT_API_KEY` when asked.
    public static func serve(
        _ data: TestDataDirectory, arguments: [String] = [], authenticated: Bool = false,
        environment: [String: String] = [:]
    ) throws -> SpawnedMerit {
        var environment = environment
        if authenticated { environment["MERIT_API_KEY"] = data.apiKey }
        let merit = try SpawnedMerit(["serve", "--data", data.path] + arguments, environment: environment)
        merit.keepAlive = data
        return merit
    }
}
