/// A review template: the KPI items a review snapshots when it is created.
public struct Template: TableRow {
    public static let idPrefix: StaticString = "tpl"

    /// One KPI of a template.
    public struct Item: Identified, FieldRecord {
        public static let idPrefix: StaticString = "tpi"

        public var id: ID<Item>
        public var area: String
        public var label: String
        public var isMandatory: Bool
        public var sortOrder: Int

        /// An item.
        public init(id: ID<Item>, area: String, label: String, isMandatory: Bool, sortOrder: Int) {
            self.id = id
            self.area = area
            self.label = label
            self.isMandatory = isMandatory
            self.sortOrder = sortOrder
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("id", id)
            encoder.encode("area", area)
            encoder.encode("label", label)
            encoder.encode("is_mandatory", isMandatory)
            encoder.encode("sort_order", sortOrder)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(
                id: try decoder.decode("id"), area: try decoder.decode("area"), label: try decoder.decode("label"),
                isMandatory: try decoder.decode("is_mandatory"), sortOrder: try decoder.decode("sort_order"))
        }
    }

    public var id: ID<Template>
    public var name: String
    public var items: [Item]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// A template.
    public init(id: ID<Template>, name: String, items: [Item], createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.name = name
        self.items = items
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("name", name)
        encoder.encode("items", items)
        encoder.encode("created_at", createdAt)
        encoder.encode("updated_at", updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), name: try decoder.decode("name"),
            items: try decoder.decode("items", default: []),
            createdAt: try decoder.decode("created_at"), updatedAt: try decoder.decode("updated_at"))
    }
}
