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

    static func encode(_ state: State) -> [UInt8] {
        encode(state) { $0.bytes }
    }

    /// Encode `state` and lend the bytes to `body`, without copying them into an array: a snapshot is the size of
    /// the state. `capacity` is room to start with (the size of the last snapshot, say), so that the buffer seldom
    /// grows, which copies it.
    static func encode<Result, Failure: Error>(
        _ state: State, capacity: Int = 1 << 16, _ body: (borrowing BinaryWriter) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var writer = BinaryWriter(capacity: capacity)
        writer.byte(format)
        writer.int(state.lastEventSequence)
        if let organization = state.organization {
            writer.section(Organization.self, count: 1)
            organization.encode(to: &writer)
        }
        var sections = SectionWriter(writer: writer)
        state.visitTables(&sections)
        return try body(sections.writer)
    }

    /// Writes each table as a section.
    private struct SectionWriter: TableVisitor, ~Copyable {
        var writer: BinaryWriter

        mutating func visit<Row: TableRow>(_ table: Table<Row>) {
            writer.section(Row.self, count: table.count)
            // In creation order, which restoring them keeps.
            for row in table.creationOrdered {
                row.encode(to: &writer)
            }
        }
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(StoredFormError) -> State {
        guard let first = payload.first else { throw StoredFormError("the snapshot is empty") }
        if first == UInt8(ascii: "{") { return try decodeJSON(payload) }
        var reader = BinaryReader(payload)
        reader.what = "snapshot"
        reader.strings = StringTable()
        reader.cases = CaseTable()
        reader.arena = ByteArena()
        let format = try reader.byte()
        guard format == Self.format else {
            throw reader.failure("the snapshot has format \(format); this merit reads up to \(Self.format)")
        }
        let lastEventSequence = try reader.int()
        var sections = SnapshotSections(reader: reader)
        while !sections.reader.isAtEnd {
            try sections.readSection()
        }
        var state = sections.finish()
        state.restoreLastEventSequence(lastEventSequence)
        return state
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
