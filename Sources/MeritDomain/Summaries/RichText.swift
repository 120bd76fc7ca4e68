/// A summary's body: a rich-text document (ProseMirror-style JSON) held as its compact JSON, exactly as the API
/// writes it, with its members in the order they were sent.
///
/// The API's answers, the log and snapshots copy these bytes as they stand: a body is checked once, when it arrives,
/// and is never rebuilt or encoded again. A body is made from a request's JSON in two steps, as every other field
/// is: `Candidate(reading:path:)` reads it (its size, and its shape: every member known and of its type), and the
/// command that stores it holds it to the grammar (`Candidate.checked()`) among its other checks. Both come from one
/// pass over the bytes.
///
/// The grammar: a `doc` of blocks (paragraph, heading with `attrs.level` 1–3, bullet_list and ordered_list of at
/// least one list_item, list_item and blockquote of at least one block, horizontal_rule), paragraphs and headings of
/// `text` nodes with a non-empty `text` and marks bold, italic, underline, strike and link (with `attrs.href`), each
/// at most once. Anything else is a `validation_error` whose field is the JSON path of the offender
/// (`body.content[1].content[0].marks[0].type`).
public struct RichText: Sendable, Equatable {
    /// The most bytes a body may take written as compact JSON (256 KB).
    public static let maximumBytes = 262_144

    /// The document as compact JSON, in UTF-8.
    public let bytes: SharedBytes

    /// The document as compact JSON, copied into an array.
    public var json: [UInt8] { bytes.array }

    /// The body whose compact JSON (as the API's writer writes it: no whitespace) is `json`, found at `path`
    /// (`body`), read and held to the grammar.
    public init(validating json: [UInt8], path: String) throws(DomainError) {
        self = try Candidate(reading: json, path: path).checked()
    }

    /// The body of `document`, written as compact JSON with its members in `RichTextNode.encode(to:)`'s order, read
    /// and held to the grammar.
    public init(document: RichTextNode, path: String) throws(DomainError) {
        try self.init(validating: Self.compactJSON(of: document), path: path)
    }

    /// A body read back from storage, which was checked when it was written.
    @usableFromInline
    init(stored bytes: SharedBytes) {
        self.bytes = bytes
    }

    /// A body read back from storage, held in an array.
    @usableFromInline
    init(stored json: [UInt8]) {
        self.init(stored: SharedBytes(json))
    }

    /// A body read from a request, whose grammar the command that stores it has yet to check.
    public struct Candidate: Sendable {
        /// The document as compact JSON.
        public let json: [UInt8]
        /// The first rule of the grammar it breaks, in the order the grammar is checked.
        private let violation: DomainError?

        /// Read the body whose compact JSON is `json`, found at `path`: at most `maximumBytes`, and every node,
        /// mark and attribute an object of known members of their types, else a `validation_error` naming the first
        /// offender. Where the nodes are, and what they hold, is for `checked()`.
        public init(reading json: [UInt8], path: String) throws(DomainError) {
            guard json.count <= RichText.maximumBytes else {
                throw DomainError.invalid(
                    path,
                    "is \(json.count) bytes written as compact JSON; the most is \(RichText.maximumBytes) (256 KB)")
            }
            self.violation = try json.withUnsafeBufferPointer { bytes throws(DomainError) in
                var grammar = Grammar(bytes, root: path)
                return try grammar.document()
            }
            self.json = json
        }

        /// The body, if it keeps the grammar; else a `validation_error` naming the first offending member (the
        /// document's type, then each node's members, then what its content holds, in order).
        public func checked() throws(DomainError) -> RichText {
            if let violation { throw violation }
            return RichText(stored: json)
        }
    }
}

extension RichText: FieldValue {
    @inlinable
    public func write<Encoder: FieldEncoder & ~Copyable>(to encoder: inout Encoder) {
        bytes.withUnsafeBufferPointer { encoder.writeCompactJSON($0) }
    }

    @inlinable
    public static func read<Decoder: FieldDecoder>(from decoder: inout Decoder) throws(StoredFormError) -> RichText {
        RichText(stored: try decoder.readCompactJSON())
    }

    /// A body stored as a tree (schema version 1 of the summary's change kinds), as the API showed it: its compact
    /// JSON with the members in `RichTextNode.encode(to:)`'s order.
    @usableFromInline
    init(storedTree tree: RichTextNode) {
        self.init(stored: Self.compactJSON(of: tree))
    }
}

// MARK: - Reading

extension RichText {
    /// Reads a body's compact JSON once from start to end. What is not of a rich-text document's shape is thrown at
    /// once, naming the first offender in the order the members come; what breaks the grammar is gathered and
    /// returned, so that a body with both gets the error of its shape, as when the two were read separately.
    fileprivate struct Grammar {
        /// A step of the path: a member, or an element of an array.
        enum Step {
            case member(StaticString)
            case element(Int)
        }

        /// Where a string lies in the bytes, between its quotes, and whether it holds escapes.
        struct Token {
            var start: Int
            var end: Int
            var escaped: Bool
        }

        /// The members of a node, each a bit of a set.
        enum Member: UInt8 {
            case type = 1
            case attrs = 2
            case content = 4
            case text = 8
            case marks = 16
        }

        /// What holds a node.
        enum Holder {
            /// Nothing: the node is the document.
            case root
            /// A node of this kind.
            case node(RichTextNode.Kind)
            /// A node whose type is missing or unknown, which is an error of shape already.
            case unknown
        }

        /// A node's `type`, read ahead of its other members.
        enum FoundType {
            case kind(RichTextNode.Kind)
            /// Not a known kind: the error, thrown when the members reach it.
            case invalid(DomainError)
            case missing
        }

        /// The names of the members of nodes and marks, the kinds of node and the kinds of mark, to look up the
        /// bytes of a name among.
        static let members: [(name: StaticString, member: Member)] = [
            ("type", .type), ("attrs", .attrs), ("content", .content), ("text", .text), ("marks", .marks),
        ]
        static let kinds: [(name: StaticString, kind: RichTextNode.Kind)] = [
            ("text", .text), ("paragraph", .paragraph), ("doc", .doc), ("heading", .heading),
            ("bullet_list", .bulletList), ("ordered_list", .orderedList), ("list_item", .listItem),
            ("blockquote", .blockquote), ("horizontal_rule", .horizontalRule),
        ]
        static let markKinds: [(name: StaticString, kind: RichTextNode.Mark.Kind)] = [
            ("bold", .bold), ("italic", .italic), ("underline", .underline), ("strike", .strike), ("link", .link),
        ]

        /// How deep objects and arrays may nest: far beyond any real document, short of the stack's end.
        static let maximumDepth = 512

        let base: UnsafePointer<UInt8>
        let end: Int
        var index = 0
        let root: String
        var path: [Step] = []
        /// How many objects and arrays are open.
        var depth = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>, root: String) {
            // An empty buffer may have no address; any will do, since nothing is read at or past `end`.
            base = bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!
            end = bytes.count
            self.root = root
            path.reserveCapacity(16)
        }

        // MARK: Nodes

        /// The document; returns the first rule of the grammar it breaks.
        mutating func document() throws(DomainError) -> DomainError? {
            let violation = try node(in: .root)
            guard index == end else { throw malformed() }
            return violation
        }

        /// A node held by `holder`; returns the first rule of the grammar it breaks, in the order they are checked:
        /// its kind where it is, its members, then its content or its text and marks.
        mutating func node(in holder: Holder) throws(DomainError) -> DomainError? {
            guard peek() == UInt8(ascii: "{") else {
                throw failure(nil, "must be a rich-text node (an object), not \(kindName())")
            }
            let found: FoundType
            let afterType: Int?
            if let leading = try leadingType() {
                (found, afterType) = leading
            } else {
                (found, afterType) = try nodeType()
            }
            var type: RichTextNode.Kind?
            if case .kind(let kind) = found { type = kind }
            let contentHolder: Holder = type.map { .node($0) } ?? .unknown
            var hasAttributes = false
            var level: Int?
            var children: Int?
            var contentViolation: DomainError?
            var text: Token?
            var hasMarks = false
            var marksViolation: DomainError?
            try members(of: "a rich-text node", 0x1F, after: afterType) {
                grammar, name throws(DomainError) in
                switch name {
                case .type:
                    if case .invalid(let error) = found { throw error }
                    try grammar.skipValue()
                case .attrs:
                    hasAttributes = true
                    level = try grammar.headingLevel()
                case .content:
                    (children, contentViolation) = try grammar.content(in: contentHolder)
                case .text:
                    guard grammar.peek() == UInt8(ascii: "\"") else {
                        throw grammar.failure("text", "must be a string")
                    }
                    text = try grammar.string()
                case .marks:
                    hasMarks = true
                    marksViolation = try grammar.marks()
                }
            }
            guard let type else { throw failure("type", "is required") }
            switch holder {
            case .root where type != .doc:
                return failure("type", "must be 'doc' at the top of a rich-text body, not '\(type.rawValue)'")
            case .node(let parent) where !parent.holds(type):
                return failure("type", "is '\(type.rawValue)', but a \(parent.rawValue) holds only \(parent.holdsWhat)")
            default:
                break
            }
            if hasAttributes && type != .heading {
                return failure("attrs", "is not allowed on a \(type.rawValue) node")
            }
            if children != nil && !type.hasContent {
                return failure("content", "is not allowed on a \(type.rawValue) node")
            }
            if type != .text {
                if text != nil { return failure("text", "is only allowed on a text node") }
                if hasMarks { return failure("marks", "are only allowed on a text node") }
            }
            if type == .heading {
                guard let level else { return failure("attrs.level", "is required on a heading (1, 2 or 3)") }
                guard (1...3).contains(level) else { return failure("attrs.level", "must be 1, 2 or 3, not \(level)") }
            }
            if type.needsContent {
                guard let children else { return failure("content", "is required on a \(type.rawValue) node") }
                if children == 0 { return failure("content", "must hold at least one node in a \(type.rawValue)") }
            }
            if type == .text {
                guard let text, text.end > text.start else {
                    return failure("text", "is required on a text node and must not be empty")
                }
                return marksViolation
            }
            return contentViolation
        }

        /// The kind of the node whose object starts at `index` and where its value ends, when the object starts
        /// with `{"type":"` and names a kind, as nearly every node does: read without stepping into the object as
        /// `nodeType()` does; `index` stays where it was.
        @inline(__always)
        mutating func leadingType() throws(DomainError) -> (FoundType, after: Int?)? {
            let prefix: StaticString = #"{"type":""#
            let count = prefix.utf8CodeUnitCount
            // Where stepping in would be too deep, `nodeType()` says so, as it always has.
            guard depth < Self.maximumDepth, end - index > count, sameBytes(base + index, prefix.utf8Start, count)
            else { return nil }
            let start = index
            defer { index = start }
            index += count - 1
            let value = try string()
            guard let kind = Self.kinds.first(where: { equals(value, $0.name) })?.kind else { return nil }
            return (.kind(kind), index)
        }

        /// The `type` of the node whose object starts at `index`, wherever it is among the members; `index` stays
        /// where it was. When `type` is the first member and names a kind (as in most documents), also where its
        /// value ends, for `members` to go on from there rather than read it again.
        mutating func nodeType() throws(DomainError) -> (FoundType, after: Int?) {
            let start = index
            defer { index = start }
            try open()
            defer { depth -= 1 }
            guard peek() != UInt8(ascii: "}") else { return (.missing, nil) }
            var first = true
            repeat {
                let name = try memberName()
                if equals(name, "type") {
                    guard peek() == UInt8(ascii: "\"") else {
                        return (.invalid(failure("type", "must be a string")), nil)
                    }
                    let value = try string()
                    guard let kind = Self.kinds.first(where: { equals(value, $0.name) })?.kind else {
                        return (
                            .invalid(
                                failure(
                                    "type", "is '\(decoded(value))', which is not one of \(RichTextNode.Kind.names)")),
                            nil
                        )
                    }
                    return (.kind(kind), first ? index : nil)
                }
                first = false
                try skipValue()
            } while try nextMember()
            return (.missing, nil)
        }

        /// Call `member` with each member of the object at `index` (a node's or a mark's, `what`) after its name and
        /// colon, refusing names but those `allowed`, and repeated ones; `index` ends after the object. With `after`,
        /// the first member is a `type` whose value `nodeType()` read, ending there: the members go on from it.
        @inline(__always)
        mutating func members(
            of what: StaticString, _ allowed: UInt8, after type: Int? = nil,
            _ member: (inout Grammar, Member) throws(DomainError) -> Void
        ) throws(DomainError) {
            try open()
            defer { depth -= 1 }
            var seen: UInt8 = 0
            if let type {
                index = type
                seen = Member.type.rawValue
                guard try nextMember() else { return }
            } else if peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            repeat {
                let name = try memberName()
                guard let known = Self.members.first(where: { equals(name, $0.name) })?.member,
                    allowed & known.rawValue != 0
                else {
                    throw failure(decoded(name), "is not a member of \(what)")
                }
                guard seen & known.rawValue == 0 else {
                    throw failure(decoded(name), "appears more than once; give each member once")
                }
                seen |= known.rawValue
                try member(&self, known)
            } while try nextMember()
        }

        /// Enter the object or array at `index`.
        mutating func open() throws(DomainError) {
            depth += 1
            guard depth <= Self.maximumDepth else { throw failure(nil, "nests too deeply") }
            index += 1
        }

        /// A node's `attrs`: an object of `level`, an integer; returns the level.
        mutating func headingLevel() throws(DomainError) -> Int? {
            guard peek() == UInt8(ascii: "{") else {
                throw failure("attrs", "must be an object (an object), not \(kindName())")
            }
            path.append(.member("attrs"))
            defer { path.removeLast() }
            try open()
            defer { depth -= 1 }
            guard peek() != UInt8(ascii: "}") else {
                index += 1
                return nil
            }
            var level: Int?
            repeat {
                let name = try memberName()
                guard equals(name, "level") else {
                    throw failure(decoded(name), "is not an attribute of a node (only level)")
                }
                guard let value = try integer() else { throw failure("level", "must be an integer") }
                level = value
            } while try nextMember()
            return level
        }

        /// A node's `content`: an array of nodes; returns how many, and the first rule of the grammar they break.
        mutating func content(in holder: Holder) throws(DomainError) -> (count: Int, violation: DomainError?) {
            guard peek() == UInt8(ascii: "[") else { throw failure("content", "must be an array, not \(kindName())") }
            path.append(.member("content"))
            defer { path.removeLast() }
            var violation: DomainError?
            let count = try elements { grammar throws(DomainError) in
                let child = try grammar.node(in: holder)
                if violation == nil { violation = child }
            }
            return (count, violation)
        }

        /// A text node's `marks`: an array of marks; returns the first rule of the grammar they break.
        mutating func marks() throws(DomainError) -> DomainError? {
            guard peek() == UInt8(ascii: "[") else { throw failure("marks", "must be an array, not \(kindName())") }
            path.append(.member("marks"))
            defer { path.removeLast() }
            var seen: UInt8 = 0
            var violation: DomainError?
            _ = try elements { grammar throws(DomainError) in
                let mark = try grammar.mark(seen: &seen)
                if violation == nil { violation = mark }
            }
            return violation
        }

        /// One mark: `type`, and `attrs` with `href`; returns the rule of the grammar it breaks: a kind already
        /// seen, a link without an address, `attrs` on another kind.
        mutating func mark(seen: inout UInt8) throws(DomainError) -> DomainError? {
            guard peek() == UInt8(ascii: "{") else {
                throw failure(nil, "must be a mark (an object), not \(kindName())")
            }
            var type: RichTextNode.Mark.Kind?
            var hasAttributes = false
            var hasHref = false
            try members(of: "a mark", Member.type.rawValue | Member.attrs.rawValue) {
                grammar, name throws(DomainError) in
                if name == .type {
                    guard grammar.peek() == UInt8(ascii: "\"") else {
                        throw grammar.failure("type", "must be a string")
                    }
                    let value = try grammar.string()
                    type = Self.markKinds.first { grammar.equals(value, $0.name) }?.kind
                    if type == nil {
                        throw grammar.failure(
                            "type",
                            "is '\(grammar.decoded(value))', which is not one of \(RichTextNode.Mark.Kind.names)")
                    }
                } else {
                    hasAttributes = true
                    hasHref = try grammar.markHref()
                }
            }
            guard let type else { throw failure("type", "is required") }
            guard seen & type.bit == 0 else { return failure("type", "repeats the mark \(type.rawValue)") }
            seen |= type.bit
            if type == .link {
                if !hasHref { return failure("attrs.href", "is required on a link mark") }
            } else if hasAttributes {
                return failure("attrs", "is only allowed on a link mark")
            }
            return nil
        }

        /// A mark's `attrs`: an object of `href`, a string; returns whether it holds a non-empty one.
        mutating func markHref() throws(DomainError) -> Bool {
            guard peek() == UInt8(ascii: "{") else {
                throw failure("attrs", "must be an object (an object), not \(kindName())")
            }
            path.append(.member("attrs"))
            defer { path.removeLast() }
            try open()
            defer { depth -= 1 }
            guard peek() != UInt8(ascii: "}") else {
                index += 1
                return false
            }
            var hasHref = false
            repeat {
                let name = try memberName()
                guard equals(name, "href") else {
                    throw failure(decoded(name), "is not an attribute of a mark (only href)")
                }
                guard peek() == UInt8(ascii: "\"") else { throw failure("href", "must be a string") }
                let href = try string()
                hasHref = href.end > href.start
            } while try nextMember()
            return hasHref
        }

        /// Call `element` for each element of the array at `index`, with its offset on the path; returns how many.
        @inline(__always)
        mutating func elements(_ element: (inout Grammar) throws(DomainError) -> Void) throws(DomainError) -> Int {
            try open()
            defer { depth -= 1 }
            if peek() == UInt8(ascii: "]") {
                index += 1
                return 0
            }
            var count = 0
            while true {
                path.append(.element(count))
                try element(&self)
                path.removeLast()
                count += 1
                switch peek() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return count
                default: throw malformed()
                }
            }
        }

        // MARK: Errors

        /// A validation error naming the value being read, or its member `last` (which may be a dotted path).
        func failure(_ last: String?, _ problem: String) -> DomainError {
            var field = root
            for step in path {
                switch step {
                case .member(let name): field += ".\(name)"
                case .element(let offset): field += "[\(offset)]"
                }
            }
            if let last { field += "." + last }
            return DomainError.invalid(field, problem)
        }

        func malformed() -> DomainError {
            DomainError.invalid(root, "is not compact JSON (at byte \(index))")
        }

        /// The kind of the value at `index`, as a user would say it.
        func kindName() -> String {
            guard let first = peek() else { return "nothing" }
            switch first {
            case UInt8(ascii: "{"): return "an object"
            case UInt8(ascii: "["): return "an array"
            case UInt8(ascii: "\""): return "a string"
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
            case UInt8(ascii: "n"): return "null"
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var position = index
                while position < end, Self.isNumberByte(base[position]) {
                    if base[position] == UInt8(ascii: ".") || base[position] | 0x20 == UInt8(ascii: "e") {
                        return "a number"
                    }
                    position += 1
                }
                return "an integer"
            default:
                return "something that is not JSON"
            }
        }

        // MARK: JSON

        @inline(__always)
        func peek() -> UInt8? {
            index < end ? base[index] : nil
        }

        /// A member's name and the colon after it.
        @inline(__always)
        mutating func memberName() throws(DomainError) -> Token {
            guard peek() == UInt8(ascii: "\"") else { throw malformed() }
            let name = try string()
            guard peek() == UInt8(ascii: ":") else { throw malformed() }
            index += 1
            return name
        }

        /// After a member's value: whether another member follows (its comma is read), or the object ends (its
        /// brace is read).
        @inline(__always)
        mutating func nextMember() throws(DomainError) -> Bool {
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
                return true
            case UInt8(ascii: "}"):
                index += 1
                return false
            default:
                throw malformed()
            }
        }

        /// Whether the string `token` is `text`.
        @inline(__always)
        func equals(_ token: Token, _ text: StaticString) -> Bool {
            if token.escaped { return decoded(token) == text.description }
            return token.end - token.start == text.utf8CodeUnitCount
                && sameBytes(base + token.start, text.utf8Start, text.utf8CodeUnitCount)
        }

        private func sameBytes(_ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, _ count: Int) -> Bool {
            for offset in 0..<count where left[offset] != right[offset] { return false }
            return true
        }

        /// The text of the string `token`, its escapes read.
        func decoded(_ token: Token) -> String {
            let raw = UnsafeBufferPointer(start: base + token.start, count: token.end - token.start)
            guard token.escaped else { return String(decoding: raw, as: UTF8.self) }
            var scalars = String.UnicodeScalarView()
            var position = 0
            var plain: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
                plain.removeAll()
            }
            while position < raw.count {
                guard raw[position] == UInt8(ascii: "\\") else {
                    plain.append(raw[position])
                    position += 1
                    continue
                }
                flush()
                let escape = raw[position + 1]
                position += 2
                switch escape {
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var value = Self.hexValue(raw, at: position)
                    position += 4
                    if (0xD800..<0xDC00).contains(value) {
                        // `string()` has checked that the low half follows.
                        let low = Self.hexValue(raw, at: position + 2)
                        value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
                        position += 6
                    }
                    scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                default: scalars.append(Unicode.Scalar(escape))
                }
            }
            flush()
            return String(scalars)
        }

        /// The four hexadecimal digits at `position`, which `string()` has checked.
        private static func hexValue(_ raw: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 {
                let digit = raw[position + offset] | 0x20
                value = value << 4 | UInt32(digit >= UInt8(ascii: "a") ? digit - UInt8(ascii: "a") + 10 : digit - 48)
            }
            return value
        }

        /// A string from its opening quote at `index` to after its closing one: its escapes checked, its bytes
        /// UTF-8.
        mutating func string() throws(DomainError) -> Token {
            index += 1
            let start = index
            var escaped = false
            var high: UInt64 = 0
            while true {
                // Eight bytes at a time to the first that is a quote, a backslash or a control character.
                while end - index >= 8 {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                    high |= word
                    let flags = Self.needingAttention(word)
                    if flags != 0 {
                        index += flags.trailingZeroBitCount / 8
                        break
                    }
                    index += 8
                }
                guard index < end else { throw malformed() }
                let byte = base[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte < 0x20 { throw malformed() }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    try escape()
                    continue
                }
                high |= UInt64(byte)
                index += 1
            }
            let token = Token(start: start, end: index, escaped: escaped)
            index += 1
            if high & 0x8080_8080_8080_8080 != 0 {
                let raw = UnsafeBufferPointer(start: base + token.start, count: token.end - token.start)
                guard String(validating: raw, as: UTF8.self) != nil else { throw malformed() }
            }
            return token
        }

        /// An escape sequence at `index`: one of JSON's, a `\u` high surrogate followed by a low one.
        private mutating func escape() throws(DomainError) {
            guard end - index >= 2 else { throw malformed() }
            switch base[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 2
            case UInt8(ascii: "u"):
                let value = try hex(at: index + 2)
                index += 6
                if (0xDC00..<0xE000).contains(value) { throw malformed() }
                if (0xD800..<0xDC00).contains(value) {
                    guard end - index >= 6, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u"),
                        (0xDC00..<0xE000).contains(try hex(at: index + 2))
                    else { throw malformed() }
                    index += 6
                }
            default:
                throw malformed()
            }
        }

        private func hex(at position: Int) throws(DomainError) -> UInt32 {
            guard end - position >= 4 else { throw malformed() }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = base[position + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw malformed()
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// The high bit of each byte of `word` that is a quote, a backslash or a control character; the lowest one
        /// flagged is always such a byte (the bytes after it may be flagged wrongly, by a borrow).
        @inline(__always)
        private static func needingAttention(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let control = (word &- 0x20 &* ones) & ~word & highs
            let quote = word ^ 0x22 &* ones
            let backslash = word ^ 0x5C &* ones
            return control | ((quote &- ones) & ~quote & highs) | ((backslash &- ones) & ~backslash & highs)
        }

        static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                true
            default: false
            }
        }

        /// The value at `index` if it is a number with an integer value (`2`, `2.0`, `2e0`), else `nil`; `index`
        /// ends after it either way.
        mutating func integer() throws(DomainError) -> Int? {
            guard let first = peek(), first == UInt8(ascii: "-") || (48...57).contains(first) else {
                try skipValue()
                return nil
            }
            let start = index
            try number()
            let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
            if let exact = Int64(text) { return Int(exactly: exact) }
            return Double(text).flatMap { Int64(exactly: $0) }.flatMap { Int(exactly: $0) }
        }

        /// Skip a number of JSON's grammar.
        private mutating func number() throws(DomainError) {
            func digits(_ grammar: inout Grammar) throws(DomainError) {
                guard let byte = grammar.peek(), (48...57).contains(byte) else { throw grammar.malformed() }
                while let byte = grammar.peek(), (48...57).contains(byte) { grammar.index += 1 }
            }
            if peek() == UInt8(ascii: "-") { index += 1 }
            if peek() == UInt8(ascii: "0") {
                index += 1
            } else {
                try digits(&self)
            }
            if peek() == UInt8(ascii: ".") {
                index += 1
                try digits(&self)
            }
            if let byte = peek(), byte | 0x20 == UInt8(ascii: "e") {
                index += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                try digits(&self)
            }
        }

        /// Skip any value.
        mutating func skipValue() throws(DomainError) {
            switch peek() {
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "{"):
                try open()
                defer { depth -= 1 }
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    return
                }
                repeat {
                    _ = try memberName()
                    try skipValue()
                } while try nextMember()
            case UInt8(ascii: "["):
                _ = try elements { grammar throws(DomainError) in try grammar.skipValue() }
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        private mutating func literal(_ text: StaticString) throws(DomainError) {
            guard end - index >= text.utf8CodeUnitCount, sameBytes(base + index, text.utf8Start, text.utf8CodeUnitCount)
            else { throw malformed() }
            index += text.utf8CodeUnitCount
        }
    }
}

extension RichTextNode.Mark.Kind {
    /// The kind's bit in a set of kinds.
    fileprivate var bit: UInt8 {
        switch self {
        case .bold: 1
        case .italic: 2
        case .underline: 4
        case .strike: 8
        case .link: 16
        }
    }
}

extension RichTextNode.Kind {
    /// Whether `content` is a member of this kind of node.
    fileprivate var hasContent: Bool { self != .text && self != .horizontalRule }

    /// Whether its `content` must hold at least one node.
    fileprivate var needsContent: Bool {
        self == .listItem || self == .blockquote || self == .bulletList || self == .orderedList
    }

    /// Whether its `content` may hold a node of kind `child`.
    fileprivate func holds(_ child: Self) -> Bool {
        switch self {
        case .doc, .blockquote, .listItem: child.isBlock
        case .bulletList, .orderedList: child == .listItem
        case .paragraph, .heading: child == .text
        case .horizontalRule, .text: false
        }
    }

    /// What its `content` holds, for messages.
    fileprivate var holdsWhat: String {
        switch self {
        case .bulletList, .orderedList: "list_item nodes"
        case .paragraph, .heading: "text nodes"
        default: "block nodes"
        }
    }
}

// MARK: - Trees

extension RichText {
    /// `document` as compact JSON, as the API's JSON writer writes it: the members in `RichTextNode.encode(to:)`'s
    /// order, an absent one left out.
    static func compactJSON(of document: RichTextNode) -> [UInt8] {
        var json: [UInt8] = []
        append(document, to: &json)
        return json
    }

    private static func append(_ node: RichTextNode, to json: inout [UInt8]) {
        json += #"{"type":"#.utf8
        appendQuoted(node.type.rawValue, to: &json)
        if let attributes = node.attrs {
            json += #","attrs":{"#.utf8
            if let level = attributes.level { json += #""level":\#(level)"#.utf8 }
            json.append(UInt8(ascii: "}"))
        }
        if let content = node.content {
            json += #","content":["#.utf8
            for (offset, child) in content.enumerated() {
                if offset > 0 { json.append(UInt8(ascii: ",")) }
                append(child, to: &json)
            }
            json.append(UInt8(ascii: "]"))
        }
        if let text = node.text {
            json += #","text":"#.utf8
            appendQuoted(text, to: &json)
        }
        if let marks = node.marks {
            json += #","marks":["#.utf8
            for (offset, mark) in marks.enumerated() {
                if offset > 0 { json.append(UInt8(ascii: ",")) }
                json += #"{"type":"#.utf8
                appendQuoted(mark.type.rawValue, to: &json)
                if let attributes = mark.attrs {
                    json += #","attrs":{"#.utf8
                    if let href = attributes.href {
                        json += #""href":"#.utf8
                        appendQuoted(href, to: &json)
                    }
                    json.append(UInt8(ascii: "}"))
                }
                json.append(UInt8(ascii: "}"))
            }
            json.append(UInt8(ascii: "]"))
        }
        json.append(UInt8(ascii: "}"))
    }

    /// `text` quoted and escaped as the API's JSON writer escapes strings: the quote, the backslash and control
    /// characters (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00xx`), and U+2028 and U+2029, which are line breaks to
    /// JavaScript; everything else as its UTF-8.
    static func appendQuoted(_ text: String, to json: inout [UInt8]) {
        json.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += #"\""#.utf8
            case "\\": json += #"\\"#.utf8
            case "\n": json += #"\n"#.utf8
            case "\r": json += #"\r"#.utf8
            case "\t": json += #"\t"#.utf8
            case "\u{8}": json += #"\b"#.utf8
            case "\u{C}": json += #"\f"#.utf8
            case "\u{2028}": json += #"\u2028"#.utf8
            case "\u{2029}": json += #"\u2029"#.utf8
            case "\u{0}"..."\u{1F}":
                let digits = Array("0123456789abcdef".utf8)
                json += #"\u00"#.utf8
                json.append(digits[Int(scalar.value >> 4)])
                json.append(digits[Int(scalar.value & 0xF)])
            default: json += String(scalar).utf8
            }
        }
        json.append(UInt8(ascii: "\""))
    }
}
