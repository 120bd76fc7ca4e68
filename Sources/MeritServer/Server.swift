import MeritDomain
import MeritJSON
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

    /// A configuration.
    public init(
        frozenClock: Timestamp? = nil, seed: UInt64? = nil,
        maximumLineBytes: Int = Connection<FileDescriptorInput, FileDescriptorOutput>.defaultMaximumLineBytes,
        diagnostics: Diagnostics = Diagnostics(level: .warning)
    ) {
        self.frozenClock = frozenClock
        self.seed = seed
        self.maximumLineBytes = maximumLineBytes
        self.diagnostics = diagnostics
    }
}

/// Answers the methods of the contract for one session (one stdio connection).
///
/// Every request is looked up in the method table, its params read field by field, and its answer or error
/// returned to the dispatcher. Only the connection's thread calls it.
public final class Server: RequestHandler {
    /// Where the session stands in its lifecycle.
    enum Phase {
        case serving
        case shuttingDown
        case exiting
    }

    let configuration: ServerConfiguration
    var phase = Phase.serving
    var clientInfo: (name: String, version: String)?
    private let methods: [String: Method]

    /// A server with `configuration`.
    public init(configuration: ServerConfiguration) {
        self.configuration = configuration
        self.methods = Dictionary(uniqueKeysWithValues: Server.allMethods.map { ($0.name, $0) })
    }

    /// Whether the `exit` notification has been received.
    public var wantsExit: Bool { phase == .exiting }

    /// The names of every method the server answers, for tests that check the OpenRPC document lists them.
    public static var methodNames: [String] { allMethods.map(\.name) }

    public func handle(_ request: Request, call: Int) -> Result<JSON, RPCError> {
        if phase == .shuttingDown && request.method != "exit" {
            return .failure(
                RPCError(.invalidRequest, "The server is shutting down; only the exit notification is accepted."))
        }
        guard let method = methods[request.method] else {
            return .failure(.methodNotFound(request.method))
        }
        do {
            var params = try FieldReader(request.params)
            params.ignore("_meta")
            return .success(try method.run(self, &params))
        } catch let error as RPCError {
            return .failure(error)
        } catch let error as FieldError {
            return .failure(.invalidField(error))
        } catch {
            configuration.diagnostics.log(.error, "\(request.method) failed unexpectedly: \(error)")
            return .failure(.internalError("\(request.method) failed with \(error)"))
        }
    }

    public func commit() -> CommitOutcome {
        .success
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
    let run: @Sendable (Server, inout FieldReader) throws -> JSON

    init(_ name: String, access: Access, run: @escaping @Sendable (Server, inout FieldReader) throws -> JSON) {
        self.name = name
        self.access = access
        self.run = run
    }
}

extension Server {
    /// The method table: every method the server answers, in one place.
    static let allMethods: [Method] = SessionMethods.all
}
