/// A record a table holds: identified, with its fields listed once, and with the indexes its fields feed.
public protocol TableRow: CatalogResource, Identified {
    /// The secondary indexes of the table, kept up to date on every write, delete and rollback.
    associatedtype Indexes: TableIndexes<Self> = NoIndexes<Self>

    var id: ID<Self> { get }
}

/// The secondary indexes of a table: told of every row that enters or leaves it.
public protocol TableIndexes<Row>: Sendable, Equatable {
    associatedtype Row
    /// Empty indexes.
    init()
    /// Index `row`.
    mutating func insert(_ row: Row)
    /// Forget `row`, exactly as it was indexed.
    mutating func remove(_ row: Row)
    /// Whether `old` and `new` differ in a field an index is keyed by: when they do not, an update leaves the
    /// indexes as they are (most updates change a name or a flag).
    static func keysDiffer(_ old: Row, _ new: Row) -> Bool
    /// Make room for `rows` rows in the indexes that hold an entry for every row (a snapshot says how many rows a
    /// table holds before they are read). Nothing, by default.
    mutating func reserveCapacity(_ rows: Int)

    /// What builds the indexes of a snapshot's rows, given all at once in creation order: by default it inserts
    /// each in turn; indexes too large for that to be quick gather their rows' keys and sort them once instead.
    associatedtype Builder: TableIndexBuilder<Self> = InsertingIndexBuilder<Self>
}

extension TableIndexes {
    public mutating func reserveCapacity(_ rows: Int) {}
}

/// Builds the indexes of many rows given in creation order, each id once (a snapshot's; one that repeats an id is
/// refused as damaged before its indexes are built): what inserting each in turn would give.
public protocol TableIndexBuilder<Indexes> {
    associatedtype Indexes: TableIndexes
    /// A builder for `rows` rows.
    init(rows: Int)
    /// Take in `row`, the next in creation order.
    mutating func add(_ row: Indexes.Row)
    /// The indexes of every row taken in. `concurrently` runs parts of the work that are independent of each other,
    /// at once where there are cores for it: it calls its second argument with each of `0..<parts` and returns when
    /// all are done.
    consuming func build(concurrently: (_ parts: Int, _ part: (Int) -> Void) -> Void) -> Indexes
}

/// Builds indexes by inserting each row in turn.
public struct InsertingIndexBuilder<Indexes: TableIndexes>: TableIndexBuilder {
    private var indexes = Indexes()

    public init(rows: Int) {
        indexes.reserveCapacity(rows)
    }

    public mutating func add(_ row: Indexes.Row) {
        indexes.insert(row)
    }

    public consuming func build(concurrently: (_ parts: Int, _ part: (Int) -> Void) -> Void) -> Indexes {
        indexes
    }
}

/// The indexes of a table that needs none beyond its ids.
public struct NoIndexes<Row>: TableIndexes {
    public init() {}
    public mutating func insert(_ row: Row) {}
    public mutating func remove(_ row: Row) {}
    public static func keysDiffer(_ old: Row, _ new: Row) -> Bool { false }
}

/// The rows of one kind of resource, by id, with their ids in order and their secondary indexes, and the undo of
/// every change made since `beginTransaction()`.
///
/// A new resource's storage, listing order and rollback are this one declaration: `Table<Review>`.
///
/// The rows lie in one array in creation order, and a hash table of ids (`IDPositions`) gives each id's place in
/// it: a table of a million summaries is a million rows side by side and a small table of ids, where a dictionary
/// of the rows themselves would spread them over twice as many buckets and fill the buckets at random.
public struct Table<Row: TableRow>: Sendable {
    /// The rows in the order they were first written: creation order, which id order only approximates when ids
    /// were made by runs with different clocks. `nil` where a row was removed, until enough such holes are there to
    /// close them up.
    private var slots: [Row?] = []
    /// Where each row lies in `slots`.
    private var positions = IDPositions<Row>()
    /// How many of `slots` are holes.
    private var holes = 0
    /// Every row's id, ascending: what lists page through.
    public private(set) var ids = SortedIDs<Row>()
    /// The row type's secondary indexes.
    public private(set) var indexes = Row.Indexes()
    /// Changes whenever a row is written or removed, also by a rollback, so that what is derived from the table can
    /// be kept until it does.
    public private(set) var revision = 0
    /// How to undo each change since `beginTransaction()`: the id and the row it replaced (`nil`: there was none).
    private var journal: [(id: ID<Row>, old: Row?)]?
    /// The transaction's entry number of the journal's first entry: entries before it were forgotten and dropped.
    private var journalBase = 0
    /// How many of the journal's first entries are forgotten (`forgetUndo(before:)`) but not yet dropped: they are
    /// dropped together once they are half the journal, so that forgetting costs no more than journaling.
    private var journalForgotten = 0

    /// An empty table.
    public init() {}

    /// The row with `id`.
    public subscript(id: ID<Row>) -> Row? {
        guard let position = positions[id] else { return nil }
        return slots[position]
    }

    /// The number of rows.
    public var count: Int { positions.count }

    /// The rows by id (made on demand, for tests).
    public var rows: [ID<Row>: Row] {
        Dictionary(uniqueKeysWithValues: slots.lazy.compactMap { $0 }.map { ($0.id, $0) })
    }

    /// Every row's id in creation order.
    public var order: [ID<Row>] { slots.compactMap { $0?.id } }

    /// The rows in id order.
    public var inOrder: [Row] { ids.compactMap { self[$0] } }

    /// The rows in creation order.
    public var inCreationOrder: [Row] { slots.compactMap { $0 } }

    /// The rows in creation order, read in place.
    public var creationOrdered: some Sequence<Row> { slots.lazy.compactMap { $0 } }

    /// The rows of `ids` that exist, in their order.
    public func rows(_ ids: some Sequence<ID<Row>>) -> [Row] { ids.compactMap { self[$0] } }

    /// Call `body` with each row of `ids` that exists, in their order, keeping none of them: a query that reads a
    /// field or two of many rows builds no array of them. (Reading a row still copies it, a retain of each of its
    /// strings and arrays.)
    public func forEachRow(_ ids: some Sequence<ID<Row>>, _ body: (Row) -> Void) {
        for id in ids {
            if let position = positions[id], let row = slots[position] { body(row) }
        }
    }

    /// The rows of `ids` that exist and satisfy `isIncluded`, in their order; each row is read once, and only those
    /// included are kept.
    public func rows(_ ids: some Sequence<ID<Row>>, where isIncluded: (Row) -> Bool) -> [Row] {
        var found: [Row] = []
        for id in ids {
            guard let position = positions[id], let row = slots[position] else { continue }
            if isIncluded(row) { found.append(row) }
        }
        return found
    }

    /// The number of rows of `ids` that exist and satisfy `isCounted`.
    public func count(_ ids: some Sequence<ID<Row>>, where isCounted: (Row) -> Bool) -> Int {
        var count = 0
        forEachRow(ids) { row in
            if isCounted(row) { count += 1 }
        }
        return count
    }

    /// Store `row`, replacing the one with its id; returns the row it replaced.
    @discardableResult
    public mutating func write(_ row: consuming Row) -> Row? {
        write(row, indexing: true)
    }

    /// `write(_:)`, leaving the secondary indexes alone when not `indexing` (a snapshot's rows, indexed apart).
    @inline(__always)
    private mutating func write(_ row: consuming Row, indexing: Bool) -> Row? {
        // One hash lookup finds the row's place or makes it, and the old value is swapped out rather than copied:
        // replay does this a million times.
        let id = row.id
        let (position, isNew) = positions.place(of: id, next: slots.count)
        if isNew {
            journal?.append((id, nil))
            ids.insert(id)
            if indexing { indexes.insert(row) }
            slots.append(row)
            revision &+= 1
            return nil
        }
        // Swapped with the row where it lies (`!`: a row's place is never a hole), not through an optional, whose
        // unwrapping would copy the old row out.
        var old = row
        swap(&old, &slots[position]!)
        journal?.append((id, old))
        if indexing && Self.keysDiffer(old, inPlace: &slots[position]!) {
            indexes.remove(old)
            Self.index(inPlace: &slots[position]!, in: &indexes)
        }
        revision &+= 1
        return old
    }

    /// Whether `old` and `new` differ in an indexed field; `new` is `inout` only so that it is read where it lies in
    /// the table, not copied out (replay does this a million times).
    private static func keysDiffer(_ old: Row, inPlace new: inout Row) -> Bool {
        Row.Indexes.keysDiffer(old, new)
    }

    /// Index `row`, read where it lies.
    private static func index(inPlace row: inout Row, in indexes: inout Row.Indexes) {
        indexes.insert(row)
    }

    /// Remove the row with `id`; returns it.
    @discardableResult
    public mutating func remove(_ id: ID<Row>) -> Row? {
        guard let old = take(id) else { return nil }
        journal?.append((id, old))
        revision &+= 1
        return old
    }

    /// Take the row with `id` out of the table, its ids and its indexes.
    private mutating func take(_ id: ID<Row>) -> Row? {
        guard let position = positions.removeValue(forKey: id), let old = slots[position].take() else { return nil }
        ids.remove(id)
        indexes.remove(old)
        holes += 1
        closeHoles()
        return old
    }

    /// Drop the holes at the end, and close up the others once they are more than the rows: each row then moves
    /// once for at least as many removals.
    private mutating func closeHoles() {
        while holes > 0, let last = slots.last, last == nil {
            slots.removeLast()
            holes -= 1
        }
        guard holes > 16 && holes > slots.count / 2 else { return }
        var kept: [Row?] = []
        kept.reserveCapacity(slots.count - holes)
        for index in slots.indices {
            guard let row = slots[index].take() else { continue }
            positions.set(row.id, to: kept.count)
            kept.append(row)
        }
        slots = kept
        holes = 0
    }

    // MARK: - Restoring a snapshot

    /// Make room for `additional` more rows, so that a table filled from a snapshot, which says how many rows it
    /// holds, never grows (and rehashes) on the way.
    public mutating func reserveCapacity(_ additional: Int) {
        slots.reserveCapacity(slots.count + additional)
        positions.reserveCapacity(positions.count + additional)
        ids.reserveCapacity(ids.count + additional)
    }

    /// Write each of `rows`, moving it out of the buffer (which is left uninitialized), and index it unless its
    /// indexes are built apart (`indexing` false; see `State.restore(moving:indexing:)`). Returns the id of a row
    /// that replaced another, if any did: a snapshot never holds an id twice.
    mutating func restore(moving rows: UnsafeMutableBufferPointer<Row>, indexing: Bool) -> ID<Row>? {
        guard let base = rows.baseAddress else { return nil }
        positions.prefetch(rows.indices.lazy.map { base[$0].id })
        var repeated: ID<Row>?
        for index in 0..<rows.count {
            if let replaced = write((base + index).move(), indexing: indexing) { repeated = replaced.id }
        }
        return repeated
    }

    /// Put in the indexes of the rows restored without indexing them: what indexing each of them gives, in order.
    mutating func install(_ indexes: consuming Row.Indexes) {
        self.indexes = indexes
    }

    // MARK: - Transactions

    /// Start recording how to undo the changes that follow.
    mutating func beginTransaction() {
        if journal == nil { journal = [] }
    }

    /// The changes are durable: forget how to undo them.
    mutating func commitTransaction() {
        journal = nil
        journalBase = 0
        journalForgotten = 0
    }

    /// The number of changes made in the transaction so far: a mark for `forgetUndo(before:)`.
    var journalMark: Int { journalBase + (journal?.count ?? 0) }

    /// The transaction's changes before `mark` are durable: forget how to undo them, keeping the later ones'.
    mutating func forgetUndo(before mark: Int) {
        guard let count = journal?.count, mark - journalBase > journalForgotten else { return }
        journalForgotten = mark - journalBase
        if journalForgotten > 64 && journalForgotten * 2 > count {
            journal!.removeFirst(journalForgotten)
            journalBase = mark
            journalForgotten = 0
        }
    }

    /// Undo every change since `beginTransaction()` (or the last `forgetUndo(before:)`), newest first.
    mutating func rollBackTransaction() {
        guard let entries = journal else { return }
        let forgotten = journalForgotten
        journal = nil
        journalBase = 0
        journalForgotten = 0
        for (id, old) in entries[forgotten...].reversed() {
            if let position = positions[id], let old {
                // An update: the row it replaced goes back in its place.
                guard let current = slots[position] else { preconditionFailure("a row's place is a hole") }
                indexes.remove(current)
                indexes.insert(old)
                slots[position] = old
                continue
            }
            _ = take(id)
            if let old {
                // A row that was removed comes back at the end: creation order only matters for rows never removed.
                ids.insert(id)
                indexes.insert(old)
                positions.set(id, to: slots.count)
                slots.append(old)
            }
        }
        revision &+= 1
    }

    /// Whether the indexes are exactly what indexing every row afresh gives, and every row lies where its id says
    /// (for tests of rollback and replay).
    public var indexesAreConsistent: Bool {
        var rebuilt = Row.Indexes()
        var rebuiltIDs = SortedIDs<Row>()
        var placed = true
        var rows = 0
        for (position, slot) in slots.enumerated() {
            guard let row = slot else { continue }
            rebuilt.insert(row)
            rebuiltIDs.insert(row.id)
            placed = placed && positions[row.id] == position
            rows += 1
        }
        return rebuilt == indexes && rebuiltIDs == ids && placed && rows == positions.count
            && rows + holes == slots.count
    }
}

extension Table: Equatable {
    /// Tables are equal when they hold the same rows, in the same creation order and the same indexes (whatever
    /// their history).
    public static func == (lhs: Table, rhs: Table) -> Bool {
        lhs.count == rhs.count && lhs.creationOrdered.elementsEqual(rhs.creationOrdered) && lhs.ids == rhs.ids
            && lhs.indexes == rhs.indexes
    }
}

/// Ids grouped by a key (employees by manager, reviews by cycle), each group in id order.
public struct GroupIndex<Key: Hashable & Sendable, Row: Identified>: Sendable, Equatable {
    public private(set) var groups: [Key: SortedIDs<Row>] = [:]

    /// An empty index.
    public init() {}

    /// Make room for `count` groups.
    public mutating func reserveCapacity(groups count: Int) {
        groups.reserveCapacity(count)
    }

    /// The ids under `key`, ascending (none when there are none).
    public subscript(key: Key) -> SortedIDs<Row> { groups[key] ?? SortedIDs() }

    /// File `id` under `key` (nothing when `key` is `nil`).
    public mutating func insert(_ id: ID<Row>, under key: Key?) {
        guard let key else { return }
        groups[key, default: SortedIDs()].insert(id)
    }

    /// Take `id` out of `key`'s group, dropping the group when it empties.
    public mutating func remove(_ id: ID<Row>, from key: Key?) {
        guard let key, var group = groups.removeValue(forKey: key) else { return }
        group.remove(id)
        if !group.isEmpty { groups[key] = group }
    }
}
