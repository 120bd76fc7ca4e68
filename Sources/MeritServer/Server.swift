import MeritDomain
import MeritJSON
import MeritLog
import MeritRPC

/// The product's name and version, as `initialize` and `--version` report them.
public enum MeritVersion {
    /// The server's version.
    public static let current = "0.1.0"
    /// The protocol version this server speaks, returned by `initialize`.
    public static let protocolVersion = "2026-11-01"
}

/// How a server is set up: the frozen clock and seed test harnesses use, limits, and where to log.
public struct ServerConfiguration: Sendable {
    /// When set, "now" is always this instant (`--clock`).
    public var frozenClock: Timestamp?
    /// When set, ids and shuffles are reproducible (`--seed`).
    public var seed: UInt64?
    /// The longest request line accepted, reported in `initialize`'s capabilities.
    public var maximumLineBytes: Int
    /// Where diagnostics go.
    public var diagnostics: Diagnostics
    /// The key from `MERIT_API_KEY`, which authenticates the session from the start.
    public var environmentAPIKey: String?
    /// How much log is written before a snapshot is taken automatically (64 MiB).
    public var snapshotThresholdBytes: Int = 64 << 20

    /// A configuration.
    public init(
        frozenClock: Timestamp? = nil, seed: UInt64? = nil,
        maximumLineBytes: Int = Connection<FileDescriptorInput, FileDescriptorOutput>.defaultMaximumLineBytes,
        diagnostics: Diagnostics = Diagnostics(level: .warning), environmentAPIKey: String? = nil
    ) {
        self.frozenClock = frozenClock
        self.seed = seed
        self.maximumLineBytes = maximumLineBytes
        self.diagnostics = diagnostics
        self.environmentAPIKey = environmentAPIKey
    }
}

/// Answers the methods of the contract for one session (one stdio connection).
///
/// Every request is looked up in the method table; methods past the session's door need an authenticated
/// principal; params are read field by field; changes go through the engine, whose `commit` the dispatcher
/// calls once per group. Only the connection's thread calls it.
public final class Server: RequestHandler {
    /// Where the session stands in its lifecycle.
    enum Phase {
        case serving
        case shuttingDown
        case exiting
    }

    let configuration: ServerConfiguration
    let engine: Engine
    var phase = Phase.serving
    var clientInfo: (name: String, version: String)?
    /// The key that authenticated the session, if any.
    var authenticatedKey: ID<APIKey>?
    /// The principal of the request being handled (set for authenticated methods only).
    var principal: Principal?
    /// The dispatcher's number for the request being handled.
    var currentCall = 0
    private let methods: [String: Method]

    /// A server for one session over `engine`'s data directory.
    init(configuration: ServerConfiguration, engine: Engine) {
        self.configuration = configuration
        self.engine = engine
        self.methods = Dictionary(uniqueKeysWithValues: Server.allMethods.map { ($0.name, $0) })
        if let key = configuration.environmentAPIKey {
            authenticatedKey = engine.state.activeKey(secretHash: SHA256.hexDigest(key))?.id
            if authenticatedKey == nil {
                configuration.diagnostics.log(.warning, "MERIT_API_KEY is not a valid key of this data directory")
            }
        }
    }

    /// Open the data directory (taking its lock) and serve it.
    public convenience init(
        configuration: ServerConfiguration, dataDirectory: String, fileSystem: any FileSystem = POSIXFileSystem(),
        logOptions: LogOptions = LogOptions()
    ) throws(LogError) {
        let engine = try Engine(
            directory: dataDirectory, frozenClock: configuration.frozenClock, seed: configuration.seed,
            diagnostics: configuration.diagnostics, fileSystem: fileSystem, options: logOptions,
            snapshotThresholdBytes: configuration.snapshotThresholdBytes)
        self.init(configuration: configuration, engine: engine)
    }

    /// The organization the data directory holds, if `merit init` has created it.
    public var organizationName: String? { engine.state.organization?.name }

    /// Release the data directory.
    public func close() { engine.close() }

    /// Whether every index of the state is what indexing its rows afresh gives, for tests of rollback.
    public var stateIndexesAreConsistent: Bool { engine.state.indexesAreConsistent }

    /// Write a snapshot now (what `merit compact` does), for tests of start-up from a snapshot.
    public func compactForTesting() throws { try engine.snapshot() }

    /// Whether the `exit` notification has been received.
    public var wantsExit: Bool { phase == .exiting }

    /// The names of every method the server answers, for tests that check the OpenRPC document lists them.
    public static var methodNames: [String] { allMethods.map(\.name) }

    public func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError? {
        if phase == .shuttingDown && request.method != "exit" {
            return RPCError(.invalidRequest, "The server is shutting down; only the exit notification is accepted.")
        }
        guard let method = methods[request.method] else {
            return .methodNotFound(request.method)
        }
        currentCall = call
        principal = nil
        engine.beginRequest()
        do {
            var authenticated: Principal?
            if method.access == .authenticated { authenticated = try authenticatedPrincipal() }
            if let repeated = request.params?.firstRepeatedMember {
                throw FieldError(field: repeated, problem: "appears more than once; give each member once")
            }
            if let authenticated { principal = try actingPrincipal(authenticated, meta: request.params?["_meta"]) }
            var params = try FieldReader(request.params)
            params.ignore("_meta")
            try method.run(self, &params, &result)
            return nil
        } catch {
            return rpcError(for: error, in: request.method)
        }
    }

    /// The wire error for anything a method threw: the one place where domain, params and storage errors become
    /// the contract's errors.
    func rpcError(for error: any Error, in method: String) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as FieldError: return .invalidField(error)
        case let error as DomainError: return RPCError(error)
        case let error as StorageError: return RPCError(error)
        default:
            configuration.diagnostics.log(.error, "\(method) failed unexpectedly: \(error)")
            return .internalError("\(method) failed with \(error)")
        }
    }

    /// The principal for a domain method: the session's key, still active.
    private func authenticatedPrincipal() throws(RPCError) -> Principal {
        guard let keyID = authenticatedKey else {
            throw RPCError(
                .authenticationRequired,
                "Authentication required: call initialize with an api_key, or set MERIT_API_KEY when spawning merit.")
        }
        let revision = engine.state.keysRevision
        if let cached = cachedPrincipal, cached.keysRevision == revision, cached.principal.keyID == keyID {
            return cached.principal
        }
        guard let key = engine.state.keys[keyID], key.isActive else {
            throw RPCError(.authenticationRequired, "The session's API key has been revoked; authenticate again.")
        }
        let principal = Principal(key: key)
        cachedPrincipal = (revision, principal)
        return principal
    }

    /// The session key's principal, kept while no key changes (every request needs it).
    private var cachedPrincipal: (keysRevision: Int, principal: Principal)?

    /// The principal after `_meta.actor`: a key with `act_as` may run one request as any person, with that
    /// person's rights intersected with the key's scopes.
    private func actingPrincipal(_ principal: Principal, meta: JSON?) throws -> Principal {
        guard let meta, !meta.isNull else { return principal }
        let actor: String?
        if case .object(let members) = meta, case .string(let text)? = members["actor"] {
            // The common case, read directly; anything else through a reader, for its errors.
            actor = text
        } else {
            var fields = try FieldReader(meta, path: "_meta.")
            actor = try fields.optional("actor", as: String.self)
        }
        guard let actor else { return principal }
        let id = try parseID(actor, as: Person.self, field: "_meta.actor")
        guard principal.has(.actAs) else {
            throw DomainError(.permissionDenied, "You need the act_as permission to use _meta.actor.")
        }
        guard engine.state.people[id] != nil else {
            throw DomainError(
                .unprocessable(field: "_meta.actor"), "_meta.actor \(id) is not a person of this organization.")
        }
        var acting = principal
        acting.personID = id
        return acting
    }

    /// The acting person, for methods about "the current user"; `permission_denied` for a key acting as nobody.
    func actingPerson(for method: String) throws(DomainError) -> ID<Person> {
        guard let person = requestPrincipal.personID else {
            throw DomainError(
                .permissionDenied,
                "\(method) is about the current user, and this key acts as nobody: use a key with a person_id, or "
                    + "_meta.actor with act_as.")
        }
        return person
    }

    public var hasPendingChanges: Bool { engine.hasPendingChanges }

    public func sealGroup() -> SealedGroup {
        let commit = engine.seal().map(ServerCommit.init)
        guard let subscription else { return SealedGroup(commit: commit) }
        let events = engine.takeSealedEvents()
        let keyID = authenticatedKey
        let notifications: [(method: String, params: JSON)]? = engine.withState { state in
            // The session's key must still read the feed: re-authenticating with a key without events:read, or the
            // key's revocation, ends the subscription.
            guard let keyID, let key = state.keys[keyID], key.isActive,
                Authorization.allows(.eventsRead, to: Principal(key: key), in: state)
            else { return nil }
            // Written after the group's responses, so only once the events are durable (and never if its commit
            // fails).
            return events.filter { subscription.contains($0.change.kind) }.map {
                (method: "event", params: $0.json(in: state))
            }
        }
        guard let notifications else {
            self.subscription = nil
            return SealedGroup(commit: commit)
        }
        return SealedGroup(commit: commit, notifications: notifications)
    }

    /// The kinds of event this session receives as `event` notifications, once it has subscribed.
    var subscription: Set<ChangeKind>? {
        didSet { engine.collectsEvents = subscription != nil }
    }

    /// The event feed, made when first read.
    lazy var feed = EventFeed(reader: engine.logReader)

    // MARK: - Helpers for handlers

    /// The principal of the current request; handlers of authenticated methods only.
    var requestPrincipal: Principal {
        guard let principal else { preconditionFailure("an authenticated method ran without a principal") }
        return principal
    }

    /// Record what a command of the current request changed, and give back the resource it changed.
    func record<Value>(_ changed: Changed<Value>) throws(StorageError) -> Value {
        try engine.record(changed.changes, actor: requestPrincipal, call: currentCall)
        return changed.value
    }

    /// Run a command of the current request on the state (in place: `Engine.withState`), record what it changed,
    /// and give back the resource it changed.
    func record<Value>(_ command: (inout State) throws -> Changed<Value>) throws -> Value {
        try record(engine.withState(command))
    }

    /// Run a query on the state in place (`Engine.withState`): what handlers read the state through.
    func withState<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try engine.withState(body)
    }
}

extension RPCError {
    /// The wire error for a storage error.
    init(_ error: StorageError) {
        switch error {
        case .unavailable: self.init(.storageUnavailable, error.description)
        case .tooLarge: self.init(.validationError, error.description)
        }
    }

    /// The wire error for a domain error.
    init(_ error: DomainError) {
        switch error.kind {
        case .validation(let field):
            self.init(.validationError, error.message, details: [Detail(field: field, problem: error.problemText)])
        case .authenticationRequired: self.init(.authenticationRequired, error.message)
        case .permissionDenied: self.init(.permissionDenied, error.message)
        case .notFound: self.init(.notFound, error.message)
        case .conflict: self.init(.conflict, error.message)
        case .unprocessable(let field):
            self.init(.unprocessable, error.message, details: [Detail(field: field, problem: error.problemText)])
        }
    }
}

extension DomainError {
    /// The message without its field name and final period, for `details[].problem`.
    var problemText: String {
        var text = message
        switch kind {
        case .validation(let field), .unprocessable(let field):
            if text.hasPrefix(field + " ") { text.removeFirst(field.count + 1) }
        default: break
        }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

/// One method of the contract: its name, whether it needs an authenticated session, and its handler.
struct Method: Sendable {
    /// Who may call a method.
    enum Access: Sendable {
        /// Before authentication too: `initialize`, `rpc.discover`, `$/ping`, `shutdown`, `exit`.
        case session
        /// Only an authenticated session.
        case authenticated
    }

    let name: String
    let access: Access
    /// The params whose objects and arrays the method keeps as they came, and reads as compact JSON
    /// (`JSON.compact`) rather than as trees: a summary's `body`.
    let compactParams: [String]
    /// Reads the params and writes the result's JSON.
    let run: @Sendable (Server, inout FieldReader, inout JSONWriter) throws -> Void

    /// A method whose handler returns its result as a JSON value.
    init(
        _ name: String, access: Access, compactParams: [String] = [],
        run: @escaping @Sendable (Server, inout FieldReader) throws -> JSON
    ) {
        self.name = name
        self.access = access
        self.compactParams = compactParams
        self.run = { server, params, result in result.write(try run(server, &params)) }
    }

    /// A method whose handler writes its result itself, for the hot paths where building a tree first would cost
    /// more than the rest of the request.
    init(
        _ name: String, access: Access, compactParams: [String] = [],
        writing run: @escaping @Sendable (Server, inout FieldReader, inout JSONWriter) throws -> Void
    ) {
        self.name = name
        self.access = access
        self.compactParams = compactParams
        self.run = run
    }
}

/// A resource the server has methods for. Its methods file conforms it, and the method table finds it through the
/// catalog of resources, so that a new resource's methods are registered where they are written.
protocol ServedResource: CatalogResource {
    /// The methods about this kind of resource.
    static var methods: [Method] { get }

    /// The resource as an event of `kind` shows it in the feed: as its `get` method shows it.
    func feedData(for kind: ChangeKind, in state: State) -> JSON
}

extension ServedResource {
    func feedData(for kind: ChangeKind, in state: State) -> JSON { json }
}

extension Server {
    /// The method table: the session's and the event feed's methods, then every served resource's, in the
    /// catalog's order.
    static let allMethods: [Method] =
        SessionMethods.all + EventMethods.all
        + ResourceKind.allCases.flatMap { kind in (kind.type as? any ServedResource.Type)?.methods ?? [] }

    /// Every method's `compactParams`: the parser keeps these members as compact JSON in any request, since it
    /// reads the params before it knows the method (a method that does not take them refuses them as unknown).
    static let compactMembers: [String] = Array(Set(allMethods.flatMap(\.compactParams))).sorted()

    public var compactMembers: [String] { Self.compactMembers }
}

/// A sealed group's commit as the connection sees it: the engine's, with its failure as the wire's error.
private final class ServerCommit: GroupCommit {
    private let group: DurableGroup

    init(_ group: DurableGroup) { self.group = group }

    func makeDurable() -> (error: RPCError, firstCall: Int)? {
        group.makeDurable().map { (RPCError($0.error), $0.firstCall) }
    }
}
