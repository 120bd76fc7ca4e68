extension Summary.Indexes {
    /// Builds the indexes of a snapshot's summaries at once, equal to inserting them one by one.
    ///
    /// Inserting a summary reaches into the shelves of its employee and of its manager, which lie anywhere in
    /// memory: with a million summaries, start-up spent most of its time waiting on those reads. The builder instead
    /// notes each summary's keys side by side as it comes, then groups them by person (a counting sort, which keeps
    /// creation order within each person) and sorts each person's few keys once, where they lie together; the
    /// employees' and the managers' at once. Everyone's shelves, a single set of lists, are filled as rows come.
    public struct Builder: TableIndexBuilder {
        /// What the indexes hold of one summary.
        struct Keys {
            var id: ID<Summary>
            /// The sort keys: `created_at` in milliseconds, `period_end` in days.
            var createdAt: Int64, periodEnd: Int64
            /// The employee's and the manager's places in `people`.
            var employee: Int32, manager: Int32
            var status: Summary.Status
        }

        private var keys: [Keys] = []
        /// Each person met, by their place.
        private var people: [ID<Person>] = []
        private var places = IDPositions<Person>()
        private var periodEndChanges = OrderedIndex<Summary>()
        /// Everyone's shelves, filled as the rows come: they are one set of lists, in cache, and rows in creation
        /// order mostly go at their ends.
        private var everyone = Summary.Shelves()

        public init(rows: Int) {
            keys.reserveCapacity(rows)
        }

        public mutating func add(_ row: Summary) {
            everyone.insert(row)
            keys.append(
                Keys(
                    id: row.id, createdAt: row.createdAt.milliseconds, periodEnd: row.periodEnd.daysSinceEpoch,
                    employee: place(of: row.employeeID), manager: place(of: row.managerID), status: row.status))
            for change in row.periodEndChanges {
                periodEndChanges.insert(.init(key: Int64(change.sequence), id: row.id))
            }
        }

        /// The place of `person` in `people`, given on first meeting them.
        private mutating func place(of person: ID<Person>) -> Int32 {
            let (place, isNew) = places.place(of: person, next: people.count)
            if isNew { people.append(person) }
            return Int32(place)
        }

        public consuming func build(concurrently: (_ parts: Int, _ part: (Int) -> Void) -> Void) -> Summary.Indexes {
            // The employees' shelves and the managers' are built at once, each into its own place.
            var shelves: [[ID<Person>: Summary.Shelves]] = [[:], [:]]
            shelves.withUnsafeMutableBufferPointer { shelves in
                concurrently(2) { part in shelves[part] = self.shelves(byManager: part == 1) }
            }
            return Summary.Indexes(
                everyone: everyone, byEmployee: shelves[0], byManager: shelves[1], periodEndChanges: periodEndChanges)
        }

        /// Each employee's (or manager's) shelves.
        private func shelves(byManager: Bool) -> [ID<Person>: Summary.Shelves] {
            func person(_ keys: Keys) -> Int { Int(byManager ? keys.manager : keys.employee) }
            // Where each person's keys start in `grouped`, then the keys grouped so, in creation order.
            var starts = [Int](repeating: 0, count: people.count + 1)
            for keys in self.keys { starts[person(keys) + 1] += 1 }
            for place in people.indices { starts[place + 1] += starts[place] }
            let grouped = [Keys](unsafeUninitializedCapacity: keys.count) { buffer, count in
                var next = starts
                for keys in self.keys {
                    buffer.initializeElement(at: next[person(keys)], to: keys)
                    next[person(keys)] += 1
                }
                count = keys.count
            }
            var shelves: [ID<Person>: Summary.Shelves] = [:]
            shelves.reserveCapacity(people.count)
            grouped.withUnsafeBufferPointer { grouped in
                for place in people.indices where starts[place] < starts[place + 1] {
                    shelves[people[place]] = Summary.Shelves(
                        keys: UnsafeBufferPointer(rebasing: grouped[starts[place]..<starts[place + 1]]))
                }
            }
            return shelves
        }
    }
}

extension Summary.Shelves {
    /// The shelves of the summaries whose keys are `keys`, in creation order: each status's list by `period_end`
    /// and by `created_at`, sorted once (keys in creation order are mostly in order already).
    fileprivate init(keys: UnsafeBufferPointer<Summary.Indexes.Builder.Keys>) {
        typealias Entry = OrderedIndex<Summary>.Entry
        var lists = [[Entry]](repeating: [], count: Self.listCount)
        // Each status's two lists get as many entries: counted once, by the first.
        var counts = [Int](repeating: 0, count: Self.listCount)
        for keys in keys { counts[Self.position(keys.status, byPeriodEnd: true)] += 1 }
        for status in Summary.Status.allCases {
            let count = counts[Self.position(status, byPeriodEnd: true)]
            lists[Self.position(status, byPeriodEnd: true)].reserveCapacity(count)
            lists[Self.position(status, byPeriodEnd: false)].reserveCapacity(count)
        }
        for keys in keys {
            lists[Self.position(keys.status, byPeriodEnd: true)].append(Entry(key: keys.periodEnd, id: keys.id))
            lists[Self.position(keys.status, byPeriodEnd: false)].append(Entry(key: keys.createdAt, id: keys.id))
        }
        for list in lists.indices where !lists[list].isAscending { lists[list].sort() }
        self.init(lists: lists.map(OrderedIndex.init(sorted:)))
    }
}

extension Array where Element: Comparable {
    /// Whether each element is before the next.
    fileprivate var isAscending: Bool {
        indices.dropFirst().allSatisfy { self[$0 - 1] < self[$0] }
    }
}
