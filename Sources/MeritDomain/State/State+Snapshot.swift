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

    /// Set the sequence of the last event a snapshot covers.
    public mutating func restoreLastEventSequence(_ sequence: Int64) {
        lastEventSequence = sequence
    }
}
