import MeritJSON

/// What answers requests: the server, or a test double.
///
/// The dispatcher calls `handle` for every valid request of the input that is available now, numbering the calls
/// of this group from 0, then `sealGroup` once, and writes the group's responses only after the sealed group's
/// `GroupCommit.makeDurable()` returns. That is the group commit: a handler makes changes durable in
/// `makeDurable` and, if that fails, withdraws the answers of the calls from the first one whose change was lost.
/// `makeDurable` may run on the connection's response writer while `handle` serves the next group; a handler that
/// commits in `sealGroup` itself (`SealedGroup(failure:)`) never sees that.
public protocol RequestHandler: AnyObject {
    /// Answer one request; `call` numbers the calls of the current group from 0.
    ///
    /// On success the handler appends exactly one JSON value, the result, to `result` and returns `nil`; the
    /// dispatcher holds those bytes until the group commits. Writing the result directly, rather than returning
    /// a tree to be written later, saves building and freeing a tree for every answer. On failure it returns the
    /// error; whatever it appended is discarded.
    func handle(_ request: Request, call: Int, result: inout JSONWriter) -> RPCError?

    /// End the group: what makes its changes durable (`nil`: nothing to do) and the notifications to write after
    /// its responses if that succeeds.
    func sealGroup() -> SealedGroup

    /// Whether the group so far holds changes to make durable: the connection then seals it as soon as its response
    /// writer is free, so that the next requests are served while those changes are written.
    var hasPendingChanges: Bool { get }

    /// Whether the connection should stop reading input (after the `exit` notification).
    var wantsExit: Bool { get }

    /// The names of the members whose objects and arrays the handler takes as they came, as compact JSON
    /// (`JSON.compact`), rather than as trees: values it keeps and answers without reading them member by member.
    var compactMembers: [String] { get }
}

extension RequestHandler {
    /// None, by default.
    public var compactMembers: [String] { [] }

    /// None: the group is sealed once the available input is handled.
    public var hasPendingChanges: Bool { false }
}

/// What makes a sealed group's changes durable: called once, on the connection's thread or on its response
/// writer's, groups in the order they were sealed.
public protocol GroupCommit: AnyObject, Sendable {
    /// Make the changes durable; `nil`, or the error and the first call whose answer it replaces.
    func makeDurable() -> (error: RPCError, firstCall: Int)?
}

/// A group sealed by its handler: how to make it durable, and what to send after its responses once it is.
public struct SealedGroup: Sendable {
    /// What makes the group durable; `nil` when nothing needs to be.
    public var commit: (any GroupCommit)?
    /// Notifications to send after the group's responses if its commit succeeds, as `(method, params)`.
    public var notifications: [(method: String, params: JSON)]

    /// A sealed group.
    public init(commit: (any GroupCommit)?, notifications: [(method: String, params: JSON)] = []) {
        self.commit = commit
        self.notifications = notifications
    }

    /// A group whose commit already ended, failing (when `failure` is given) from its `firstCall` on.
    public init(failure: (error: RPCError, firstCall: Int)?, notifications: [(method: String, params: JSON)] = []) {
        self.init(commit: failure.map(CommittedGroup.init), notifications: notifications)
    }
}

/// A group whose commit already ended, with `failure`.
final class CommittedGroup: GroupCommit {
    let failure: (error: RPCError, firstCall: Int)

    init(_ failure: (error: RPCError, firstCall: Int)) { self.failure = failure }

    func makeDurable() -> (error: RPCError, firstCall: Int)? { failure }
}
