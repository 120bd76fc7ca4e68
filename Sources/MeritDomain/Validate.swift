/// Checks shared by commands.
public enum Validate {
    /// The longest name accepted.
    public static let maximumNameLength = 200

    /// A name: trimmed, not empty, not too long, no control characters.
    public static func name(_ value: String, field: String) throws(DomainError) -> String {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw DomainError.invalid(field, "must not be empty") }
        // Counting characters means grapheme breaking; a name no longer in bytes than the limit cannot exceed it.
        guard trimmed.utf8.count <= maximumNameLength || trimmed.count <= maximumNameLength else {
            throw DomainError.invalid(field, "must be at most \(maximumNameLength) characters")
        }
        guard !trimmed.containsControlCharacters else {
            throw DomainError.invalid(field, "must not contain control characters")
        }
        return trimmed
    }
}

extension String {
    /// Whether any character is a control character (C0, DEL, C1, or another Unicode control).
    var containsControlCharacters: Bool {
        // The first byte that is not printable ASCII, read from contiguous bytes (iterating `utf8` one element at
        // a time costs several times as much).
        let firstOther =
            utf8.withContiguousStorageIfAvailable { bytes in
                bytes.first { $0 < 0x20 || $0 >= 0x7F }
            } ?? utf8.first { $0 < 0x20 || $0 >= 0x7F }
        guard let byte = firstOther else { return false }
        if byte < 0x80 { return true }
        // Only text beyond ASCII needs the Unicode tables.
        return unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// The string without leading and trailing white space.
    func trimmingWhitespace() -> String {
        // Most input has no surrounding space: two byte checks answer it without the Unicode tables.
        let ends = utf8.withContiguousStorageIfAvailable { bytes in bytes.first.map { ($0, bytes[bytes.count - 1]) } }
        if let (first, last) = ends ?? nil, first > 0x20, first < 0x80, last > 0x20, last < 0x80 {
            return self
        }
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}

extension Validate {
    /// Optional free text: trimmed, `nil` when empty, at most `maximum` characters, no control characters but line
    /// breaks and tabs.
    public static func optionalText(_ value: String?, field: String, maximum: Int) throws(DomainError) -> String? {
        guard let value, !value.trimmingWhitespace().isEmpty else { return nil }
        return try text(value, field: field, maximum: maximum)
    }
}

extension Validate {
    /// Free text: not empty after trimming, at most `maximum` characters, no control characters but line breaks
    /// and tabs.
    public static func text(_ value: String, field: String, maximum: Int) throws(DomainError) -> String {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw DomainError.invalid(field, "must not be empty") }
        guard trimmed.utf8.count <= maximum || trimmed.count <= maximum else {
            throw DomainError.invalid(field, "must be at most \(maximum) characters")
        }
        let allowed: Set<UInt8> = [0x09, 0x0A, 0x0D]
        guard !trimmed.utf8.contains(where: { ($0 < 0x20 && !allowed.contains($0)) || $0 == 0x7F }) else {
            throw DomainError.invalid(field, "must not contain control characters")
        }
        return trimmed
    }
}
