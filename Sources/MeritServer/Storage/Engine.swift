import Dispatch
import MeritDomain
import MeritLog
import MeritRPC
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The organization's state and the log that makes it durable: the one writer.
///
/// A change goes: events are built from a validated command, appended to the log's buffer, and applied to the
/// state inside a transaction (so that later requests of the same group see them); at the end of the group
/// `commit()` makes them durable with one write and one fsync, and only then are responses written. If the
/// commit fails, the transaction is rolled back, so the state in memory is exactly what is durable, and the log
/// refuses every later change with `storage_unavailable`.
final class Engine {
    /// The state, read in place. Kept behind a pointer because a stored property of a class is copied out (a
    /// retain and a release of every collection in it) even to read one of its fields. A call that takes the
    /// whole state as an argument, such as `createPerson`, still gets a copy: the compiler cannot prove that the
    /// memory stays unchanged during the call: handlers go through `withState` instead.
    var state: State { unsafeAddress { UnsafePointer(storage) } }

    /// Run `body` on the state in place. It is lent `inout` only because that is how Swift passes a value by address
    /// without copying it: `state.createPerson(…)` called on the property above copies the whole state first (a
    /// retain and a release of every collection in it, thousands of instructions per request), while through an
    /// `inout` parameter the compiler knows nothing else can change it during the call. `body` must not change the
    /// state: changes go through `record`.
    func withState<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try body(&storage.pointee)
    }
    private var storedState: State {
        unsafeAddress { UnsafePointer(storage) }
        unsafeMutableAddress { storage }
    }
    private let storage: UnsafeMutablePointer<State>
    private let log: WriteAheadLog
    private let directory: String
    private let fileSystem: any FileSystem
    private let options: LogOptions
    private var ids: IDGenerator
    /// The size of the last snapshot written, to size the next one's buffer.
    private var lastSnapshotBytes = 0
    /// The periodic snapshot being written on another thread, if one is.
    private var backgroundSnapshot: BackgroundSnapshot?
    /// Where each transaction's record is encoded, kept from one to the next so that its memory is allocated once.
    private var recordWriter = BinaryWriter(capacity: 4096)
    private let frozenClock: Timestamp?
    /// What orders shuffled answers (feedback comments): the same for the same seed, so that runs under `--seed`
    /// are reproducible, and random otherwise; never the order things were written in.
    let shuffleKey: UInt64
    private let diagnostics: Diagnostics
    private let snapshotThresholdBytes: Int
    /// The first call of the current group that changed something, for a failed commit to answer.
    private var firstChangingCall: Int?
    /// Whether the events of each group are kept for `committedEvents` (a session subscribed to them); otherwise
    /// the write path builds none.
    var collectsEvents = false
    /// The events recorded in the current group, while `collectsEvents`.
    private var pendingEvents: [Event] = []
    /// The events of the last group that committed, while `collectsEvents`; emptied by reading them.
    private(set) var committedEvents: [Event] = []
    /// What recovery found when the engine opened.
    let recovery: RecoveryReport

    /// Open the data directory: take its lock, load the newest snapshot and replay the log after it.
    init(
        directory: String, frozenClock: Timestamp?, seed: UInt64?, diagnostics: Diagnostics,
        fileSystem: any FileSystem = POSIXFileSystem(), options: LogOptions = LogOptions(),
        snapshotThresholdBytes: Int = 64 << 20
    ) throws(LogError) {
        // The log is read and decoded on this thread while a second one applies the changes (`ReplayPipeline`).
        var opened: (log: WriteAheadLog, report: RecoveryReport)?
        let state = try ReplayPipeline.run { pipeline throws(LogError) in
            opened = try WriteAheadLog.open(
                directory: directory, options: options, fileSystem: fileSystem,
                snapshot: { _, payload in pipeline.state = try SnapshotCodec.decode(payload) },
                replay: { record in
                    switch record.type {
                    case EventCodec.binaryTransactionRecordType:
                        try EventCodec.replayBinaryTransaction(record.payload) { pipeline.add($0, sequence: $1) }
                    case EventCodec.textIDTransactionRecordType:
                        try EventCodec.replayBinaryTransaction(record.payload, binaryIDs: false) {
                            pipeline.add($0, sequence: $1)
                        }
                    case EventCodec.transactionRecordType:
                        for event in try EventCodec.decodeTransaction(record.payload) {
                            pipeline.add(event.change, sequence: event.sequence)
                        }
                    default:
                        throw StoredFormError("record \(record.sequence) has unknown type \(record.type)")
                    }
                })
        }
        guard let (log, report) = opened else { preconditionFailure("the log opened without a result") }
        self.storage = UnsafeMutablePointer<State>.allocate(capacity: 1)
        self.storage.initialize(to: state)
        self.log = log
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
        self.recovery = report
        self.frozenClock = frozenClock
        self.diagnostics = diagnostics
        self.snapshotThresholdBytes = snapshotThresholdBytes
        self.ids = IDGenerator(seed: seed, stream: UInt64(max(0, state.lastEventSequence)))
        if let seed {
            self.shuffleKey = seed &* 0xD6E8_FEB8_6659_FD93 ^ 0x5851_F42D_4C95_7F2D
        } else {
            var system = SystemRandomNumberGenerator()
            self.shuffleKey = system.next()
        }
        if let torn = report.tornTail {
            diagnostics.log(
                .warning,
                "cut off a torn tail of \(torn.length) bytes at offset \(torn.offset) of \(torn.file)"
                    + (torn.savedAs.map { " (kept as \($0))" } ?? ""))
        }
        for warning in report.permissionWarnings { diagnostics.log(.warning, warning) }
        for skipped in report.skippedSnapshots {
            diagnostics.log(.warning, "snapshot \(skipped) is unreadable; started from the one before it")
        }
    }

    /// Now: the frozen clock, or the system's real time.
    var now: Timestamp {
        if let frozenClock { return frozenClock }
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(milliseconds: Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }

    /// A new id.
    func newID<Entity>(_ type: Entity.Type = Entity.self) -> ID<Entity> {
        ids.id(at: now)
    }

    /// Random bytes from the (possibly seeded) generator.
    func randomBytes(_ count: Int) -> [UInt8] { ids.bytes(count) }

    /// A value in `0..<bound` from the (possibly seeded) generator.
    func random(below bound: Int) -> Int { ids.next(below: bound) }

    /// Record `changes` as one transaction: build their events, buffer them in the log and apply them.
    /// `call` is the dispatcher's call number, so that a failed commit answers from the right call on.
    func record(_ changes: [Change], actor: Principal?, call: Int?) throws(StorageError) {
        if let failure = log.failure { throw .unavailable("\(failure)") }
        guard !changes.isEmpty else { return }
        let time = now
        let firstSequence = state.lastEventSequence + 1
        var eventIDs: [ID<Event>] = []
        let collecting = collectsEvents
        recordWriter.removeAll()
        EventCodec.encodeBinaryTransaction(
            changes, firstSequence: firstSequence, createdAt: time, actor: actor,
            newID: {
                let id: ID<Event> = ids.id(at: time)
                if collecting { eventIDs.append(id) }
                return id
            }, into: &recordWriter)
        do {
            _ = try recordWriter.withBytes { bytes throws(LogError) in
                try log.append(type: EventCodec.binaryTransactionRecordType, payload: bytes)
            }
        } catch {
            if case .recordTooLarge = error { throw .tooLarge(bytes: recordWriter.count) }
            throw .unavailable("\(error)")
        }
        storedState.beginTransaction()
        for (offset, change) in changes.enumerated() {
            storedState.apply(change, sequence: firstSequence + Int64(offset))
        }
        if collecting {
            let actorID = actor.map(\.actorID)
            for (offset, change) in changes.enumerated() {
                pendingEvents.append(
                    Event(
                        id: eventIDs[offset], sequence: firstSequence + Int64(offset), createdAt: time,
                        actorID: actorID,
                        change: change))
            }
        }
        if firstChangingCall == nil { firstChangingCall = call ?? 0 }
    }

    /// The events of the last group that committed, handed over once.
    func takeCommittedEvents() -> [Event] {
        defer { committedEvents = [] }
        return committedEvents
    }

    /// Make the group's changes durable. Returns `nil`, or the failure and the first call it takes back.
    func commit() -> (error: StorageError, firstCall: Int)? {
        guard log.pendingCount > 0 else { return nil }
        let firstCall = firstChangingCall ?? 0
        firstChangingCall = nil
        do {
            try log.commit()
        } catch {
            // A subscriber never sees an event whose change was rolled back.
            pendingEvents = []
            storedState.rollBackTransaction()
            diagnostics.log(.error, "commit failed, refusing further changes: \(error)")
            return (.unavailable("\(error)"), firstCall)
        }
        storedState.commitTransaction()
        if collectsEvents {
            committedEvents += pendingEvents
            pendingEvents = []
        }
        finishBackgroundSnapshot(waiting: false)
        if log.bytesSinceSnapshot >= snapshotThresholdBytes && backgroundSnapshot == nil {
            do {
                try startSnapshot()
            } catch {
                diagnostics.log(.warning, "periodic snapshot failed (the log is intact): \(error)")
            }
        }
        return nil
    }

    /// Write a snapshot of the state, so that start-up need not replay what it covers (`merit compact`): once any
    /// snapshot begun in the background is written.
    func snapshot() throws(LogError) {
        finishBackgroundSnapshot(waiting: true)
        let capacity = snapshotCapacity
        let size = try SnapshotCodec.encode(state, capacity: capacity) {
            writer throws(LogError) in
            try writer.withBytes { bytes throws(LogError) in try log.writeSnapshot(bytes) }
            return writer.count
        }
        lastSnapshotBytes = size
    }

    /// Room for a snapshot: the last one and every change since (more than the state needs when changes replaced
    /// rows), so that its buffer is allocated once and never grown by copying; memory never written is never
    /// touched.
    private var snapshotCapacity: Int { lastSnapshotBytes + log.bytesSinceSnapshot + (1 << 16) }

    /// The periodic snapshot: encoded and written on another thread where the file system allows it, so that the
    /// writer is not held up for the time it takes to write and synchronize a file the size of the state; here
    /// otherwise.
    ///
    /// The other thread encodes a copy of the state as of the snapshot's sequence. Copying it is only taking a
    /// reference to its tables; the writer's next change to a table then copies that table's storage (its rows,
    /// not what they hold), once, and the snapshot's copy is freed when it is written.
    private func startSnapshot() throws(LogError) {
        let capacity = snapshotCapacity
        guard let pending = try log.beginSnapshot() else {
            try snapshot()
            return
        }
        let job = BackgroundSnapshot(pending)
        let frozen = state
        DispatchQueue.global(qos: .utility).async { job.write(frozen, capacity: capacity) }
        backgroundSnapshot = job
    }

    /// When the snapshot begun in the background has been written (or, `waiting`, once it is): let the log delete
    /// what it no longer needs, or report the failure.
    private func finishBackgroundSnapshot(waiting: Bool) {
        guard let job = backgroundSnapshot, let outcome = job.outcome(waiting: waiting) else { return }
        backgroundSnapshot = nil
        switch outcome {
        case .success(let size):
            log.finishSnapshot(job.pending)
            lastSnapshotBytes = size
        case .failure(let error):
            diagnostics.log(.warning, "periodic snapshot failed (the log is intact): \(error)")
        }
    }

    /// The last durable log sequence.
    var lastLogSequence: UInt64 { log.lastSequence }

    /// The directory's path and the log's options, for reading its history (the event feed).
    var logReader: LogReader { LogReader(directory: directory, fileSystem: fileSystem, options: options) }

    /// Finish any snapshot being written, then release the directory's lock.
    func close() {
        finishBackgroundSnapshot(waiting: true)
        log.close()
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}

/// Why a change could not be recorded: the engine's errors, which the server maps to the wire's.
enum StorageError: Error, CustomStringConvertible {
    /// The log cannot be written (disk full, I/O error, an earlier failure); nothing was changed.
    case unavailable(String)
    /// The change is larger than a log record may be.
    case tooLarge(bytes: Int)

    var description: String {
        switch self {
        case .unavailable(let reason): "The data directory cannot be written (\(reason)); nothing was changed."
        case .tooLarge(let bytes): "The change is too large to record (\(bytes) bytes)."
        }
    }
}

/// A periodic snapshot encoded and written on another thread: its outcome, once it is known.
private final class BackgroundSnapshot: Sendable {
    let pending: PendingSnapshot
    /// The snapshot's size once written, or why it could not be.
    private let result = Mutex<Result<Int, LogError>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ pending: PendingSnapshot) {
        self.pending = pending
    }

    /// Encode `state` and write it (on the other thread).
    func write(_ state: State, capacity: Int) {
        let outcome = Result { () throws(LogError) -> Int in
            try SnapshotCodec.encode(state, capacity: capacity) { writer throws(LogError) in
                try writer.withBytes { bytes throws(LogError) in try pending.write(bytes) }
                return writer.count
            }
        }
        result.withLock { $0 = outcome }
        done.signal()
    }

    /// The outcome, if the snapshot has been written (with `waiting`, once it has).
    func outcome(waiting: Bool) -> Result<Int, LogError>? {
        if waiting {
            done.wait()
        } else if done.wait(timeout: .now()) != .success {
            return nil
        }
        return result.withLock { $0 }
    }
}
