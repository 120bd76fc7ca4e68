/// A rich-text document (ProseMirror-style JSON) as a tree: a `doc` node whose content is block nodes, down to `text`
/// nodes with marks.
///
/// A summary's body is its compact JSON (`RichText`), which the API, the log and snapshots copy as it stands. The tree
/// is how summaries stored their bodies before (schema version 1 of their change kinds), which `RichText` still
/// reads, and what `plainText` and `markdown` walk. Members a node was given are kept (an absent `content` stays
/// absent, an empty one stays empty), in the order `encode(to:)` lists them.
public struct RichTextNode: FieldRecord {
    /// The kinds of node.
    public enum Kind: String, FieldEnumeration {
        case doc, paragraph, heading
        case bulletList = "bullet_list"
        case orderedList = "ordered_list"
        case listItem = "list_item"
        case blockquote
        case horizontalRule = "horizontal_rule"
        case text

        /// Whether the node is a block (what a document, a list item and a quote hold).
        public var isBlock: Bool { self != .doc && self != .text && self != .listItem }
    }

    /// A node's attributes: only a heading's level.
    public struct Attributes: FieldRecord {
        public var level: Int?

        /// Attributes.
        public init(level: Int?) { self.level = level }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encodeIfPresent("level", level)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(level: try decoder.decodeIfPresent("level"))
        }
    }

    /// A mark on a text node.
    public struct Mark: FieldRecord {
        /// The kinds of mark.
        public enum Kind: String, FieldEnumeration {
            case bold, italic, underline, strike, link
        }

        /// A mark's attributes: only a link's `href`.
        public struct Attributes: FieldRecord {
            public var href: String?

            /// Attributes.
            public init(href: String?) { self.href = href }

            @inlinable
            public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
                encoder.encodeIfPresent("href", href)
            }

            @inlinable
            public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
                self.init(href: try decoder.decodeIfPresent("href"))
            }
        }

        public var type: Kind
        public var attrs: Attributes?

        /// A mark.
        public init(type: Kind, attrs: Attributes?) {
            self.type = type
            self.attrs = attrs
        }

        @inlinable
        public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
            encoder.encode("type", type)
            encoder.encodeIfPresent("attrs", attrs)
        }

        @inlinable
        public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
            self.init(type: try decoder.decode("type"), attrs: try decoder.decodeIfPresent("attrs"))
        }
    }

    public var type: Kind
    public var attrs: Attributes?
    public var content: [RichTextNode]?
    public var text: String?
    public var marks: [Mark]?

    /// A node with the members it was given.
    public init(
        type: Kind, attrs: Attributes? = nil, content: [RichTextNode]? = nil, text: String? = nil, marks: [Mark]? = nil
    ) {
        self.type = type
        self.attrs = attrs
        self.content = content
        self.text = text
        self.marks = marks
    }

    @inlinable
    public func encode<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        encoder.encode("type", type)
        encoder.encodeIfPresent("attrs", attrs)
        encoder.encodeIfPresent("content", content)
        encoder.encodeIfPresent("text", text)
        encoder.encodeIfPresent("marks", marks)
    }

    @inlinable
    public init<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) {
        self.init(
            type: try decoder.decode("type"), attrs: try decoder.decodeIfPresent("attrs"),
            content: try decoder.decodeIfPresent("content"), text: try decoder.decodeIfPresent("text"),
            marks: try decoder.decodeIfPresent("marks"))
    }
}

// MARK: - Renderings

extension RichTextNode {
    /// The document as plain text: blocks separated by a blank line, list items as `- ` or `1. `, quotes indented
    /// by `> `, a rule as `---`; marks dropped (a link shows its address after its text).
    public var plainText: String {
        render(Plain()).joined(separator: "\n")
    }

    /// The document as Markdown (CommonMark with `~~strike~~` and `<u>underline</u>`).
    public var markdown: String {
        render(Markdown()).joined(separator: "\n")
    }

    private func render(_ style: some RenderingStyle) -> [String] {
        switch type {
        case .doc, .listItem:
            return Self.blocks(content ?? [], style)
        case .paragraph:
            return [inline(style)]
        case .heading:
            return [style.heading(level: attrs?.level ?? 1) + inline(style)]
        case .blockquote:
            return Self.blocks(content ?? [], style).map { $0.isEmpty ? ">" : "> " + $0 }
        case .horizontalRule:
            return ["---"]
        case .bulletList, .orderedList:
            var lines: [String] = []
            for (offset, item) in (content ?? []).enumerated() {
                let marker = type == .bulletList ? "- " : "\(offset + 1). "
                let indent = String(repeating: " ", count: marker.count)
                for (index, line) in item.render(style).enumerated() {
                    lines.append(index == 0 ? marker + line : (line.isEmpty ? "" : indent + line))
                }
            }
            return lines
        case .text:
            return [style.text(self)]
        }
    }

    /// Blocks one after another, with a blank line between them.
    private static func blocks(_ nodes: [RichTextNode], _ style: some RenderingStyle) -> [String] {
        var lines: [String] = []
        for node in nodes {
            if !lines.isEmpty { lines.append("") }
            lines += node.render(style)
        }
        return lines
    }

    private func inline(_ style: some RenderingStyle) -> String {
        (content ?? []).map { style.text($0) }.joined()
    }
}

private protocol RenderingStyle {
    func heading(level: Int) -> String
    func text(_ node: RichTextNode) -> String
}

private struct Plain: RenderingStyle {
    func heading(level: Int) -> String { "" }

    func text(_ node: RichTextNode) -> String {
        let text = node.text ?? ""
        if let link = node.marks?.first(where: { $0.type == .link })?.attrs?.href, link != text {
            return "\(text) (\(link))"
        }
        return text
    }
}

private struct Markdown: RenderingStyle {
    func heading(level: Int) -> String { String(repeating: "#", count: level) + " " }

    /// The text with its marks around it; spaces at either end stay outside the marks (`**led **` is no emphasis
    /// in CommonMark).
    func text(_ node: RichTextNode) -> String {
        let whole = node.text ?? ""
        let leading = whole.prefix { $0.isWhitespace }
        let rest = whole.dropFirst(leading.count)
        let trailing = String(rest.reversed().prefix { $0.isWhitespace })
        let core = rest.dropLast(trailing.count)
        guard !core.isEmpty else { return whole }
        return leading + marked(Self.escaped(String(core)), node) + trailing
    }

    private func marked(_ escaped: String, _ node: RichTextNode) -> String {
        var text = escaped
        let kinds = Set((node.marks ?? []).map(\.type))
        if kinds.contains(.bold) { text = "**\(text)**" }
        if kinds.contains(.italic) { text = "*\(text)*" }
        if kinds.contains(.strike) { text = "~~\(text)~~" }
        if kinds.contains(.underline) { text = "<u>\(text)</u>" }
        if let href = node.marks?.first(where: { $0.type == .link })?.attrs?.href {
            text = "[\(text)](\(href.replacingSpacesAndParentheses))"
        }
        return text
    }

    /// Text with the characters Markdown gives meaning to escaped.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\`*_[]<>~#|".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

extension String {
    /// An address safe inside `( )`: spaces and parentheses percent-encoded.
    fileprivate var replacingSpacesAndParentheses: String {
        var result = ""
        for character in self {
            switch character {
            case " ": result += "%20"
            case "(": result += "%28"
            case ")": result += "%29"
            default: result.append(character)
            }
        }
        return result
    }
}
