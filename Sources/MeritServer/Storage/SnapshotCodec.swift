import MeritDomain
import MeritJSON

/// The state as a snapshot stores it, and back.
///
/// Format 2 (written now) is binary: the byte 2, the sequence of the last event covered (8 bytes), then one section
/// per table of the catalog, each its `ResourceKind` code and schema version (a byte each), its row count (a
/// varint) and its rows in creation order, in the form `BinaryWriter` gives them. A new resource needs nothing here. Format
/// 1, written before, is a JSON object with one array per table; it is still read.
enum SnapshotCodec {
    /// The format written now.
    static let format: UInt8 = 2
    /// How many rows are read before they are written to their table: enough that finding the table costs
    /// nothing, few enough to stay in cache.
    static let batchSize = 256

    static func encode(_ state: State) -> [UInt8] {
        var writer = BinaryWriter(capacity: 1 << 16)
        writer.byte(format)
        writer.int(state.lastEventSequence)
        if let organization = state.organization {
            writer.section(Organization.self, count: 1)
            organization.encode(to: &writer)
        }
        var sections = SectionWriter(writer: writer)
        state.visitTables(&sections)
        return sections.writer.bytes
    }

    /// Writes each table as a section.
    private struct SectionWriter: TableVisitor, ~Copyable {
        var writer: BinaryWriter

        mutating func visit<Row: TableRow>(_ table: Table<Row>) {
            writer.section(Row.self, count: table.count)
            // In creation order, which restoring them keeps.
            for id in table.order {
                table[id]?.encode(to: &writer)
            }
        }
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(StoredFormError) -> State {
        guard let first = payload.first else { throw StoredFormError("the snapshot is empty") }
        if first == UInt8(ascii: "{") { return try decodeJSON(payload) }
        var reader = BinaryReader(payload)
        reader.what = "snapshot"
        reader.strings = StringTable()
        let format = try reader.byte()
        guard format == Self.format else {
            throw reader.failure("the snapshot has format \(format); this merit reads up to \(Self.format)")
        }
        var sections = SectionReader(reader: reader)
        sections.state.restoreLastEventSequence(try sections.reader.int())
        while !sections.reader.isAtEnd {
            try sections.readSection()
        }
        return sections.state
    }

    /// Reads sections, each into a table built by its rows' own type and then put in the state.
    private struct SectionReader: RowTypeVisitor {
        var reader: BinaryReader
        var state = State()
        /// The rows of the section being read.
        var count = 0
        /// The kinds of the sections read so far.
        var seen: Set<ResourceKind> = []

        init(reader: BinaryReader) {
            self.reader = reader
        }

        /// Read one section: its header, then its rows.
        mutating func readSection() throws(StoredFormError) {
            reader.what = "snapshot"
            let code = try reader.byte()
            guard let kind = ResourceKind(rawValue: code) else {
                throw reader.failure("a section holds resources of unknown kind \(code); upgrade merit")
            }
            let version = Int(try reader.byte())
            guard version >= 1 && version <= kind.schemaVersion else {
                throw reader.failure(
                    "the \(kind) section has schema version \(version); this merit reads up to \(kind.schemaVersion)")
            }
            guard seen.insert(kind).inserted else { throw reader.failure("a second \(kind) section") }
            reader.what = "snapshot \(kind)"
            reader.schemaVersion = version
            count = try reader.varint()
            // Every row takes at least a byte: a count beyond the bytes left is damage, not a size to reserve.
            guard count <= reader.remaining else { throw reader.failure("the \(kind) section claims \(count) rows") }
            if try !kind.visitRowType(&self) {
                for _ in 0..<count { state.restore(try Resource.decode(kind, from: &reader)) }
            }
        }

        mutating func visit<Row: TableRow>(_ type: Row.Type) throws(StoredFormError) {
            state.reserveCapacity(count, for: Row.self)
            let batch = UnsafeMutableBufferPointer<Row>.allocate(capacity: min(count, SnapshotCodec.batchSize))
            var filled = 0
            defer {
                batch.baseAddress?.deinitialize(count: filled)
                batch.deallocate()
            }
            var left = count
            while left > 0 {
                let size = min(left, batch.count)
                while filled < size {
                    (batch.baseAddress! + filled).initialize(to: try Row(from: &reader))
                    filled += 1
                }
                state.restore(moving: UnsafeMutableBufferPointer(rebasing: batch[..<size]))
                filled = 0
                left -= size
            }
        }
    }

    /// A snapshot of format 1: `{format, last_event_sequence, organization, keys, people, …}`.
    private static func decodeJSON(_ payload: UnsafeRawBufferPointer) throws(StoredFormError) -> State {
        let value: JSON
        do {
            value = try JSONParser.parse(payload)
        } catch {
            throw StoredFormError("the snapshot is malformed: \(error)")
        }
        guard let format = value["format"]?.intValue else { throw StoredFormError("snapshot.format is missing") }
        guard format == 1 else { throw StoredFormError("the snapshot has format \(format); this merit reads 1 and 2") }
        guard let last = value["last_event_sequence"]?.intValue else {
            throw StoredFormError("snapshot.last_event_sequence is missing")
        }
        var state = State()
        state.restoreLastEventSequence(last)
        if let organization = value["organization"], !organization.isNull {
            state.restore(try StoredJSONDecoder.decode(.organization, from: organization, what: "organization"))
        }
        // The tables format 1 held; later resources exist only in format 2.
        let tables: [(String, ResourceKind)] = [
            ("keys", .key), ("people", .person), ("templates", .template), ("observations", .observation),
            ("objectives", .objective), ("notifications", .notification),
        ]
        for (name, kind) in tables {
            guard let rows = value[name] else { continue }
            guard case .array(let elements) = rows else { throw StoredFormError("snapshot.\(name) is not an array") }
            for (offset, element) in elements.enumerated() {
                state.restore(try StoredJSONDecoder.decode(kind, from: element, what: "snapshot.\(name)[\(offset)]"))
            }
        }
        return state
    }
}

extension BinaryWriter {
    /// A section's header: its resource kind, schema version and row count.
    fileprivate mutating func section<Resource: CatalogResource>(_ type: Resource.Type, count: Int) {
        byte(Resource.resourceKind.rawValue)
        byte(UInt8(Resource.resourceKind.schemaVersion))
        varint(count)
    }
}

extension ResourceKind {
    /// The schema version of the resource's layout: the newest of its change kinds' versions.
    var schemaVersion: Int {
        ChangeKind.allCases.filter { $0.row.resource == self }.map(\.row.version).max() ?? 1
    }
}
