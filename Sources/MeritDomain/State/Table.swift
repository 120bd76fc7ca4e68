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
public struct Table<Row: TableRow>: Sendable {
    /// The rows, by id.
    public private(set) var rows: [ID<Row>: Row] = [:]
    /// Every row's id, ascending: what lists page through.
    public private(set) var ids = SortedIDs<Row>()
    /// Every row's id in the order the rows were first written: creation order, which id order only approximates
    /// when ids were made by runs with different clocks.
    public private(set) var order: [ID<Row>] = []
    /// The row type's secondary indexes.
    public private(set) var indexes = Row.Indexes()
    /// Changes whenever a row is written or removed, also by a rollback, so that what is derived from the table can
    /// be kept until it does.
    public private(set) var revision = 0
    /// How to undo each change since `beginTransaction()`: the id and the row it replaced (`nil`: there was none).
    private var journal: [(id: ID<Row>, old: Row?)]?

    /// An empty table.
    public init() {}

    /// The row with `id`.
    public subscript(id: ID<Row>) -> Row? { rows[id] }

    /// The number of rows.
    public var count: Int { rows.count }

    /// The rows in id order.
    public var inOrder: [Row] { ids.compactMap { rows[$0] } }

    /// The rows in creation order.
    public var inCreationOrder: [Row] { order.compactMap { rows[$0] } }

    /// The rows of `ids` that exist, in their order.
    public func rows(_ ids: some Sequence<ID<Row>>) -> [Row] { ids.compactMap { rows[$0] } }

    /// Store `row`, replacing the one with its id; returns the row it replaced.
    @discardableResult
    public mutating func write(_ row: consuming Row) -> Row? {
        write(row, indexing: true)
    }

    /// `write(_:)`, leaving the secondary indexes alone when not `indexing` (a snapshot's rows, indexed apart).
    @inline(__always)
    private mutating func write(_ row: consuming Row, indexing: Bool) -> Row? {
        // One hash lookup serves the read and the write, and the old value is swapped out rather than copied:
        // replay does this a million times.
        guard let position = rows.index(forKey: row.id) else {
            let id = row.id
            journal?.append((id, nil))
            ids.insert(id)
            order.append(id)
            if indexing { indexes.insert(row) }
            rows[id] = row
            revision &+= 1
            return nil
        }
        var old = row
        swap(&old, &rows.values[position])
        journal?.append((old.id, old))
        if indexing && Self.keysDiffer(old, inPlace: &rows.values[position]) {
            indexes.remove(old)
            Self.index(inPlace: &rows.values[position], in: &indexes)
        }
        revision &+= 1
        return old
    }

    /// Whether `old` and `new` differ in an indexed field; `new` is `inout` only so that it is read where it lies in
    /// the dictionary, not copied out (replay does this a million times).
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
        guard let old = rows.removeValue(forKey: id) else { return nil }
        journal?.append((id, old))
        ids.remove(id)
        removeFromOrder(id)
        indexes.remove(old)
        revision &+= 1
        return old
    }

    // MARK: - Restoring a snapshot

    /// Make room for `additional` more rows, so that a table filled from a snapshot, which says how many rows it
    /// holds, never grows (and rehashes) on the way.
    public mutating func reserveCapacity(_ additional: Int) {
        rows.reserveCapacity(rows.count + additional)
        order.reserveCapacity(order.count + additional)
        ids.reserveCapacity(ids.count + additional)
    }

    /// Write each of `rows`, moving it out of the buffer (which is left uninitialized), and index it unless its
    /// indexes are built apart (`indexing` false; see `State.restore(moving:indexing:)`). Returns the id of a row
    /// that replaced another, if any did: a snapshot never holds an id twice.
    mutating func restore(moving rows: UnsafeMutableBufferPointer<Row>, indexing: Bool) -> ID<Row>? {
        guard let base = rows.baseAddress else { return nil }
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
    }

    /// Undo every change since `beginTransaction()`, newest first.
    mutating func rollBackTransaction() {
        guard let entries = journal else { return }
        journal = nil
        for (id, old) in entries.reversed() {
            if let current = rows.removeValue(forKey: id) {
                ids.remove(id)
                removeFromOrder(id)
                indexes.remove(current)
            }
            if let old {
                ids.insert(id)
                // A row that was removed comes back at the end: creation order only matters for rows never removed.
                order.append(id)
                indexes.insert(old)
                rows[id] = old
            }
        }
        revision &+= 1
    }

    private mutating func removeFromOrder(_ id: ID<Row>) {
        if order.last == id { order.removeLast() } else { order.removeAll { $0 == id } }
    }

    /// Whether the indexes are exactly what indexing every row afresh gives (for tests of rollback and replay).
    public var indexesAreConsistent: Bool {
        var rebuilt = Row.Indexes()
        var rebuiltIDs = SortedIDs<Row>()
        for (id, row) in rows {
            rebuilt.insert(row)
            rebuiltIDs.insert(id)
        }
        return rebuilt == indexes && rebuiltIDs == ids
    }
}

extension Table: Equatable {
    /// Tables are equal when they hold the same rows, in the same indexes (whatever their history).
    public static func == (lhs: Table, rhs: Table) -> Bool {
        lhs.rows == rhs.rows && lhs.ids == rhs.ids && lhs.order == rhs.order && lhs.indexes == rhs.indexes
    }
}

/// Ids grouped by a key (employees by manager, reviews by cycle), each group in id order.
public struct GroupIndex<Key: Hashable & Sendable, Row: Identified>: Sendable, Equatable {
    public private(set) var groups: [Key: SortedIDs<Row>] = [:]

    /// An empty index.
    public init() {}

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
