/// A review template: the KPI items a review snapshots when it is created.
public struct Template: Identified, Sendable, Equatable {
    public static let idPrefix: StaticString = "tpl"

    /// One KPI of a template.
    public struct Item: Identified, Sendable, Equatable {
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
}
