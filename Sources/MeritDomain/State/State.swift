/// A change to the organization, as recorded in the log and published in the event feed: what kind of change it
/// is, and the resource after it (for a removal, the resource as it was). Applying it is therefore a write or a
/// removal of that resource, whatever happened before.
public struct Change: Sendable, Equatable {
    public var kind: ChangeKind
    public var resource: Resource

    /// A change of `kind` carrying `resource`, which must be of the kind's resource.
    public init<Value: CatalogResource>(_ kind: ChangeKind, _ resource: Value) {
        precondition(kind.row.resource == Value.resourceKind, "\(kind) does not carry a \(Value.self)")
        self.kind = kind
        self.resource = resource.wrapped
    }

    /// A change read back from storage, whose resource `decode` read for the kind.
    @inlinable
    public init(kind: ChangeKind, decoding resource: consuming Resource) {
        self.kind = kind
        self.resource = resource
    }

    /// The event type on the wire: `organization.created`, `key.revoked`, ….
    public var type: String { kind.row.type }
}

/// What a command did: the resource it made or changed, as the API shows it next, and the changes that record it.
public struct Changed<Value> {
    /// The resource after the command.
    public var value: Value
    /// The changes to record, in order; none when nothing changed.
    public var changes: [Change]

    /// An outcome.
    public init(_ value: Value, _ changes: [Change]) {
        self.value = value
        self.changes = changes
    }
}

extension Changed where Value: CatalogResource {
    /// The outcome of one change of `kind` to `value`.
    public init(_ kind: ChangeKind, _ value: Value) {
        self.init(value, [Change(kind, value)])
    }
}

extension Changed: Sendable where Value: Sendable {}

/// Shown every table of the state, one after another.
public protocol TableVisitor: ~Copyable {
    mutating func visit<Row: TableRow>(_ table: Table<Row>)
}

/// Handed every table of the state to change.
protocol TableChanger {
    mutating func change<Row: TableRow>(_ table: inout Table<Row>)
}

extension State {
    /// Apply a change's effect to `row` in `table`; returns the row replaced or removed.
    @inline(__always)
    static func apply<Row: TableRow>(_ row: consuming Row, _ effect: Effect, to table: inout Table<Row>) -> Row? {
        switch effect {
        case .write: table.write(row)
        case .remove: table.remove(row.id)
        }
    }
}

/// The reducer and its transactions.
///
/// `apply(_:)` is the one code path for what a change means, used both for new changes and for replay at start-up.
/// While a group of changes waits for its commit, every table records how to undo each change, so that a failed
/// commit leaves exactly what is durable.
extension State {
    /// Apply one event.
    public mutating func apply(_ event: Event) {
        apply(event.change, sequence: event.sequence)
    }

    /// Apply the change of the event numbered `sequence` (all that replay needs of an event).
    public mutating func apply(_ change: consuming Change, sequence: Int64) {
        _ = applyReturningReplaced(change, sequence: sequence)
    }

    /// `apply(_:sequence:)`, handing back the resource the change replaced or removed instead of freeing it here:
    /// replay applies changes on one thread and frees what they replace on the thread that allocated it.
    public mutating func applyReturningReplaced(_ change: consuming Change, sequence: Int64) -> Resource? {
        lastEventSequence = sequence
        let effect = change.kind.effect
        return apply(change.resource, effect)
    }

    /// Start recording how to undo the changes that follow (a group commit began).
    public mutating func beginTransaction() {
        guard transaction == nil else { return }
        transaction = (organization, lastEventSequence)
        var begin = Begin()
        changeTables(&begin)
    }

    /// Whether changes are being recorded for undo.
    public var inTransaction: Bool { transaction != nil }

    /// Where the transaction stands now: the changes so far, for `forgetUndo(through:)` once they are durable while
    /// later ones may still be lost (a group whose commit is written on another thread while the next is served).
    public func transactionMark() -> TransactionMark {
        struct Count: TableVisitor {
            var counts: [Int] = []
            mutating func visit<Row: TableRow>(_ table: Table<Row>) { counts.append(table.journalMark) }
        }
        var count = Count()
        visitTables(&count)
        return TransactionMark(organization: organization, lastEventSequence: lastEventSequence, journals: count.counts)
    }

    /// The changes up to `mark` are durable: forget how to undo them. A rollback then undoes only the later ones,
    /// back to the state as of `mark`.
    public mutating func forgetUndo(through mark: TransactionMark) {
        guard transaction != nil else { return }
        transaction = (mark.organization, mark.lastEventSequence)
        struct Forget: TableChanger {
            let journals: [Int]
            var index = 0
            mutating func change<Row: TableRow>(_ table: inout Table<Row>) {
                table.forgetUndo(before: journals[index])
                index += 1
            }
        }
        var forget = Forget(journals: mark.journals)
        changeTables(&forget)
    }

    /// The changes since `beginTransaction()` are durable: forget how to undo them.
    public mutating func commitTransaction() {
        transaction = nil
        var commit = Commit()
        changeTables(&commit)
    }

    /// The changes since `beginTransaction()` were not made durable: undo them, newest first.
    public mutating func rollBackTransaction() {
        guard let saved = transaction else { return }
        transaction = nil
        organization = saved.organization
        lastEventSequence = saved.lastEventSequence
        var rollBack = RollBack()
        changeTables(&rollBack)
    }

    /// A point in a transaction (`transactionMark()`).
    public struct TransactionMark: Sendable {
        let organization: Organization?
        let lastEventSequence: Int64
        /// Each table's number of changes so far, in `changeTables` order.
        let journals: [Int]
    }

    private struct Begin: TableChanger {
        mutating func change<Row: TableRow>(_ table: inout Table<Row>) { table.beginTransaction() }
    }

    private struct Commit: TableChanger {
        mutating func change<Row: TableRow>(_ table: inout Table<Row>) { table.commitTransaction() }
    }

    private struct RollBack: TableChanger {
        mutating func change<Row: TableRow>(_ table: inout Table<Row>) { table.rollBackTransaction() }
    }

    /// Whether every table's indexes are what indexing its rows afresh gives (for tests).
    public var indexesAreConsistent: Bool {
        struct Check: TableVisitor {
            var consistent = true
            mutating func visit<Row: TableRow>(_ table: Table<Row>) {
                consistent = consistent && table.indexesAreConsistent
            }
        }
        var check = Check()
        visitTables(&check)
        return check.consistent
    }
}

/// A recorded change: its id, its place in the organization's sequence of events, when and by whom.
public struct Event: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "evt"

    public var id: ID<Event>
    /// 1 for the organization's first event, then +1 for each.
    public var sequence: Int64
    public var createdAt: Timestamp
    /// The acting person, or the key when an integration acts as nobody; `nil` for the command line.
    public var actorID: String?
    public var change: Change

    /// An event.
    public init(id: ID<Event>, sequence: Int64, createdAt: Timestamp, actorID: String?, change: Change) {
        self.id = id
        self.sequence = sequence
        self.createdAt = createdAt
        self.actorID = actorID
        self.change = change
    }
}
