/// Ids ordered by a key and then by id (summaries by `period_end`): what a sorted list pages through from a cursor
/// without sorting.
///
/// Held as sorted chunks of at most `chunkSize` entries, so that an insert or a removal anywhere moves at most a
/// chunk's entries, whatever the size of the index, and a walk from any position starts with two binary searches.
public struct OrderedIndex<Row: Identified>: Sendable, Equatable {
    /// One entry: a key and an id.
    public struct Entry: Sendable, Comparable {
        public var key: Int64
        public var id: ID<Row>

        /// An entry.
        public init(key: Int64, id: ID<Row>) {
            self.key = key
            self.id = id
        }

        public static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.key, lhs.id) < (rhs.key, rhs.id) }
    }

    static var chunkSize: Int { 512 }

    /// Non-empty sorted chunks, each wholly before the next.
    private var chunks: [[Entry]] = []
    /// Each chunk's first entry, side by side: what finding an entry's chunk searches, without stepping into the
    /// chunks themselves.
    private var firsts: [Entry] = []
    /// The number of entries.
    public private(set) var count = 0

    /// An empty index.
    public init() {}

    /// The index of `entries`, which are ascending and distinct: what inserting them one by one gives, built at
    /// once (a snapshot's rows are indexed so).
    public init(sorted entries: [Entry]) {
        assert(zip(entries, entries.dropFirst()).allSatisfy { $0 < $1 }, "entries are ascending and distinct")
        count = entries.count
        if entries.isEmpty { return }
        if entries.count <= Self.chunkSize {
            chunks = [entries]
        } else {
            chunks.reserveCapacity((entries.count + Self.chunkSize - 1) / Self.chunkSize)
            for start in stride(from: 0, to: entries.count, by: Self.chunkSize) {
                chunks.append(Array(entries[start..<min(start + Self.chunkSize, entries.count)]))
            }
        }
        firsts = chunks.map { $0[0] }
    }

    /// Add an entry (nothing happens if it is there already).
    public mutating func insert(_ entry: Entry) {
        guard let last = chunks.last?.last else {
            chunks = [[entry]]
            firsts = [entry]
            count = 1
            return
        }
        if last < entry {
            // Entries mostly come in order (rows restored in creation order, keyed by creation time): one after
            // every other goes at the end without a search, and starts a new chunk rather than splitting a full
            // one, so that entries added in order fill their chunks.
            if chunks[chunks.count - 1].count < Self.chunkSize {
                chunks[chunks.count - 1].append(entry)
            } else {
                chunks.append([entry])
                firsts.append(entry)
            }
            count += 1
            return
        }
        let chunk = chunkIndex(for: entry)
        let position = Self.partition(chunks[chunk]) { $0 < entry }
        if position < chunks[chunk].count && chunks[chunk][position] == entry { return }
        chunks[chunk].insert(entry, at: position)
        if position == 0 { firsts[chunk] = entry }
        count += 1
        if chunks[chunk].count > Self.chunkSize {
            let upper = Array(chunks[chunk][(Self.chunkSize / 2)...])
            chunks[chunk].removeSubrange((Self.chunkSize / 2)...)
            firsts.insert(upper[0], at: chunk + 1)
            chunks.insert(upper, at: chunk + 1)
        }
    }

    /// Remove an entry if it is there.
    public mutating func remove(_ entry: Entry) {
        guard !chunks.isEmpty else { return }
        let chunk = chunkIndex(for: entry)
        let position = Self.partition(chunks[chunk]) { $0 < entry }
        guard position < chunks[chunk].count && chunks[chunk][position] == entry else { return }
        chunks[chunk].remove(at: position)
        count -= 1
        if chunks[chunk].isEmpty {
            chunks.remove(at: chunk)
            firsts.remove(at: chunk)
        } else if position == 0 {
            firsts[chunk] = chunks[chunk][0]
        }
    }

    /// Call `body` with the entries after `bound` (all of them when `nil`), ascending, or before it, descending,
    /// until it returns `false`.
    public func forEach(after bound: Entry?, descending: Bool, _ body: (Entry) -> Bool) {
        var walk = walk(after: bound, descending: descending)
        while let entry = walk.current, body(entry) { walk.advance() }
    }

    /// A walk through the entries after `bound` (all of them when `nil`), ascending, or before it, descending.
    public func walk(after bound: Entry?, descending: Bool) -> Walk {
        guard !chunks.isEmpty else { return Walk(chunks: chunks, chunk: 0, position: 0, descending: descending) }
        var chunk: Int
        var position: Int
        if descending {
            chunk = chunks.count - 1
            position = chunks[chunk].count - 1
            if let bound {
                chunk = chunkIndex(for: bound)
                position = Self.partition(chunks[chunk]) { $0 < bound } - 1
            }
        } else {
            chunk = 0
            position = 0
            if let bound {
                chunk = chunkIndex(for: bound)
                position = Self.partition(chunks[chunk]) { $0 <= bound }
            }
        }
        return Walk(chunks: chunks, chunk: chunk, position: position, descending: descending)
    }

    /// Where a walk through an index stands, moving one way: one of the lists a merge pulls entries from in turn.
    public struct Walk: Sendable {
        private let chunks: [[Entry]]
        private var chunk: Int
        private var position: Int
        private let descending: Bool
        /// The entry the walk is at; `nil` once it has passed the last.
        public private(set) var current: Entry?

        fileprivate init(chunks: [[Entry]], chunk: Int, position: Int, descending: Bool) {
            self.chunks = chunks
            self.chunk = chunk
            self.position = position
            self.descending = descending
            settle()
        }

        /// Move to the next entry.
        public mutating func advance() {
            position += descending ? -1 : 1
            settle()
        }

        /// Step over the ends of chunks until the position holds an entry, or the walk is past the last one.
        private mutating func settle() {
            while chunk >= 0 && chunk < chunks.count {
                if position >= 0 && position < chunks[chunk].count {
                    current = chunks[chunk][position]
                    return
                }
                chunk += descending ? -1 : 1
                if chunk >= 0 && chunk < chunks.count { position = descending ? chunks[chunk].count - 1 : 0 }
            }
            current = nil
        }
    }

    /// Every entry, ascending (for tests).
    public var entries: [Entry] { chunks.flatMap { $0 } }

    /// Whether `firsts` holds each chunk's first entry (for tests).
    public var chunkStartsAreConsistent: Bool { firsts == chunks.map { $0[0] } }

    public static func == (lhs: OrderedIndex, rhs: OrderedIndex) -> Bool { lhs.entries == rhs.entries }

    /// The chunk an entry belongs in: the last whose first entry is at or before it (the first chunk otherwise).
    private func chunkIndex(for entry: Entry) -> Int {
        max(0, Self.partition(firsts) { $0 <= entry } - 1)
    }

    /// The first position where `isBefore` stops holding (it holds for a prefix), by binary search.
    private static func partition<Element>(_ elements: [Element], _ isBefore: (Element) -> Bool) -> Int {
        var low = 0
        var high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if isBefore(elements[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
