import MeritJSON

/// A JSON-RPC error as it goes on the wire: `{code, message, data: {status, code, details?}}`.
///
/// Callers pick one of the named kinds of the contract's error table; the kind fixes the JSON-RPC code, the
/// HTTP-like status and the stable `data.code`. The message is one sentence naming the field or state at fault.
public struct RPCError: Error, Sendable, Equatable {
    /// One row of the error table.
    public struct Kind: Sendable, Equatable, Hashable {
        /// The stable machine-readable name carried in `data.code`.
        public let name: String
        /// The HTTP-like status carried in `data.status`.
        public let status: Int
        /// The JSON-RPC error code.
        public let code: Int

        private init(_ name: String, status: Int, code: Int) {
            self.name = name
            self.status = status
            self.code = code
        }

        /// The line is not JSON, or is too long.
        public static let parseError = Kind("parse_error", status: 400, code: -32700)
        /// The JSON is not a valid request object, or the server is shutting down.
        public static let invalidRequest = Kind("invalid_request", status: 400, code: -32600)
        /// No such method.
        public static let methodNotFound = Kind("method_not_found", status: 404, code: -32601)
        /// A missing or malformed field, a bad range, a state the Performance API answers with 400.
        public static let validationError = Kind("validation_error", status: 400, code: -32602)
        /// No API key, or an unknown or revoked one.
        public static let authenticationRequired = Kind("authentication_required", status: 401, code: -32001)
        /// The principal lacks the permission or scope.
        public static let permissionDenied = Kind("permission_denied", status: 403, code: -32003)
        /// No such id in this organization, or not visible to the principal.
        public static let notFound = Kind("not_found", status: 404, code: -32004)
        /// A duplicate, or a status transition that is not allowed.
        public static let conflict = Kind("conflict", status: 409, code: -32009)
        /// A referenced person, observation or objective is not in this organization.
        public static let unprocessable = Kind("unprocessable", status: 422, code: -32022)
        /// The log cannot be written; nothing was changed.
        public static let storageUnavailable = Kind("storage_unavailable", status: 503, code: -32050)
        /// A bug.
        public static let internalError = Kind("internal_error", status: 500, code: -32603)

        /// Every kind, in the order of the contract's table.
        public static let all: [Kind] = [
            .parseError, .invalidRequest, .methodNotFound, .validationError, .authenticationRequired,
            .permissionDenied, .notFound, .conflict, .unprocessable, .storageUnavailable, .internalError,
        ]
    }

    /// One problem with one field, listed in `data.details`.
    public struct Detail: Sendable, Equatable {
        /// The path of the field.
        public var field: String
        /// What is wrong with it.
        public var problem: String

        /// A detail.
        public init(field: String, problem: String) {
            self.field = field
            self.problem = problem
        }
    }

    /// Which row of the table this is.
    public var kind: Kind
    /// One human sentence naming the field or state at fault.
    public var message: String
    /// The field problems, for validation errors.
    public var details: [Detail]

    /// An error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String, details: [Detail] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    /// The error object as it is written in a response.
    public var json: JSON {
        var data: JSONObject = ["status": .int(Int64(kind.status)), "code": .string(kind.name)]
        if !details.isEmpty {
            data["details"] = .array(
                details.map { .object(["field": .string($0.field), "problem": .string($0.problem)]) })
        }
        return .object(["code": .int(Int64(kind.code)), "message": .string(message), "data": .object(data)])
    }
}

extension RPCError {
    /// The line could not be parsed as JSON.
    public static func parseError(_ reason: String) -> RPCError {
        RPCError(.parseError, "Parse error: \(reason).")
    }

    /// The value is not a valid request object.
    public static func invalidRequest(_ reason: String) -> RPCError {
        RPCError(.invalidRequest, "Invalid request: \(reason).")
    }

    /// No method of that name.
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "Method '\(method)' does not exist; rpc.discover lists the methods.")
    }

    /// A field of the params is missing or malformed.
    public static func invalidField(_ error: FieldError) -> RPCError {
        RPCError(
            .validationError, "\(error.description).", details: [Detail(field: error.field, problem: error.problem)])
    }

    /// A bug in the server.
    public static func internalError(_ what: String) -> RPCError {
        RPCError(.internalError, "Internal error (this is a bug in merit): \(what).")
    }
}
