import Dispatch
import MeritDomain

/// Applies replayed changes to the state on a second thread, while the thread that reads the log goes on checking
/// and decoding the records after them.
///
/// Decoding a change and applying it each take a good share of replay, so on two cores start-up takes little more
/// than the longer of the two instead of their sum. The changes go across in batches of `batchSize` through
/// `depth` slots that are reused, so memory stays bounded whatever the log's length; each change is moved into a
/// slot and moved out again, never copied. The people the changes replace come back in the same slot, to be freed
/// by the producer, which allocated their strings: glibc frees memory far more cheaply on the thread that allocated
/// it (freeing on the worker made replay slower than on one thread). A replay shorter than one batch starts no
/// thread: `finish()` applies it in place.
///
/// One thread calls `add` and `finish` (the producer); the worker touches only the slots handed to it and, until
/// `finish` returns, the state. Semaphores order every hand-over both ways.
final class ReplayPipeline: @unchecked Sendable {
    // @unchecked: the producer and the worker never touch the same memory without a semaphore between them.

    static let batchSize = 1024
    static let depth = 4

    /// The state the changes are applied to: set it (from a snapshot) before the first `add`, and read it only
    /// from what `finish()` returns.
    var state: State

    /// One slot's changes and their sequences (kept apart: a tuple of the two is copied, not moved), and the
    /// people its changes replaced.
    private struct Slot {
        let changes = UnsafeMutablePointer<Change>.allocate(capacity: ReplayPipeline.batchSize)
        let sequences = UnsafeMutablePointer<Int64>.allocate(capacity: ReplayPipeline.batchSize)
        let replaced = UnsafeMutablePointer<Resource>.allocate(capacity: ReplayPipeline.batchSize)
        /// How many changes the slot holds (-1: the end); set by the producer before it hands the slot over.
        let count = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        /// How many replaced resources the worker left in `replaced`.
        let replacedCount = UnsafeMutablePointer<Int>.allocate(capacity: 1)

        init() {
            count.initialize(to: 0)
            replacedCount.initialize(to: 0)
        }

        /// Free the replaced resources the worker left.
        func freeReplaced() {
            replaced.deinitialize(count: replacedCount.pointee)
            replacedCount.pointee = 0
        }

        func deallocate() {
            changes.deallocate()
            sequences.deallocate()
            replaced.deallocate()
            count.deallocate()
            replacedCount.deallocate()
        }
    }

    private let slots: [Slot]
    /// The slot being filled, and how many changes it holds so far.
    private var filling = 0
    private var filled = 0
    private var workerStarted = false
    private var finished = false
    /// Signalled for each slot handed over (the worker waits on it), for each slot applied (the producer waits on
    /// it before filling a slot again), and when the worker stops.
    private let ready = DispatchSemaphore(value: 0)
    private let free = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// Replay through a pipeline: `body` adds the changes; then the pipeline finishes, also when `body` throws, so
    /// that no worker is left waiting (a started worker holds its pipeline until `finish()`).
    static func run<Failure: Error>(_ body: (ReplayPipeline) throws(Failure) -> Void) throws(Failure) -> State {
        let pipeline = ReplayPipeline()
        do {
            try body(pipeline)
        } catch {
            _ = pipeline.finish()
            throw error
        }
        return pipeline.finish()
    }

    init() {
        state = State()
        slots = (0..<Self.depth).map { _ in Slot() }
        // Made at zero and raised: libdispatch traps when a semaphore is freed below the value it was made with.
        // The first slot is the producer's from the start.
        for _ in 1..<Self.depth { free.signal() }
    }

    /// Queue `change`, the event numbered `sequence`, to be applied after every change queued before it.
    func add(_ change: consuming Change, sequence: Int64) {
        let slot = slots[filling]
        (slot.changes + filled).initialize(to: consume change)
        slot.sequences[filled] = sequence
        filled += 1
        if filled == Self.batchSize { handOver(count: filled) }
    }

    /// Apply everything queued, stop the worker, and give back the state. Call it exactly once, also when replay
    /// failed: until then a started worker waits for more.
    func finish() -> State {
        precondition(!finished, "ReplayPipeline.finish() called twice")
        finished = true
        if workerStarted {
            if filled > 0 { handOver(count: filled) }
            handOver(count: -1)
            stopped.wait()
        } else {
            apply(slots[filling], count: filled)
        }
        filled = 0
        // Free here, on the thread that allocated them, the people the last slots replaced; and move the state
        // out, so that no second reference to it makes the engine's first change copy it.
        for slot in slots { slot.freeReplaced() }
        var result = State()
        swap(&result, &state)
        return result
    }

    /// Give the slot being filled to the worker (starting it the first time), then take the next one once the
    /// worker is done with it.
    private func handOver(count: Int) {
        slots[filling].count.pointee = count
        ready.signal()
        if !workerStarted {
            workerStarted = true
            // Unowned: the producer holds the pipeline until `finish()` has seen the worker stop, and then the
            // pipeline is freed where the producer lets go of it, never on the worker. The worker's last act is
            // to signal `stopped`, which the block holds on its own.
            DispatchQueue.global(qos: .userInitiated).async { [unowned self, stopped] in
                self.work()
                stopped.signal()
            }
        }
        filling = (filling + 1) % Self.depth
        filled = 0
        if count >= 0 {
            free.wait()
            slots[filling].freeReplaced()
        }
    }

    /// The worker: apply each slot as it is handed over, until the end mark (the caller then signals `stopped`).
    private func work() {
        var next = 0
        while true {
            ready.wait()
            let count = slots[next].count.pointee
            if count < 0 { break }
            apply(slots[next], count: count)
            free.signal()
            next = (next + 1) % Self.depth
        }
    }

    private func apply(_ slot: Slot, count: Int) {
        var replacedCount = 0
        for index in 0..<count {
            if let replaced = state.applyReturningReplaced(
                (slot.changes + index).move(), sequence: slot.sequences[index])
            {
                (slot.replaced + replacedCount).initialize(to: replaced)
                replacedCount += 1
            }
        }
        slot.replacedCount.pointee = replacedCount
    }

    deinit {
        // (A started worker holds the pipeline until `finish()` stops it, so this runs only after that, or for a
        // pipeline that never started one.) Free the changes and people of a pipeline that was never finished.
        slots[filling].changes.deinitialize(count: filled)
        for slot in slots {
            slot.freeReplaced()
            slot.deallocate()
        }
    }
}
