import MeritDomain
import MeritJSON
import MeritServer
import MeritTestSupport
import Testing

@Suite("a body read from an answer renders as the domain renders it")
struct RichTextJSONTests {
    @Test("the body summaries.get answers becomes the document it was, with its plain text and Markdown")
    func answeredBody() throws {
        let summaries = try SummaryOrganization()
        let sent: JSON = [
            "type": "doc",
            "content": [
                ["type": "heading", "attrs": ["level": 2], "content": [["type": "text", "text": "Highlights"]]],
                [
                    "type": "bullet_list",
                    "content": [
                        [
                            "type": "list_item",
                            "content": [
                                [
                                    "type": "paragraph",
                                    "content": [
                                        ["type": "text", "text": "Shipped ", "marks": [["type": "bold"]]],
                                        [
                                            "type": "text", "text": "search",
                                            "marks": [["type": "link", "attrs": ["href": "https://x.example"]]],
                                        ],
                                    ],
                                ]
                            ],
                        ]
                    ],
                ],
            ],
        ]
        let id = try #require(
            try summaries.org.result(
                "summaries.create",
                [
                    "employee_id": summaries.org.id("E"), "period_start": "2026-01-01", "period_end": "2026-03-31",
                    "body": sent,
                ], as: "M")["id"]?.stringValue)
        let answered = try #require(try summaries.org.result("summaries.get", ["id": .string(id)])["body"])
        let document = try RichTextNode(json: answered)
        #expect(document.plainText == "Highlights\n\n- Shipped search (https://x.example)")
        #expect(document.markdown == "## Highlights\n\n- **Shipped** [search](https://x.example)")
    }

    @Test("what is not a rich-text node is refused, naming the member")
    func notANode() {
        #expect {
            try RichTextNode(json: ["type": "doc", "content": [["type": "table"]]])
        } throws: { error in
            "\(error)".contains("body.content[0].type")
        }
    }
}
