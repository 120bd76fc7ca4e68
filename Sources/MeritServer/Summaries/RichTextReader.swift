import MeritDomain
import MeritJSON

/// Reads a rich-text body from its JSON: every member known and of its type, or a `validation_error` whose field is
/// the member's JSON path (`body.content[2].content[0].marks[1].type`). The grammar itself (which nodes go where)
/// is the domain's: `RichTextNode.validateDocument`.
enum RichTextReader {
    /// The node at `path`, after checking the whole value's size as compact JSON.
    static func read(_ value: JSON, path: String) throws(DomainError) -> RichTextNode {
        let size = value.serialized().count
        guard size <= RichTextNode.maximumBytes else {
            throw DomainError.invalid(
                path, "is \(size) bytes written as compact JSON; the most is \(RichTextNode.maximumBytes) (256 KB)")
        }
        return try node(value, path: path)
    }

    private static func node(_ value: JSON, path: String) throws(DomainError) -> RichTextNode {
        let members = try object(value, path: path, what: "a rich-text node")
        var node = RichTextNode(type: .doc)
        var typeSeen = false
        for (key, member) in members {
            let memberPath = "\(path).\(key)"
            switch key {
            case "type":
                node.type = try enumeration(member, path: memberPath, RichTextNode.Kind.self)
                typeSeen = true
            case "attrs":
                let attributes = try object(member, path: memberPath, what: "an object")
                var level: Int?
                for (name, attribute) in attributes {
                    guard name == "level" else {
                        throw DomainError.invalid("\(memberPath).\(name)", "is not an attribute of a node (only level)")
                    }
                    guard let number = attribute.intValue, let int = Int(exactly: number) else {
                        throw DomainError.invalid("\(memberPath).level", "must be an integer")
                    }
                    level = int
                }
                node.attrs = RichTextNode.Attributes(level: level)
            case "content":
                let elements = try array(member, path: memberPath)
                var children: [RichTextNode] = []
                for (offset, element) in elements.enumerated() {
                    children.append(try self.node(element, path: "\(memberPath)[\(offset)]"))
                }
                node.content = children
            case "text":
                guard case .string(let text) = member else { throw DomainError.invalid(memberPath, "must be a string") }
                node.text = text
            case "marks":
                let elements = try array(member, path: memberPath)
                var marks: [RichTextNode.Mark] = []
                for (offset, element) in elements.enumerated() {
                    marks.append(try mark(element, path: "\(memberPath)[\(offset)]"))
                }
                node.marks = marks
            default:
                throw DomainError.invalid(memberPath, "is not a member of a rich-text node")
            }
        }
        guard typeSeen else { throw DomainError.invalid("\(path).type", "is required") }
        return node
    }

    private static func mark(_ value: JSON, path: String) throws(DomainError) -> RichTextNode.Mark {
        let members = try object(value, path: path, what: "a mark")
        var type: RichTextNode.Mark.Kind?
        var attrs: RichTextNode.Mark.Attributes?
        for (key, member) in members {
            let memberPath = "\(path).\(key)"
            switch key {
            case "type": type = try enumeration(member, path: memberPath, RichTextNode.Mark.Kind.self)
            case "attrs":
                var href: String?
                for (name, attribute) in try object(member, path: memberPath, what: "an object") {
                    guard name == "href" else {
                        throw DomainError.invalid("\(memberPath).\(name)", "is not an attribute of a mark (only href)")
                    }
                    guard case .string(let text) = attribute else {
                        throw DomainError.invalid("\(memberPath).href", "must be a string")
                    }
                    href = text
                }
                attrs = RichTextNode.Mark.Attributes(href: href)
            default: throw DomainError.invalid(memberPath, "is not a member of a mark")
            }
        }
        guard let type else { throw DomainError.invalid("\(path).type", "is required") }
        return RichTextNode.Mark(type: type, attrs: attrs)
    }

    private static func object(_ value: JSON, path: String, what: String) throws(DomainError) -> JSONObject {
        guard case .object(let members) = value else {
            throw DomainError.invalid(path, "must be \(what) (an object), not \(value.kindName)")
        }
        return members
    }

    private static func array(_ value: JSON, path: String) throws(DomainError) -> [JSON] {
        guard case .array(let elements) = value else {
            throw DomainError.invalid(path, "must be an array, not \(value.kindName)")
        }
        return elements
    }

    private static func enumeration<Value: FieldEnumeration>(_ value: JSON, path: String, _ type: Value.Type)
        throws(DomainError) -> Value
    {
        guard case .string(let text) = value else { throw DomainError.invalid(path, "must be a string") }
        guard let result = Value(rawValue: text) else {
            throw DomainError.invalid(path, "is '\(text)', which is not one of \(Value.names)")
        }
        return result
    }
}
