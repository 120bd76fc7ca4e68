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
        _ = try RichText(document: Self.every, path: "body")
        _ = try RichText(document: RichTextNode(type: .doc, content: []), path: "body")
        _ = try RichText(document: RichTextNode(type: .doc), path: "body")
        _ = try RichText(document: RichTextNode(type: .doc, content: [RichTextNode(type: .paragraph)]), path: "body")
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
        let spaced = RichTextNode(
            type: .doc,
            content: [
                Self.paragraph(
                    Self.text("Shipped  ", .init(type: .bold, attrs: nil)),
                    Self.text(" search", .init(type: .italic, attrs: nil), .init(type: .strike, attrs: nil)),
                    Self.text(" ", .init(type: .underline, attrs: nil)))
            ])
        #expect(spaced.markdown == "**Shipped**   ~~*search*~~ ", "spaces at a mark's ends stay outside it")
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
            try RichText(document: document, path: "body")
        } throws: { error in
            (error as? DomainError)?.kind == .validation(field: field)
        }
    }

    static func body(_ text: String) throws -> RichText {
        try RichText(validating: Array(text.utf8), path: "body")
    }

    @Test("a body is kept exactly as sent: members in any order, numbers as written, escapes read")
    func keptAsSent() throws {
        let sent =
            #"{"content":[{"content":[{"marks":[{"attrs":{"href":"https://x.example"},"type":"link"},{"type":"bold"}],"#
            + #""text":"Led \"Q1\" é\u2028","type":"text"}],"type":"paragraph"},{"attrs":{"level":2.0},"#
            + #""type":"heading"},{"type":"horizontal_rule"}],"type":"doc"}"#
        #expect(try Self.body(sent).json == Array(sent.utf8))
        // A name written with escapes is the same name.
        let escapedName = #"{"typ\u0065":"doc","content":[]}"#
        #expect(try Self.body(escapedName).json == Array(escapedName.utf8))
        #expect(try Self.body(#"{"type":"doc","content":[{"type":"heading","attrs":{"level":3e0}}]}"#).json.count > 0)
    }

    @Test(
        "members of the wrong shape are refused with the path and a message saying what is wrong",
        arguments: [
            (#""x""#, "body must be a rich-text node (an object), not a string."),
            (#"[]"#, "body must be a rich-text node (an object), not an array."),
            (#"{"content":[]}"#, "body.type is required."),
            (#"{"type":7}"#, "body.type must be a string."),
            (
                #"{"type":"table"}"#,
                "body.type is 'table', which is not one of doc, paragraph, heading, bullet_list, ordered_list, "
                    + "list_item, blockquote, horizontal_rule, text."
            ),
            (#"{"type":"doc","content":{}}"#, "body.content must be an array, not an object."),
            (
                #"{"type":"doc","content":[{"type":"paragraph","style":"bold"}]}"#,
                "body.content[0].style is not a member of a rich-text node."
            ),
            (#"{"type":"doc","content":[null]}"#, "body.content[0] must be a rich-text node (an object), not null."),
            (
                #"{"type":"doc","content":[{"type":"heading","attrs":{"level":"2"}}]}"#,
                "body.content[0].attrs.level must be an integer."
            ),
            (
                #"{"type":"doc","content":[{"type":"heading","attrs":{"level":2.5}}]}"#,
                "body.content[0].attrs.level must be an integer."
            ),
            (
                #"{"type":"doc","content":[{"type":"heading","attrs":{"level":-1}}]}"#,
                "body.content[0].attrs.level must be 1, 2 or 3, not -1."
            ),
            (
                #"{"type":"doc","content":[{"type":"heading","attrs":{"size":1}}]}"#,
                "body.content[0].attrs.size is not an attribute of a node (only level)."
            ),
            (
                #"{"type":"doc","content":[{"type":"heading","attrs":[]}]}"#,
                "body.content[0].attrs must be an object (an object), not an array."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":1}]}]}"#,
                "body.content[0].content[0].text must be a string."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":{}}]}]}"#,
                "body.content[0].content[0].marks must be an array, not an object."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":["b"]}]}]}"#,
                "body.content[0].content[0].marks[0] must be a mark (an object), not a string."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{}]}]}]}"#,
                "body.content[0].content[0].marks[0].type is required."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","#
                    + #""marks":[{"type":"glow"}]}]}]}"#,
                "body.content[0].content[0].marks[0].type is 'glow', which is not one of bold, italic, underline, "
                    + "strike, link."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","#
                    + #""marks":[{"type":"bold","color":"red"}]}]}]}"#,
                "body.content[0].content[0].marks[0].color is not a member of a mark."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","#
                    + #""marks":[{"type":"link","attrs":{"href":1}}]}]}]}"#,
                "body.content[0].content[0].marks[0].attrs.href must be a string."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","#
                    + #""marks":[{"type":"link","attrs":{"href":"h","title":"t"}}]}]}]}"#,
                "body.content[0].content[0].marks[0].attrs.title is not an attribute of a mark (only href)."
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","#
                    + #""marks":[{"type":"link","attrs":{"href":""}}]}]}]}"#,
                "body.content[0].content[0].marks[0].attrs.href is required on a link mark."
            ),
            (#"{"type":"doc","type":"doc"}"#, "body.type appears more than once; give each member once."),
            (#"{ "type":"doc"}"#, "body is not compact JSON (at byte 1)."),
            (#"{"type":"doc"}x"#, "body is not compact JSON (at byte 14)."),
            (#"{"type":"doc","content":["#, "body.content[0] must be a rich-text node (an object), not nothing."),
            (#"{"type":"doc\x"}"#, "body is not compact JSON (at byte 12)."),
            (#"{"type":"doc\udc00"}"#, "body is not compact JSON (at byte 18)."),
        ])
    func malformed(body: String, message: String) {
        #expect {
            try Self.body(body)
        } throws: { error in
            (error as? DomainError)?.message == message
        }
    }

    @Test("a body's shape is read first, wherever its faults are; the grammar's first fault is for the command")
    func shapeBeforeGrammar() throws {
        // A heading without a level comes first, but an unknown member anywhere is what reading the body says.
        let both = #"{"type":"doc","content":[{"type":"heading"},{"type":"paragraph","style":1}]}"#
        #expect {
            try RichText.Candidate(reading: Array(both.utf8), path: "body")
        } throws: { error in
            (error as? DomainError)?.kind == .validation(field: "body.content[1].style")
        }
        // A node's own members are held to the grammar before what it holds; its holder's rules before its own.
        for (document, field) in [
            (
                #"{"type":"doc","content":[{"type":"heading","content":[{"type":"text","text":""}]}]}"#,
                "body.content[0].attrs.level"
            ),
            (
                #"{"content":[{"type":"list_item","attrs":{"level":1}}],"type":"doc"}"#,
                "body.content[0].type"
            ),
            (#"{"content":[{"type":"text"}],"type":"paragraph"}"#, "body.type"),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"","marks":[{"type":"bold"},{"type":"bold"}]}]}]}"#,
                "body.content[0].content[0].text"
            ),
            (
                #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"bold","attrs":{}},{"type":"bold"}]}]}]}"#,
                "body.content[0].content[0].marks[0].attrs"
            ),
        ] {
            let candidate = try RichText.Candidate(reading: Array(document.utf8), path: "body")
            #expect(candidate.json == Array(document.utf8))
            #expect {
                try candidate.checked()
            } throws: { error in
                (error as? DomainError)?.kind == .validation(field: field)
            }
        }
    }

    @Test("a body must be UTF-8 and at most 262 144 bytes")
    func bytes() throws {
        func document(_ text: String) -> String {
            #"{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"\#(text)"}]}]}"#
        }
        var invalid = Array(document("x").utf8)
        invalid[invalid.count - 6] = 0xFF
        #expect(throws: DomainError.self) { try RichText(validating: invalid, path: "body") }
        let padding = RichText.maximumBytes - document("").utf8.count
        let text = String(repeating: "é", count: padding / 2) + String(repeating: "a", count: padding % 2)
        #expect(try Self.body(document(text)).json.count == RichText.maximumBytes)
        #expect {
            try Self.body(document(text + "a"))
        } throws: { error in
            (error as? DomainError)?.message
                == "body is 262145 bytes written as compact JSON; the most is 262144 (256 KB)."
        }
    }

    @Test("random documents of the grammar are accepted, and their JSON is the tree written member by member")
    func randomDocuments() throws {
        var generator = SplitMix64(state: 11)
        for _ in 0..<300 {
            let document = RichTextNode(
                type: .doc,
                content: (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    Self.block(depth: 0, using: &generator)
                })
            let body = try RichText(document: document, path: "body")
            #expect(body.json == RichText.compactJSON(of: document))
        }
    }

    static func block(depth: Int, using generator: inout SplitMix64) -> RichTextNode {
        let inline = { (generator: inout SplitMix64) -> [RichTextNode] in
            (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                let kinds = RichTextNode.Mark.Kind.allCases.filter { _ in Bool.random(using: &generator) }
                let marks = kinds.map {
                    RichTextNode.Mark(type: $0, attrs: $0 == .link ? .init(href: "https://x") : nil)
                }
                let texts = ["a", "Ünïcode ✓", "quote \" and \\", "line\nbreak\u{2028}", "tab\t\u{1}"]
                return RichTextNode(
                    type: .text, text: texts.randomElement(using: &generator)!, marks: marks.isEmpty ? nil : marks)
            }
        }
        let kinds: [RichTextNode.Kind] =
            depth > 2
            ? [.paragraph, .heading, .horizontalRule]
            : [
                .paragraph, .heading, .horizontalRule, .bulletList, .orderedList, .blockquote,
            ]
        switch kinds.randomElement(using: &generator)! {
        case .heading:
            return RichTextNode(
                type: .heading, attrs: .init(level: Int.random(in: 1...3, using: &generator)),
                content: inline(&generator))
        case .horizontalRule:
            return RichTextNode(type: .horizontalRule)
        case .bulletList, .orderedList:
            return RichTextNode(
                type: Bool.random(using: &generator) ? .bulletList : .orderedList,
                content: (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                    RichTextNode(type: .listItem, content: [block(depth: depth + 1, using: &generator)])
                })
        case .blockquote:
            return RichTextNode(type: .blockquote, content: [block(depth: depth + 1, using: &generator)])
        default:
            return RichTextNode(type: .paragraph, content: inline(&generator))
        }
    }
}

/// The domain's generator, for the standard library's random APIs in tests.
extension SplitMix64: RandomNumberGenerator {}
