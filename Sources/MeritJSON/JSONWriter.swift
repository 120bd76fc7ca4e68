/// Writes JSON values as compact UTF-8 text.
///
/// Output never contains a raw line break: control characters and U+2028/U+2029 are escaped, so one value is
/// always one line, as line-framed JSON-RPC needs. Non-finite doubles, which JSON cannot express, are written
/// as `null`.
public struct JSONWriter {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// A writer with an empty buffer of the given capacity.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Append `value`.
    public mutating func write(_ value: JSON) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let flag): writeRaw(flag ? "true" : "false")
        case .int(let number): write(number)
        case .double(let number): write(number)
        case .string(let string): write(string)
        case .array(let array):
            bytes.append(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object.members {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                write(key)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Append text that is already JSON (a literal or punctuation).
    public mutating func writeRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Append bytes that are already one JSON value.
    public mutating func writeRaw(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    /// Append an integer.
    public mutating func write(_ number: Int64) {
        if number >= 0 && number < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(number))
            return
        }
        // Digits are produced backwards into a fixed buffer; 20 bytes hold Int64.min.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var magnitude = number.magnitude
            var position = 20
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if number < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<20]))
        }
    }

    /// Append a double in its shortest round-trip form, or `null` when it is not finite.
    public mutating func write(_ number: Double) {
        guard number.isFinite else {
            writeRaw("null")
            return
        }
        bytes.append(contentsOf: number.description.utf8)
    }

    /// Append a quoted, escaped string.
    public mutating func write(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
                let byte = utf8[index]
                // One table lookup decides whether a byte may need escaping: the common case is one load and one
                // branch per byte.
                if Self.mayNeedEscape[Int(byte)] == 0 {
                    index += 1
                    continue
                }
                if byte == 0xE2 {
                    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9: legal in JSON, but line breaks to JavaScript
                    // and to some line readers.
                    guard index + 2 < count, utf8[index + 1] == 0x80, utf8[index + 2] & 0xFE == 0xA8 else {
                        index += 1
                        continue
                    }
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                switch byte {
                case UInt8(ascii: "\""): writeRaw("\\\"")
                case UInt8(ascii: "\\"): writeRaw("\\\\")
                case 0x0A: writeRaw("\\n")
                case 0x0D: writeRaw("\\r")
                case 0x09: writeRaw("\\t")
                case 0x08: writeRaw("\\b")
                case 0x0C: writeRaw("\\f")
                case 0xE2:
                    writeRaw(utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                    index += 2
                default:
                    writeRaw("\\u00")
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                }
                index += 1
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// 1 for the bytes that may need escaping: control characters, the quote, the backslash, and 0xE2 (which
    /// starts U+2028 and U+2029).
    private static let mayNeedEscape: [UInt8] = (0...255).map { byte in
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2 ? 1 : 0
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension JSON {
    /// This value as compact JSON bytes.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// This value as compact JSON text.
    public var jsonText: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
