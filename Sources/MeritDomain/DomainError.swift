/// Why a command cannot be carried out, in the terms of the contract's error table.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which row of the error table.
    public enum Kind: Sendable, Equatable {
        case validation(field: String)
        case authenticationRequired
        case permissionDenied
        case notFound
        case conflict
        case unprocessable(field: String)
    }

    public var kind: Kind
    /// One sentence naming the field or state at fault.
    public var message: String

    /// An error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// A field is missing or malformed: "email must be an email address".
    public static func invalid(_ field: String, _ problem: String) -> DomainError {
        DomainError(.validation(field: field), "\(field) \(problem).")
    }

    /// Nothing of that kind with that id is visible.
    public static func notFound(_ what: String, _ id: String) -> DomainError {
        DomainError(.notFound, "No \(what) with id \(id) exists in this organization.")
    }
}
