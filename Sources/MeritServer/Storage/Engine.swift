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
/// state inside a transaction (so that later requests of the same group see them); at the end of the group `seal()`
/// hands its records over as a `DurableGroup`, whose `makeDurable()` writes them with one write and one fsync, and
/// only then are the group's responses written. `makeDurable()` may run on another thread (the connection's
/// response writer) while this one serves the next group on top of the sealed one's changes: the state keeps how
/// to undo every change not yet known durable, and forgets it group by group as they become durable. If a commit
/// fails, every change after the last durable group is rolled back, so the state in memory is exactly what is
/// durable; the groups sealed after it fail whole (their reads may have seen the lost changes), and the log refuses
/// every later change with `storage_unavailable`. `commit()` is `seal()` and `makeDurable()` on this thread.
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
    /// Whether the events of each group are kept for `sealedEvents` (a session subscribed to them); otherwise the
    /// write path builds none.
    var collectsEvents = false
    /// The events recorded in the current group, while `collectsEvents`.
    private var pendingEvents: [Event] = []
    /// The events of the group sealed last, while `collectsEvents`; emptied by reading them.
    private var sealedEvents: [Event] = []
    /// How far the sealed groups have been made durable, as their `makeDurable` (on whichever thread) reports it.
    private let progress = CommitProgress()
    /// Where the transaction stood at the end of each sealed group not yet seen durable, oldest first.
    private var inFlight: [State.TransactionMark] = []
    /// The number of groups seen durable (`progress.durable` as last absorbed).
    private var absorbedDurable = 0
    /// A commit failed and its changes, and every later one, were rolled back while a group was being served: that
    /// group's answers may rest on them, so it fails whole.
    private var rolledBackDuringGroup = false
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

    /// The events of the group sealed last (while `collectsEvents`), handed over once: what a subscribed session
    /// is sent after the group's responses, if its commit succeeds.
    func takeSealedEvents() -> [Event] {
        defer { sealedEvents = [] }
        return sealedEvents
    }

    /// End the current group: hand its records over for `makeDurable()`, or `nil` when nothing is to be made
    /// durable (no change, and every earlier group known durable). Groups must be made durable in the order they
    /// were sealed, one at a time.
    func seal() -> DurableGroup? {
        absorbCompletions()
        let firstCall = firstChangingCall ?? 0
        firstChangingCall = nil
        if collectsEvents {
            sealedEvents = pendingEvents
            pendingEvents = []
        }
        requestsSinceSeal = 0
        if rolledBackDuringGroup {
            rolledBackDuringGroup = false
            sealedEvents = []
            return DurableGroup(failing: .afterFailure(of: log))
        }
        // Only while no sealed group is being written may the log's files be touched here.
        if progress.completed == sealedCount {
            finishBackgroundSnapshot(waiting: false)
        }
        let records = log.seal()
        guard records != nil || !inFlight.isEmpty else { return nil }
        // The group's mark goes in before anything can take in the earlier groups' outcomes: once they are durable,
        // nothing may commit the transaction under this group's changes.
        inFlight.append(state.transactionMark())
        sealedCount += 1
        let group = DurableGroup(records: records, firstCall: firstCall, log: log, progress: progress)
        let due = records != nil && log.bytesSinceSnapshot >= snapshotThresholdBytes && backgroundSnapshot == nil
        guard due else { return group }
        // A snapshot is of durable state only: the groups before this one are written first, and this one here.
        progress.wait(forCompleted: sealedCount - 1)
        _ = group.makeDurable()
        absorbCompletions()
        if log.failure == nil && inFlight.isEmpty {
            do {
                try startSnapshot()
            } catch {
                diagnostics.log(.warning, "periodic snapshot failed (the log is intact): \(error)")
            }
        }
        return group
    }

    /// Make the group's changes durable on this thread. Returns `nil`, or the failure and the first call it takes
    /// back.
    func commit() -> (error: StorageError, firstCall: Int)? {
        guard let group = seal() else { return nil }
        let failure = group.makeDurable()
        absorbCompletions()
        return failure
    }

    /// Wait until every sealed group has been made durable (or has failed), and take in what that changed: before
    /// reading the log's files or its durable sequence, snapshotting, or closing.
    func drain() {
        progress.wait(forCompleted: sealedCount)
        absorbCompletions()
    }

    /// Whether the current group has changed something not yet sealed.
    var hasPendingChanges: Bool { log.pendingCount > 0 }

    /// The number of groups sealed with a `DurableGroup`.
    private var sealedCount = 0
    /// The requests begun since the last seal.
    private var requestsSinceSeal = 0

    /// A request of the current group begins: take in what the commits written meanwhile reported, so that it reads
    /// the state as it is durable if one failed.
    func beginRequest() {
        absorbCompletions()
        requestsSinceSeal += 1
    }

    /// Take in what the sealed groups' commits reported: forget how to undo the changes of the groups now durable,
    /// and after a failure roll back everything since the last durable group.
    private func absorbCompletions() {
        let (durable, failed) = progress.counts
        if durable > absorbedDurable {
            let newlyDurable = durable - absorbedDurable
            storedState.forgetUndo(through: inFlight[newlyDurable - 1])
            inFlight.removeFirst(newlyDurable)
            absorbedDurable = durable
            if inFlight.isEmpty && log.pendingCount == 0 { storedState.commitTransaction() }
        }
        guard failed, !inFlight.isEmpty || log.pendingCount > 0 || storedState.inTransaction else { return }
        // A subscriber never sees an event whose change was rolled back.
        pendingEvents = []
        sealedEvents = []
        storedState.rollBackTransaction()
        log.discardPending()
        inFlight.removeAll()
        firstChangingCall = nil
        // Requests of this group served before the rollback may have read what it undid.
        if requestsSinceSeal > 0 { rolledBackDuringGroup = true }
        diagnostics.log(.error, "commit failed, refusing further changes: \(log.failure.map { "\($0)" } ?? "")")
    }

    /// Write a snapshot of the state, so that start-up need not replay what it covers (`merit compact`): once any
    /// snapshot begun in the background is written.
    func snapshot() throws(LogError) {
        drain()
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
        runAtLowestPriority { job.write(frozen, capacity: capacity) }
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

    /// The last durable log sequence, once every sealed group is written.
    var lastLogSequence: UInt64 {
        drain()
        return log.lastSequence
    }

    /// The directory's path and the log's options, for reading its history (the event feed): call `drain()` first.
    var logReader: LogReader { LogReader(directory: directory, fileSystem: fileSystem, options: options) }

    /// Finish any group being written and any snapshot, then release the directory's lock.
    func close() {
        drain()
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

    /// Unavailable because an earlier commit to `log` failed.
    static func afterFailure(of log: WriteAheadLog) -> StorageError {
        .unavailable(log.failure.map { "\($0)" } ?? "an earlier commit failed")
    }

    var description: String {
        switch self {
        case .unavailable(let reason): "The data directory cannot be written (\(reason)); nothing was changed."
        case .tooLarge(let bytes): "The change is too large to record (\(bytes) bytes)."
        }
    }
}

/// Run `body` on a thread of its own at the lowest priority (nice 19), so that a periodic snapshot takes only what
/// serving leaves of the processors. The thread ends with `body`: a thread cannot raise its priority again without
/// privileges, so a pooled one must never be lowered. (On Linux, `setpriority` of process 0 is the calling thread's.)
private func runAtLowestPriority(_ body: @escaping @Sendable () -> Void) {
    final class Job: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Job(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(
        &thread, nil,
        { context in
            guard let context else { return nil }
            let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            job.body()
            return nil
        }, context)
    if started == 0 {
        pthread_detach(thread)
    } else {
        Unmanaged<Job>.fromOpaque(context).release()
        DispatchQueue.global(qos: .utility).async(execute: body)
    }
}

/// A sealed group's records (`Engine.seal()`), to make durable on any thread, in the order groups were sealed.
final class DurableGroup: @unchecked Sendable {
    private let records: SealedRecords?
    private let firstCall: Int
    /// Used only through `write`, which the log allows on another thread for sealed groups taken in turn.
    private let log: WriteAheadLog?
    private let progress: CommitProgress?
    /// Set on the thread that made the group durable, and read after the hand-over that follows it.
    private var outcome: Outcome?

    typealias Outcome = (error: StorageError, firstCall: Int)?

    init(records: SealedRecords?, firstCall: Int, log: WriteAheadLog, progress: CommitProgress) {
        self.records = records
        self.firstCall = firstCall
        self.log = log
        self.progress = progress
    }

    /// A group that fails whole (served while a failed commit was rolled back).
    init(failing error: StorageError) {
        self.records = nil
        self.firstCall = 0
        self.log = nil
        self.progress = nil
        self.outcome = .some((error, 0))
    }

    /// Write the group's records durably (once; later calls answer the same). Returns `nil`, or the failure and the
    /// first call whose answer it takes back: every call when an earlier group failed, since this group was
    /// served on top of that group's changes.
    func makeDurable() -> Outcome {
        if let outcome { return outcome }
        let result = durable()
        outcome = .some(result)
        return result
    }

    private func durable() -> Outcome {
        guard let log, let progress else { return nil }
        defer { progress.complete() }
        if progress.failed { return (.afterFailure(of: log), 0) }
        if let records {
            do {
                try log.write(records)
            } catch {
                progress.fail()
                return (.unavailable("\(error)"), firstCall)
            }
        }
        progress.succeed()
        return nil
    }
}

/// How far the sealed groups have been made durable, shared by the thread that seals them and the one that writes.
/// Read before every request, so in atomics rather than behind a lock.
final class CommitProgress: Sendable {
    private let durable = Atomic<Int>(0)
    private let failedFlag = Atomic<Bool>(false)
    private let completedCount = Atomic<Int>(0)
    private let signal = DispatchSemaphore(value: 0)

    /// How many groups were made durable (the first ones sealed, since after a failure none is), and whether a
    /// group's commit failed: the flag is read first, so that a failure is never seen without the groups made
    /// durable before it.
    var counts: (durable: Int, failed: Bool) {
        let failed = failedFlag.load(ordering: .acquiring)
        return (durable.load(ordering: .acquiring), failed)
    }
    /// Whether a group's commit failed.
    var failed: Bool { failedFlag.load(ordering: .acquiring) }

    func succeed() { durable.add(1, ordering: .releasing) }
    func fail() { failedFlag.store(true, ordering: .releasing) }

    /// A group is done, durable or not.
    func complete() {
        completedCount.add(1, ordering: .releasing)
        signal.signal()
    }

    /// How many groups are done, durable or not.
    var completed: Int { completedCount.load(ordering: .acquiring) }

    /// Wait until `count` groups are done.
    func wait(forCompleted count: Int) {
        while completed < count { signal.wait() }
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
        // Not waiting, the outcome is read under its lock alone: a semaphore's wait with a timeout of now is a
        // system call, and this is asked between groups.
        if waiting { done.wait() }
        return result.withLock { $0 }
    }
}
