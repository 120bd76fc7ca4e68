import MeritDomain
import MeritJSON

extension RichTextNode {
    /// The document whose JSON is `json` (a summary's `body` as the API answers it), for a program that reads
    /// answers and wants the domain's renderings (`plainText`, `markdown`): `merit demo` prints a body this way.
    /// Throws a `StoredFormError` naming the member that is not a rich-text node.
    public init(json: JSON) throws(StoredFormError) {
        self = try StoredJSONDecoder.decode(RichTextNode.self, from: json, what: "body")
    }
}
