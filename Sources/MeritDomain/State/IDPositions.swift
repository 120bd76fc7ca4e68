/// Where each row of a table lies, by id: a hash table whose ids and places lie side by side.
///
/// A table's `Dictionary` of a million ids kept its keys, its values and its occupancy bits in three arrays and
/// hashed each id with SipHash: filling it from a snapshot took three cache misses an id and was most of the time
/// spent storing the rows. Here an id and its place share one slot, found by linear probing from a bucket that a
/// multiply picks from the id's bits (a ULID's are random but for its clock, and ids made in the same millisecond
/// differ by one; the multiply spreads them), so a lookup or an insert is mostly one cache line. Ids are made by
/// the server, never chosen by a client, so no one can aim ids at one bucket. Removal shifts the following slots
/// back, leaving no tombstones. An array holds the slots, so copies share them until one is changed.
public struct IDPositions<Entity: Identified>: Sendable, Equatable {
    /// An id and its place; `position` is negative in an empty slot.
    private struct Slot: Sendable {
        var high: UInt64
        var low: UInt64
        var position: Int

        static var empty: Slot { Slot(high: 0, low: 0, position: -1) }
    }

    /// A power of two of slots (none before the first insert), at most three quarters full.
    private var slots: [Slot] = []
    /// How far right a product is shifted to give a bucket: 64 minus the bits of the slot count.
    private var shift: UInt64 = 64
    /// The number of ids held.
    public private(set) var count = 0
    /// What `prefetch` read, kept only so that the reads are not optimized away.
    private var prefetched = 0

    /// No ids.
    public init() {}

    /// The place of `id`, if it has one.
    public subscript(id: ID<Entity>) -> Int? {
        guard let slot = find(id) else { return nil }
        return slots[slot].position
    }

    /// Give `id` the place `position` (`position` ≥ 0), whether or not it had one.
    public mutating func set(_ id: ID<Entity>, to position: Int) {
        precondition(position >= 0, "a place is not negative")
        if let slot = find(id) {
            slots[slot].position = position
        } else {
            insertNew(id, position)
        }
    }

    /// The place of `id`, or, when it has none, `next`, which it is given (`isNew`): one search either way.
    public mutating func place(of id: ID<Entity>, next: Int) -> (Int, isNew: Bool) {
        if let slot = find(id) { return (slots[slot].position, false) }
        insertNew(id, next)
        return (next, true)
    }

    /// Forget the place of `id`; returns it, if it had one.
    @discardableResult
    public mutating func removeValue(forKey id: ID<Entity>) -> Int? {
        guard var hole = find(id) else { return nil }
        let position = slots[hole].position
        // Shift back each following slot of the run that may move into the hole: one whose bucket is not
        // (cyclically) after the hole and at or before where it lies.
        let mask = slots.count - 1
        var next = (hole + 1) & mask
        while slots[next].position >= 0 {
            let home = bucket(high: slots[next].high, low: slots[next].low)
            let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !staysPut {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = .empty
        count -= 1
        return position
    }

    /// Read the first slot each of `ids` would be looked up in, so that the lookups or inserts that follow find
    /// it in cache: the reads do not wait for each other, so the processor overlaps a dozen or so misses at a time
    /// instead of taking them one after another (a snapshot's ids land all over a table of a million).
    public mutating func prefetch(_ ids: some Sequence<ID<Entity>>) {
        guard !slots.isEmpty else { return }
        var any = 0
        slots.withUnsafeBufferPointer { slots in
            for id in ids { any |= slots[bucket(high: id.high, low: id.low)].position }
        }
        prefetched = any
    }

    /// Make room for `capacity` ids in all without growing.
    public mutating func reserveCapacity(_ capacity: Int) {
        var size = max(slots.count, 8)
        while capacity > size / 4 * 3 { size *= 2 }
        if size > slots.count { resize(to: size) }
    }

    /// Every id and its place, in no order (for tests).
    public var entries: [(id: ID<Entity>, position: Int)] {
        slots.filter { $0.position >= 0 }.map { (ID(high: $0.high, low: $0.low), $0.position) }
    }

    public static func == (lhs: IDPositions, rhs: IDPositions) -> Bool {
        lhs.count == rhs.count
            && lhs.slots.allSatisfy { $0.position < 0 || rhs[ID(high: $0.high, low: $0.low)] == $0.position }
    }

    // MARK: - Slots

    @inline(__always)
    private func bucket(high: UInt64, low: UInt64) -> Int {
        // Fibonacci hashing: the top bits of the product, which every bit of the id feeds.
        Int(truncatingIfNeeded: (((high &* 0xC2B2_AE3D_27D4_EB4F) ^ low) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `id`, if one does.
    @inline(__always)
    private func find(_ id: ID<Entity>) -> Int? {
        guard !slots.isEmpty else { return nil }
        return slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var slot = bucket(high: id.high, low: id.low)
            while true {
                let candidate = slots[slot]
                if candidate.position < 0 { return nil }
                if candidate.low == id.low && candidate.high == id.high { return slot }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Put `id`, which is not held, at `position`, growing first if the slots would be more than three quarters
    /// full.
    private mutating func insertNew(_ id: ID<Entity>, _ position: Int) {
        if count + 1 > slots.count / 4 * 3 { resize(to: max(8, slots.count * 2)) }
        put(Slot(high: id.high, low: id.low, position: position))
        count += 1
    }

    /// Put `entry` in the first empty slot from its bucket on.
    @inline(__always)
    private mutating func put(_ entry: Slot) {
        let mask = slots.count - 1
        var slot = bucket(high: entry.high, low: entry.low)
        slots.withUnsafeMutableBufferPointer { slots in
            while slots[slot].position >= 0 { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
    }

    /// Move every id into `size` slots (a power of two).
    private mutating func resize(to size: Int) {
        let old = slots
        slots = Array(repeating: .empty, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        for entry in old where entry.position >= 0 { put(entry) }
    }
}
