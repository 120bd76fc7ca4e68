import Testing

@testable import MeritDomain

@Suite("rich text")
struct RichTextTests {
    static func text(_ value: String, _ marks: RichTextNode.Mark...) -> RichTextNode {
        RichTextNode(type: .text, text: value, marks: marks.isEmpty ? nil : marks)
    }

    static func paragraph(_ children: RichTextNode...) -> RichTextNode {
        RichTextNode(type: .paragraph, content: children)
    }

    static let every = RichTextNode(
        type: .doc,
        content: [
            RichTextNode(type: .heading, attrs: .init(level: 2), content: [text("Strengths")]),
            paragraph(
                text("Jordan "), text("led", .init(type: .bold, attrs: nil)), text(" the "),
                text("Q1", .init(type: .italic, attrs: nil), .init(type: .underline, attrs: nil)), text(" launch "),
                text("early", .init(type: .strike, attrs: nil)), text(" — "),
                text("notes", .init(type: .link, attrs: .init(href: "https://example.org/notes")))),
            RichTextNode(
                type: .bulletList,
                content: [
                    RichTextNode(type: .listItem, content: [paragraph(text("Ships"))]),
                    RichTextNode(
                        type: .listItem,
                        content: [
                            paragraph(text("Mentors")),
                            RichTextNode(
                                type: .orderedList,
                                content: [RichTextNode(type: .listItem, content: [paragraph(text("Ada"))])]),
                        ]),
                ]),
            RichTextNode(type: .horizontalRule),
            RichTextNode(type: .blockquote, content: [paragraph(text("A * star_ and [x]"))]),
            RichTextNode(
                type: .orderedList,
                content: [
                    RichTextNode(type: .listItem, content: [paragraph(text("one"))]),
                    RichTextNode(type: .listItem, content: [paragraph(text("two"))]),
                ]),
        ])

    @Test("every node and mark of the grammar is accepted")
    func accepted() throws {
        try Self.every.validateDocument(path: "body")
        try RichTextNode(type: .doc, content: []).validateDocument(path: "body")
        try RichTextNode(type: .doc, content: [RichTextNode(type: .paragraph)]).validateDocument(path: "body")
    }

    @Test("plain text renders every node and drops the marks, keeping a link's address")
    func plainText() {
        #expect(
            Self.every.plainText == """
                Strengths

                Jordan led the Q1 launch early — notes (https://example.org/notes)

                - Ships
                - Mentors

                  1. Ada

                ---

                > A * star_ and [x]

                1. one
                2. two
                """)
    }

    @Test("Markdown renders every node and mark, escaping what Markdown would read")
    func markdown() {
        #expect(
            Self.every.markdown == """
                ## Strengths

                Jordan **led** the <u>*Q1*</u> launch ~~early~~ — [notes](https://example.org/notes)

                - Ships
                - Mentors

                  1. Ada

                ---

                > A \\* star\\_ and \\[x\\]

                1. one
                2. two
                """)
        let headings = (1...3).map { level in
            RichTextNode(
                type: .doc,
                content: [RichTextNode(type: .heading, attrs: .init(level: level), content: [Self.text("T")])]
            ).markdown
        }
        #expect(headings == ["# T", "## T", "### T"])
    }

    @Test(
        "anything outside the grammar is a validation_error naming the offending member's path",
        arguments: [
            (RichTextNode(type: .paragraph), "body.type"),
            (RichTextNode(type: .doc, content: [text("loose")]), "body.content[0].type"),
            (RichTextNode(type: .doc, content: [RichTextNode(type: .listItem, content: [])]), "body.content[0].type"),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .heading, content: [])]),
                "body.content[0].attrs.level"
            ),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .heading, attrs: .init(level: 4), content: [])]),
                "body.content[0].attrs.level"
            ),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .paragraph, attrs: .init(level: 1))]),
                "body.content[0].attrs"
            ),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .bulletList, content: [])]),
                "body.content[0].content"
            ),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .bulletList, content: [paragraph(text("x"))])]),
                "body.content[0].content[0].type"
            ),
            (RichTextNode(type: .doc, content: [RichTextNode(type: .blockquote)]), "body.content[0].content"),
            (
                RichTextNode(type: .doc, content: [RichTextNode(type: .horizontalRule, content: [])]),
                "body.content[0].content"
            ),
            (RichTextNode(type: .doc, content: [paragraph(paragraph())]), "body.content[0].content[0].type"),
            (RichTextNode(type: .doc, content: [paragraph(text(""))]), "body.content[0].content[0].text"),
            (RichTextNode(type: .doc, content: [RichTextNode(type: .paragraph, text: "x")]), "body.content[0].text"),
            (
                RichTextNode(type: .doc, content: [paragraph(text("x", .init(type: .link, attrs: nil)))]),
                "body.content[0].content[0].marks[0].attrs.href"
            ),
            (
                RichTextNode(type: .doc, content: [paragraph(text("x", .init(type: .bold, attrs: .init(href: "h"))))]),
                "body.content[0].content[0].marks[0].attrs"
            ),
            (
                RichTextNode(
                    type: .doc,
                    content: [paragraph(text("x", .init(type: .bold, attrs: nil), .init(type: .bold, attrs: nil)))]),
                "body.content[0].content[0].marks[1].type"
            ),
        ])
    func refused(document: RichTextNode, field: String) {
        #expect {
            try document.validateDocument(path: "body")
        } throws: { error in
            (error as? DomainError)?.kind == .validation(field: field)
        }
    }
}
