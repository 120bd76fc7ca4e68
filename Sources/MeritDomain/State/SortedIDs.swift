/// Ids in ascending order, without repeats: an index that lists page through without sorting.
///
/// Ids are made in ascending order (`IDGenerator` is monotonic), so an insert is almost always an append; one
/// that is not (an id from an earlier run with a later clock) is placed by binary search.
public struct SortedIDs<Entity: Identified>: Sendable, Equatable, RandomAccessCollection {
    public private(set) var ids: [ID<Entity>] = []

    /// An empty index.
    public init() {}

    public var startIndex: Int { ids.startIndex }
    public var endIndex: Int { ids.endIndex }
    public subscript(position: Int) -> ID<Entity> { ids[position] }

    /// Add `id` (nothing happens if it is there already).
    public mutating func insert(_ id: ID<Entity>) {
        guard let last = ids.last, !(last < id) else {
            ids.append(id)
            return
        }
        let position = partitionPoint { $0 < id }
        if position < ids.count && ids[position] == id { return }
        ids.insert(id, at: position)
    }

    /// Make room for `count` ids in all.
    public mutating func reserveCapacity(_ count: Int) {
        ids.reserveCapacity(count)
    }

    /// Remove `id` if it is there.
    public mutating func remove(_ id: ID<Entity>) {
        let position = partitionPoint { $0 < id }
        if position < ids.count && ids[position] == id { ids.remove(at: position) }
    }

    /// Where the ids after `key` start (all of them when `key` is `nil`): where a page after a cursor begins.
    public func firstIndex(after key: String?) -> Int {
        guard let key else { return 0 }
        // Ids order as their text does; a key that is not an id is compared as text.
        if let id = ID<Entity>(key) { return partitionPoint { $0 <= id } }
        return partitionPoint { $0.text <= key }
    }

    /// The first position where `isBefore` stops holding (it holds for a prefix of the ids), by binary search.
    private func partitionPoint(_ isBefore: (ID<Entity>) -> Bool) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if isBefore(ids[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
