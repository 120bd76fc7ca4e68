/// Building a state from a snapshot: the same as replaying the events that made it.
extension State {
    /// A state holding `resources` (written as the changes that made them would have) after `lastEventSequence`
    /// events.
    public init(restoring resources: some Sequence<Resource>, lastEventSequence: Int64) {
        self.init()
        for resource in resources { restore(resource) }
        self.lastEventSequence = lastEventSequence
    }

    /// Write one resource a snapshot holds.
    public mutating func restore(_ resource: Resource) {
        _ = apply(resource, .write)
    }

    /// Make room in the table of `Row`s for `count` more rows: a snapshot says how many a table holds before they
    /// are read, so that the table never grows (and rehashes) on the way.
    public mutating func reserveCapacity<Row: TableRow>(_ count: Int, for type: Row.Type) {
        var reserve = Reserve<Row>(count: count)
        changeTables(&reserve)
    }

    /// Write the rows a snapshot holds, all of one kind, each as the change that made it would have; they are moved
    /// out of `rows`, which is left uninitialized. Returns the id of a row that replaced another, if any did (a
    /// snapshot that holds an id twice is damaged).
    ///
    /// A batch at a time, so that the table's own code, specialized for its row type, writes each row, and no row
    /// is wrapped in a `Resource` or copied on the way. When not `indexing`, the secondary indexes are left alone:
    /// the caller builds them apart from the same rows (on another thread, while this one fills the table) with
    /// `Row.Indexes.Builder`, in the same order, and puts them in with `install(_:for:)` once the table is full.
    public mutating func restore<Row: TableRow>(
        moving rows: UnsafeMutableBufferPointer<Row>, indexing: Bool = true
    ) -> ID<Row>? {
        switch Row.resourceKind {
        case .organization: preconditionFailure("the organization is not a table's row")
        case .key: keys.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .person: people.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .template: templates.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .observation: observations.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .objective: objectives.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .notification: notifications.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .cycle: cycles.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .review: reviews.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .feedbackRequest: feedbackRequests.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        case .summary: summaries.restore(moving: rows.rebound(), indexing: indexing)?.rebound()
        }
    }

    /// Put in the secondary indexes of the `Row`s restored without indexing them: `indexes` must be what indexing
    /// those rows, in the order they were restored, gives.
    public mutating func install<Row: TableRow>(_ indexes: consuming Row.Indexes, for type: Row.Type) {
        var installer = Installer<Row>(indexes: indexes)
        changeTables(&installer)
    }

    /// Set the sequence of the last event a snapshot covers.
    public mutating func restoreLastEventSequence(_ sequence: Int64) {
        lastEventSequence = sequence
    }
}

/// Makes room in the table of one row type.
private struct Reserve<Target: TableRow>: TableChanger {
    var count: Int

    mutating func change<Row: TableRow>(_ table: inout Table<Row>) {
        if Row.self == Target.self { table.reserveCapacity(count) }
    }
}

/// Puts indexes built apart into the table of one row type.
private struct Installer<Target: TableRow>: TableChanger {
    var indexes: Target.Indexes?

    mutating func change<Row: TableRow>(_ table: inout Table<Row>) {
        guard Row.self == Target.self, let indexes = indexes.take() as? Row.Indexes else { return }
        table.install(indexes)
    }
}

extension ID {
    /// The same id, as the id of `Other`, which is `Entity` under its own name.
    fileprivate func rebound<Other: Identified>(to type: Other.Type = Other.self) -> ID<Other> {
        ID<Other>(high: high, low: low)
    }
}

extension UnsafeMutableBufferPointer {
    /// The same memory, as the buffer of `Other`s that it is: `Other` is `Element` under its own name.
    fileprivate func rebound<Other>(to type: Other.Type = Other.self) -> UnsafeMutableBufferPointer<Other> {
        precondition(Other.self == Element.self, "a table's rows were handed over as another type")
        return UnsafeMutableBufferPointer<Other>(
            start: UnsafeMutableRawPointer(baseAddress)?.assumingMemoryBound(to: Other.self), count: count)
    }
}
