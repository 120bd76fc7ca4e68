import Dispatch
import MeritDomain

/// Reads the sections of a binary snapshot into a state, on more threads than one.
///
/// Each section's rows are decoded by their own type (`ResourceKind.visitRowType`) in batches, on the calling
/// thread. Each batch then goes to two serial queues in turn: the first gives its rows to the builder of the
/// table's secondary indexes (`TableIndexes.Builder`), the second moves the rows into the table (its rows by id, its
/// ids in order, its creation order), sized beforehand from the section's count. The three stages run at once on
/// different batches, each in order, so a section takes about as long as its longest stage or as its work shared
/// over the cores, whichever is more, rather than their sum. Once the last batch is stored, the builder builds the
/// indexes, running its independent parts at once on the cores there are (a million summaries' shelves by
/// employee and by manager), and they go into the table. Batches go across through `depth` buffers that are
/// reused, so memory stays bounded whatever the section's size; a row is moved into a buffer and out again, never
/// copied.
struct SnapshotSections: RowTypeVisitor {
    /// How many rows go across at a time: enough that handing them over costs nothing, few enough to stay in cache.
    static let batchSize = 256
    /// How many batches may be on their way through the queues.
    static let depth = 4

    var reader: BinaryReader
    private let filler = Filler()
    /// The rows of the section being read.
    private var count = 0
    /// The kinds of the sections read so far.
    private var seen: Set<ResourceKind> = []

    init(reader: BinaryReader) {
        self.reader = reader
    }

    /// The state the sections made, moved out: no second reference to it is left to make the engine's first
    /// change copy a table.
    consuming func finish() -> State {
        var state = State()
        swap(&state, &filler.state)
        return state
    }

    /// Read one section: its header, then its rows.
    mutating func readSection() throws(StoredFormError) {
        reader.what = "snapshot"
        let code = try reader.byte()
        guard let kind = ResourceKind(rawValue: code) else {
            throw reader.failure("a section holds resources of unknown kind \(code); upgrade merit")
        }
        let version = Int(try reader.byte())
        guard version >= 1 && version <= kind.schemaVersion else {
            throw reader.failure(
                "the \(kind) section has schema version \(version); this merit reads up to \(kind.schemaVersion)")
        }
        guard seen.insert(kind).inserted else { throw reader.failure("a second \(kind) section") }
        reader.what = "snapshot \(kind)"
        reader.schemaVersion = version
        count = try reader.varint()
        // Every row takes at least a byte: a count beyond the bytes left is damage, not a size to reserve.
        guard count <= reader.remaining else { throw reader.failure("the \(kind) section claims \(count) rows") }
        if try !kind.visitRowType(&self) {
            for _ in 0..<count { filler.state.restore(try Resource.decode(kind, from: &reader)) }
        }
    }

    /// Read the section's `count` rows into the table of `Row`s.
    mutating func visit<Row: TableRow>(_ type: Row.Type) throws(StoredFormError) {
        let filler = self.filler
        filler.state.reserveCapacity(count, for: Row.self)
        let batches = Batches<Row>(capacity: min(count, Self.batchSize))
        let indexes = IndexBuilder<Row>(rows: count)
        // However the section ends, the queues are done with every batch before they are freed (the indexing
        // queue first: it is what hands batches to the storing one).
        defer {
            filler.indexing.sync {}
            filler.storing.sync {}
        }
        var left = count
        var next = 0
        while left > 0 {
            batches.free.wait()
            let size = min(left, batches.capacity)
            let rows = batches.rows(next)
            do {
                while batches.counts[next] < size {
                    (rows + batches.counts[next]).initialize(to: try Row(from: &reader))
                    batches.counts[next] += 1
                }
            } catch {
                batches.free.signal()
                throw error
            }
            let batch = next
            filler.indexing.async {
                let rows = batches.rows(batch)
                for index in 0..<size { indexes.index(&rows[index]) }
                filler.storing.async {
                    batches.counts[batch] = 0
                    let moved = UnsafeMutableBufferPointer(start: batches.rows(batch), count: size)
                    if let id = filler.state.restore(moving: moved, indexing: false) { filler.repeated = id.text }
                    batches.free.signal()
                }
            }
            left -= size
            next = (next + 1) % Self.depth
        }
        filler.indexing.sync {}
        filler.storing.sync {}
        if let repeated = filler.repeated { throw reader.failure("the section holds \(repeated) twice") }
        filler.state.install(indexes.build(), for: Row.self)
    }

    /// The state, and the queues that index rows and store them into it.
    private final class Filler: @unchecked Sendable {
        // @unchecked: while a section is read, `state` and `repeated` are touched only by the blocks on `storing`;
        // the reading thread touches them only between sections, after `sync` has waited for those blocks.
        var state = State()
        /// The id of a row that replaced another (the section is damaged).
        var repeated: String?
        let indexing = DispatchQueue(label: "merit.snapshot.indexing")
        let storing = DispatchQueue(label: "merit.snapshot.storing")
    }

    /// The secondary indexes of a section's rows, taken in on the indexing queue and built once all are in.
    private final class IndexBuilder<Row: TableRow>: @unchecked Sendable {
        // @unchecked: touched only by the blocks on the indexing queue, and by the reading thread after `sync` has
        // waited for them.
        private var builder: Row.Indexes.Builder

        init(rows: Int) {
            builder = Row.Indexes.Builder(rows: rows)
        }

        /// Take in `row`, read where it lies: `inout` only so that it is not copied out of its buffer first (a
        /// retain and a release of everything it holds).
        func index(_ row: inout Row) {
            builder.add(row)
        }

        /// The indexes of every row taken in, their parts built at once on the cores there are.
        func build() -> Row.Indexes {
            var builder = Row.Indexes.Builder(rows: 0)
            swap(&builder, &self.builder)
            return builder.build { parts, part in
                withoutActuallyEscaping(part) { part in
                    // Each part writes only its own result, and `concurrentPerform` returns once all are done.
                    nonisolated(unsafe) let part = part
                    DispatchQueue.concurrentPerform(iterations: parts) { part($0) }
                }
            }
        }
    }

    /// The buffers rows go across in, and how many rows each holds.
    private final class Batches<Row>: @unchecked Sendable {
        // @unchecked: a buffer belongs to the reading thread from `free.wait()` until it is handed to the indexing
        // queue, then to it, then to the storing queue until `free.signal()`; the semaphore and the queues order
        // each hand-over.
        let capacity: Int
        private let storage: UnsafeMutablePointer<Row>
        /// How many rows each buffer holds (initialized, from its start).
        let counts: UnsafeMutablePointer<Int>
        /// Signalled once per buffer that may be filled.
        let free = DispatchSemaphore(value: 0)

        init(capacity: Int) {
            self.capacity = max(capacity, 1)
            storage = .allocate(capacity: self.capacity * SnapshotSections.depth)
            counts = .allocate(capacity: SnapshotSections.depth)
            counts.initialize(repeating: 0, count: SnapshotSections.depth)
            // Made at zero and raised: libdispatch traps when a semaphore is freed below the value it was made with.
            for _ in 0..<SnapshotSections.depth { free.signal() }
        }

        /// The start of buffer `index`.
        func rows(_ index: Int) -> UnsafeMutablePointer<Row> {
            storage + index * capacity
        }

        deinit {
            for index in 0..<SnapshotSections.depth { rows(index).deinitialize(count: counts[index]) }
            storage.deallocate()
            counts.deallocate()
        }
    }
}
