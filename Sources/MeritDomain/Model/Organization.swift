/// The one organization a data directory holds.
public struct Organization: Identified, CatalogResource {
    public static let idPrefix: StaticString = "org"

    /// Organization-wide settings.
    public struct Settings: FieldRecord {
        /// How many peer responses a feedback summary needs before it shows anything (default 1).
        public var feedbackMinimumResponses: Int = 1
        /// Whether a summary must be approved before it is shared (default false).
        public var summaryReviewWorkflow: Bool = false

        /// The default settings.
        public init(feedbackMinimumResponses: Int = 1, summaryReviewWorkflow: Bool = false) {
            self.feedbackMinimumResponses = feedbackMinimumResponses
            self.summaryReviewWorkflow = summaryReviewWorkflow
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("feedback_min_responses", feedbackMinimumResponses)
            encoder.encode("summary_review_workflow", summaryReviewWorkflow)
        }

        /// Settings added by later versions keep their defaults when stored JSON written before lacks them.
        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(
                feedbackMinimumResponses: try decoder.decode("feedback_min_responses", default: 1),
                summaryReviewWorkflow: try decoder.decode("summary_review_workflow", default: false))
        }
    }

    public var id: ID<Organization>
    public var name: String
    public var settings: Settings
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// An organization.
    public init(id: ID<Organization>, name: String, settings: Settings, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.name = name
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// `organization.get` shows `{id, name, settings}`; the times are kept for the log.
    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("id", id)
        encoder.encode("name", name)
        encoder.encode("settings", settings)
        encoder.encode(.stored("created_at"), createdAt)
        encoder.encode(.stored("updated_at"), updatedAt)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            id: try decoder.decode("id"), name: try decoder.decode("name"),
            settings: try decoder.decode("settings", default: Settings()),
            createdAt: try decoder.decode(.stored("created_at")), updatedAt: try decoder.decode(.stored("updated_at")))
    }
}
