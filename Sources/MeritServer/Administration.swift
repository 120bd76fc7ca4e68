import MeritDomain
import MeritJSON
import MeritLog
import MeritRPC

/// What the command line does to a data directory besides serving it: `merit init` and `merit compact`.
public enum Administration {
    /// What `merit init` created.
    public struct Initialized: Sendable {
        /// The new organization's id.
        public var organizationID: String
        /// The organization's name.
        public var organizationName: String
        /// The admin key's secret, shown once.
        public var apiKey: String
    }

    /// Why an administrative command failed.
    public struct Failure: Error, CustomStringConvertible {
        /// One sentence saying what went wrong.
        public var description: String
    }

    /// Create the organization and its admin key (every scope, acting as nobody) in `directory`.
    public static func initialize(
        directory: String, organizationName: String, frozenClock: Timestamp?, seed: UInt64?, diagnostics: Diagnostics,
        fileSystem: any FileSystem = POSIXFileSystem()
    ) throws -> Initialized {
        let engine = try Engine(
            directory: directory, frozenClock: frozenClock, seed: seed, diagnostics: diagnostics, fileSystem: fileSystem
        )
        defer { engine.close() }
        if let organization = engine.state.organization {
            throw Failure(
                description: "\(directory) already holds the organization '\(organization.name)' (\(organization.id)); "
                    + "merit init never overwrites one")
        }
        let secret = APIKeySecret.make(engine.randomBytes(20))
        let organizationID: ID<Organization> = engine.newID()
        let initialized = try engine.state.initializeOrganization(
            id: organizationID, name: organizationName, adminKey: engine.newID(), secretHash: SHA256.hexDigest(secret),
            now: engine.now)
        try engine.record(initialized.changes, actor: nil, call: nil)
        if let failure = engine.commit() { throw failure.error }
        return Initialized(
            organizationID: organizationID.text,
            organizationName: engine.state.organization?.name ?? organizationName,
            apiKey: secret)
    }

    /// Write a snapshot of `directory` so that start-up replays nothing before it, and drop what it covers.
    public static func compact(directory: String, diagnostics: Diagnostics) throws -> (sequence: UInt64, events: Int64)
    {
        let engine = try Engine(directory: directory, frozenClock: nil, seed: nil, diagnostics: diagnostics)
        defer { engine.close() }
        try engine.snapshot()
        return (engine.lastLogSequence, engine.state.lastEventSequence)
    }
}
