import MeritJSON

/// What answers requests: the server, or a test double.
///
/// The dispatcher calls `handle` for every valid request of the input that is available now, numbering the calls
/// of this group from 0, then `commit` once before any response of the group is written. That is the group
/// commit: a handler may make changes durable in `commit` and, if that fails, withdraw the answers of the calls
/// from the first one whose change was lost.
public protocol RequestHandler: AnyObject {
    /// Answer one request; `call` numbers the calls of the current group from 0.
    ///
    /// On success the handler appends exactly one JSON value, the result, to `result` and returns `nil`; the
    /// dispatcher holds those bytes until the group commits. Writing the result directly, rather than returning
    /// a tree to be written later, saves building and freeing a tree for every answer. On failure it returns the
    /// error; whatever it appended is discarded.
    func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError?

    /// Make the group's changes durable before its responses are written.
    func commit() -> CommitOutcome

    /// Whether the connection should stop reading input (after the `exit` notification).
    var wantsExit: Bool { get }

    /// The names of the members whose objects and arrays the handler takes as they came, as compact JSON
    /// (`JSON.compact`), rather than as trees: values it keeps and answers without reading them member by member.
    var compactMembers: [String] { get }
}

extension RequestHandler {
    /// None, by default.
    public var compactMembers: [String] { [] }
}

/// The result of committing a group of calls.
public struct CommitOutcome: Sendable {
    /// When the changes could not be made durable: the error, and the first call whose answer it replaces.
    public var failure: (error: RPCError, firstCall: Int)?
    /// Notifications to send after the group's responses, as `(method, params)`.
    public var notifications: [(method: String, params: JSON)]

    /// A commit outcome.
    public init(failure: (error: RPCError, firstCall: Int)? = nil, notifications: [(method: String, params: JSON)] = [])
    {
        self.failure = failure
        self.notifications = notifications
    }

    /// Nothing to report.
    public static let success = CommitOutcome()
}
