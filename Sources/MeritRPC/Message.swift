import MeritJSON

/// The `id` of a request, echoed unchanged in its response.
public enum RequestID: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case null

    /// The id as it goes on the wire.
    public var json: JSON {
        switch self {
        case .string(let string): return .string(string)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .null: return .null
        }
    }
}

/// A valid JSON-RPC 2.0 request or notification.
public struct Request: Sendable {
    /// The id; `nil` for a notification, which is never answered.
    public var id: RequestID?
    /// The method name.
    public var method: String
    /// The params: an object, an array, or `nil` when absent.
    public var params: JSON?

    /// A request.
    public init(id: RequestID?, method: String, params: JSON?) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// Whether no response is expected.
    public var isNotification: Bool { id == nil }

    /// Decode a request object, or explain why `value` is not one.
    ///
    /// The failure carries the id when one could be read, so the error can be addressed to it; JSON-RPC says an
    /// id that cannot be determined is answered as `null`.
    public static func decode(_ value: JSON) -> Result<Request, InvalidRequest> {
        guard case .object(let object) = value else {
            return .failure(InvalidRequest(id: .null, reason: "a request must be an object, not \(value.kindName)"))
        }
        var id: RequestID?
        var idError: String?
        var jsonrpc: JSON?
        var method: JSON?
        var params: JSON?
        // A repeated member is refused, never "last one wins": a proxy that read the first value and merit the
        // last must never disagree about what was asked.
        if let repeated = object.firstRepeatedName {
            let id: RequestID
            switch object["id"] {
            case .string(let string)? where !repeated.isSameMemberName(as: "id"): id = .string(string)
            case .int(let number)? where !repeated.isSameMemberName(as: "id"): id = .int(number)
            default: id = .null
            }
            return .failure(InvalidRequest(id: id, reason: "the request object has the member \"\(repeated)\" twice"))
        }
        for (key, member) in object.members {
            // Compared as member names (length first), which is cheaper than a switch on strings.
            if key.isSameMemberName(as: "jsonrpc") {
                jsonrpc = member
            } else if key.isSameMemberName(as: "method") {
                method = member
            } else if key.isSameMemberName(as: "params") {
                params = member
            } else if key.isSameMemberName(as: "id") {
                switch member {
                case .string(let string): id = .string(string)
                case .int(let number): id = .int(number)
                case .double(let number): id = .double(number)
                case .null: id = .null
                default: idError = "id must be a string, a number or null, not \(member.kindName)"
                }
            }
            // JSON-RPC 2.0 does not forbid other members; they are ignored.
        }
        let replyID = id ?? .null
        if let idError { return .failure(InvalidRequest(id: .null, reason: idError)) }
        guard case .string("2.0")? = jsonrpc else {
            return .failure(InvalidRequest(id: replyID, reason: "jsonrpc must be \"2.0\""))
        }
        guard case .string(let name)? = method else {
            let reason = method == nil ? "method is required" : "method must be a string"
            return .failure(InvalidRequest(id: replyID, reason: reason))
        }
        if let params {
            switch params {
            case .object, .array: break
            default:
                return .failure(InvalidRequest(id: replyID, reason: "params must be an object or an array"))
            }
        }
        return .success(Request(id: id, method: name, params: params))
    }
}

/// Why a JSON value is not a request, and the id to answer with.
public struct InvalidRequest: Error, Sendable {
    /// The id to address the error to (`null` when it could not be read).
    public var id: RequestID
    /// What is wrong.
    public var reason: String
}

/// Write a notification line's JSON: `{"jsonrpc":"2.0","method":…,"params":…}`.
public func writeNotification(method: String, params: JSON, to writer: inout JSONWriter) {
    writer.writeRaw("{\"jsonrpc\":\"2.0\",\"method\":")
    writer.write(method)
    writer.writeRaw(",\"params\":")
    writer.write(params)
    writer.writeRaw("}")
}
