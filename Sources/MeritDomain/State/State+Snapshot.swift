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
    /// out of `rows`, which is left uninitialized.
    ///
    /// A batch at a time, so that the table's own code, specialized for its row type, writes each row, and no row
    /// is wrapped in a `Resource` or copied on the way.
    public mutating func restore<Row: TableRow>(moving rows: UnsafeMutableBufferPointer<Row>) {
        switch Row.resourceKind {
        case .organization: preconditionFailure("the organization is not a table's row")
        case .key: keys.restore(moving: rows.rebound())
        case .person: people.restore(moving: rows.rebound())
        case .template: templates.restore(moving: rows.rebound())
        case .observation: observations.restore(moving: rows.rebound())
        case .objective: objectives.restore(moving: rows.rebound())
        case .notification: notifications.restore(moving: rows.rebound())
        case .cycle: cycles.restore(moving: rows.rebound())
        case .review: reviews.restore(moving: rows.rebound())
        case .feedbackRequest: feedbackRequests.restore(moving: rows.rebound())
        case .summary: summaries.restore(moving: rows.rebound())
        }
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

extension UnsafeMutableBufferPointer {
    /// The same memory, as the buffer of `Other`s that it is: `Other` is `Element` under its own name.
    fileprivate func rebound<Other>(to type: Other.Type = Other.self) -> UnsafeMutableBufferPointer<Other> {
        precondition(Other.self == Element.self, "a table's rows were handed over as another type")
        return UnsafeMutableBufferPointer<Other>(
            start: UnsafeMutableRawPointer(baseAddress)?.assumingMemoryBound(to: Other.self), count: count)
    }
}
