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
        case .string, .array, .object: withStagedOutput { $0.write(value) }
        case .compact(let compact): writeRaw(compact.bytes)
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

    /// Append bytes that are already JSON.
    public mutating func writeRaw(_ raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    /// Append an integer.
    public mutating func write(_ number: Int64) {
        if number >= 0 && number < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(number))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: StagedOutput.maximumIntegerLength) { buffer in
            let count = StagedOutput.writeDecimal(number, to: buffer.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: count))
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
        withStagedOutput { $0.write(string) }
    }

    /// Write many small pieces through one staged block: how hand-written encoders of the hottest resources
    /// write them without building a tree (see `StagedJSON`).
    public mutating func staged(_ body: (inout StagedJSON) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: StagedOutput.blockSize) { block in
            var staged = StagedJSON(output: StagedOutput(block: block.baseAddress!, capacity: block.count))
            swap(&staged.output.destination, &bytes)
            body(&staged)
            staged.output.flush()
            swap(&staged.output.destination, &bytes)
        }
    }

    /// Run `body` with output staged in a block on the stack, then append what it wrote to `bytes`.
    ///
    /// Writing a value is many small appends; to a `[UInt8]` each one checks uniqueness and capacity and goes
    /// through a generic call. Into the block they are a bounds check and a store, and `bytes` sees one append
    /// per block.
    private mutating func withStagedOutput(_ body: (inout StagedOutput) -> Void) {
        staged { body(&$0.output) }
    }
}

/// The pieces a hand-written encoder writes, staged in a block on the stack: punctuation and member names as
/// literals, strings quoted and escaped, and bytes another type formats in place.
public struct StagedJSON: ~Copyable {
    fileprivate var output: StagedOutput

    /// Append text that is already JSON: punctuation, a member name, a literal.
    public mutating func raw(_ text: StaticString) { output.put(text) }

    /// Append a quoted, escaped string.
    public mutating func string(_ string: String) { output.write(string) }

    /// Append a quoted, escaped string, or `null`.
    public mutating func string(orNull string: String?) {
        if let string { output.write(string) } else { output.put("null") }
    }

    /// Append an object member's name and its colon, after a comma unless it is the object's first member:
    /// `,"name":`. The name must need no escaping.
    public mutating func memberName(_ name: StaticString, first: Bool) { output.putMemberName(name, first: first) }

    /// Append an integer.
    public mutating func integer(_ number: Int64) {
        output.reserve(StagedOutput.maximumIntegerLength)
        output.putFormatted { StagedOutput.writeDecimal(number, to: $0) }
    }

    /// Append bytes that are already JSON, however many.
    public mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress else { return }
        output.put(start.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Let `format` write at most `maximumCount` bytes that are already JSON (at most 256) in place; it returns
    /// how many it wrote.
    public mutating func raw(maximumCount: Int, _ format: (UnsafeMutablePointer<UInt8>) -> Int) {
        precondition(maximumCount <= 256, "formatted pieces are short")
        output.reserve(maximumCount)
        output.putFormatted(format)
    }
}

/// A writer's output on its way to `destination`: small pieces are gathered in a fixed block of memory, which is
/// appended to `destination` whenever it fills up and once at the end.
///
/// Every write first makes sure the block has room for what it is about to store (`reserve`), so the stores
/// themselves go through unchecked pointers.
///
/// Writing a member or an element is split in two: `reserve(for:)` makes room for it, which may flush the block,
/// and `putScalarInBlock` then stores it, which never flushes. Appending to `destination` may free its old
/// buffer, and the optimizer keeps any value it holds across a call that may free memory alive with a retain and
/// a release; since the value is read again from its container for `putScalarInBlock`, nothing is held across
/// the flush, and strings, the bulk of most documents, are written without touching their reference counts.
private struct StagedOutput: ~Copyable {
    /// The size of the block: 1 KiB is what `withUnsafeTemporaryAllocation` takes from the stack without asking
    /// how much stack is left, and holds a typical response whole.
    static let blockSize = 1024
    /// The longest integer: `-9223372036854775808`.
    static let maximumIntegerLength = 20
    /// The most bytes one byte of a string can become: a control character is written as `\u00XX`.
    static let maximumEscapedLength = 6

    /// Where the output goes.
    var destination: [UInt8] = []
    private let block: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// The longest string (in UTF-8 bytes) that fits in the block however it is escaped.
    private let longestStringInBlock: Int
    /// The number of bytes in the block that are not yet in `destination`.
    private var count = 0

    init(block: UnsafeMutablePointer<UInt8>, capacity: Int) {
        precondition(capacity >= 64, "the block must hold any escape sequence or number")
        self.block = block
        self.capacity = capacity
        longestStringInBlock = (capacity - 2) / Self.maximumEscapedLength
    }

    /// Let `format` write in the block, which `reserve` has made room in.
    @inline(__always)
    fileprivate mutating func putFormatted(_ format: (UnsafeMutablePointer<UInt8>) -> Int) {
        count &+= format(block + count)
    }

    /// Move the staged bytes to `destination`.
    mutating func flush() {
        guard count > 0 else { return }
        destination.append(contentsOf: UnsafeBufferPointer(start: block, count: count))
        count = 0
    }

    /// Make room for `byteCount` more bytes, which must be at most the capacity of the block.
    @inline(__always)
    fileprivate mutating func reserve(_ byteCount: Int) {
        if capacity &- count < byteCount { flush() }
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        block[count] = byte
        count &+= 1
    }

    @inline(__always)
    fileprivate mutating func put(_ text: StaticString) {
        reserve(text.utf8CodeUnitCount)
        putInBlock(text)
    }

    /// Store `,"name":` (or `"name":` for the first member) with one check for room.
    @inline(__always)
    fileprivate mutating func putMemberName(_ name: StaticString, first: Bool) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        if !first {
            block[count] = UInt8(ascii: ",")
            count &+= 1
        }
        block[count] = UInt8(ascii: "\"")
        (block + count + 1).initialize(from: name.utf8Start, count: length)
        block[count + 1 + length] = UInt8(ascii: "\"")
        block[count + 2 + length] = UInt8(ascii: ":")
        count &+= length + 3
    }

    /// Store `text` in the block, which must have room for it.
    @inline(__always)
    private mutating func putInBlock(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        (block + count).initialize(from: text.utf8Start, count: length)
        count &+= length
    }

    /// Append `length` bytes from `start`, through the block when they fit in it, else straight to `destination`.
    @inline(__always)
    fileprivate mutating func put(_ start: UnsafePointer<UInt8>, count length: Int) {
        if capacity &- count < length {
            flush()
            if length > capacity {
                destination.append(contentsOf: UnsafeBufferPointer(start: start, count: length))
                return
            }
        }
        UnsafeMutableRawPointer(block + count).copyMemory(from: start, byteCount: length)
        count &+= length
    }

    // MARK: - Values

    mutating func write(_ value: JSON) {
        if reserve(for: value) {
            putScalarInBlock(value)
            return
        }
        switch value {
        case .double(let number): write(number)
        case .string(let string): writeLong(string)
        case .array(let array): write(array)
        case .object(let object): write(object)
        case .compact(let compact): compact.bytes.withUnsafeBufferPointer { put($0.baseAddress!, count: $0.count) }
        case .null, .bool, .int: preconditionFailure("`reserve(for:)` makes room for every scalar but a double")
        }
    }

    private mutating func write(_ array: [JSON]) {
        put(UInt8(ascii: "["))
        for position in array.indices {
            if position > 0 { put(UInt8(ascii: ",")) }
            // `array[position]` is read afresh for each step; see the type's comment.
            if reserve(for: array[position]) {
                putScalarInBlock(array[position])
            } else {
                write(array[position])
            }
        }
        put(UInt8(ascii: "]"))
    }

    private mutating func write(_ object: JSONObject) {
        put(UInt8(ascii: "{"))
        let members = object.members
        for position in members.indices {
            if position > 0 { put(UInt8(ascii: ",")) }
            if reserve(forQuoting: members[position].key) {
                putQuotedInBlock(members[position].key)
            } else {
                writeLong(members[position].key)
            }
            put(UInt8(ascii: ":"))
            if reserve(for: members[position].value) {
                putScalarInBlock(members[position].value)
            } else {
                write(members[position].value)
            }
        }
        put(UInt8(ascii: "}"))
    }

    /// Make room in the block for `value` and return true, or return false when it is a double, an array or an
    /// object, or a string that may not fit in the block: those are written piece by piece.
    @inline(__always)
    private mutating func reserve(for value: JSON) -> Bool {
        switch value {
        case .null, .bool, .int:
            reserve(Self.maximumIntegerLength)
            return true
        case .string(let string):
            return reserve(forQuoting: string)
        case .double, .array, .object, .compact:
            return false
        }
    }

    /// Store `value`, for which `reserve(for:)` has made room, in the block.
    @inline(__always)
    private mutating func putScalarInBlock(_ value: JSON) {
        switch value {
        case .null: putInBlock("null")
        case .bool(let flag): flag ? putInBlock("true") : putInBlock("false")
        case .int(let number): count &+= Self.writeDecimal(number, to: block + count)
        case .string(let string): putQuotedInBlock(string)
        case .double, .array, .object, .compact:
            preconditionFailure("`reserve(for:)` makes no room for doubles and containers")
        }
    }

    private mutating func write(_ number: Int64) {
        reserve(Self.maximumIntegerLength)
        count &+= Self.writeDecimal(number, to: block + count)
    }

    /// Write `number` in decimal at `start`, which has room for `maximumIntegerLength` bytes; returns the length.
    @inline(__always)
    static func writeDecimal(_ number: Int64, to start: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = number.magnitude
        var length = number < 0 ? 2 : 1
        var limit: UInt64 = 10
        // Count the digits first so that they can be written backwards into place. The magnitude is at most
        // 2^63, below 10^19, so `limit` stops at 10^19 at the latest, which a UInt64 holds.
        while magnitude >= limit {
            length &+= 1
            limit &*= 10
        }
        if number < 0 { start[0] = UInt8(ascii: "-") }
        var position = length
        repeat {
            position &-= 1
            start[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude != 0
        return length
    }

    private mutating func write(_ number: Double) {
        guard number.isFinite else {
            put("null")
            return
        }
        var text = number.description
        text.withUTF8 { utf8 in put(utf8.baseAddress!, count: utf8.count) }
    }

    // MARK: - Strings

    mutating func write(_ string: String) {
        if reserve(forQuoting: string) {
            putQuotedInBlock(string)
        } else {
            writeLong(string)
        }
    }

    /// Make room in the block for `string` however it is escaped, and return true; or return false when that
    /// room could exceed the block, or when the string does not lend its UTF-8 in place.
    @inline(__always)
    private mutating func reserve(forQuoting string: String) -> Bool {
        let length = string.utf8.count
        guard length <= longestStringInBlock, string.isContiguousUTF8 else { return false }
        reserve(length &* Self.maximumEscapedLength &+ 2)
        return true
    }

    /// Store `string` quoted and escaped in the block, which must have the room `reserve(forQuoting:)` made.
    private mutating func putQuotedInBlock(_ string: String) {
        // `reserve(forQuoting:)` has checked that the UTF-8 is contiguous, so the closure always runs.
        _ = string.utf8.withContiguousStorageIfAvailable { utf8 in
            count = Self.putQuoted(utf8, at: block + count) - block
        }
    }

    /// Write `utf8` quoted and escaped at `target`, which has room for `6 * utf8.count + 2` bytes; returns the
    /// end of what was written.
    ///
    /// Control characters, the quote and the backslash are escaped, and so are U+2028 and U+2029, which are line
    /// breaks to JavaScript and to some line readers.
    ///
    /// The common case, a string with nothing to escape, is copied eight bytes at a time as it is checked: each
    /// word is stored before it is tested, and a word that needs escaping is overwritten from its first such
    /// byte on (the room for the worst case allows the stores). The last bytes are checked and copied in one
    /// piece, as the word that ends the string or, in strings shorter than a word, as two overlapping halves.
    private static func putQuoted(
        _ utf8: UnsafeBufferPointer<UInt8>, at target: UnsafeMutablePointer<UInt8>
    ) -> UnsafeMutablePointer<UInt8> {
        var output = target
        output.pointee = UInt8(ascii: "\"")
        output += 1
        guard let source = utf8.baseAddress else {
            output.pointee = UInt8(ascii: "\"")
            return output + 1
        }
        let length = utf8.count
        var index = 0
        while length &- index >= 8 {
            let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(output).storeBytes(of: word, as: UInt64.self)
            let flags = bytesThatMayNeedEscape(UInt64(littleEndian: word))
            if flags != 0 {
                let plain = WordBytes.firstFlagged(flags)
                return putEscaped(utf8, from: index &+ plain, at: output + plain)
            }
            index &+= 8
            output += 8
        }
        let remaining = length &- index
        if length >= 8 && remaining > 0 {
            // The word that ends the string overlaps bytes already copied, which it copies again unchanged.
            let word = UnsafeRawPointer(source + (length &- 8)).loadUnaligned(as: UInt64.self)
            let flags = bytesThatMayNeedEscape(UInt64(littleEndian: word)) &>> ((8 &- remaining) &* 8)
            guard flags == 0 else { return putEscaped(utf8, from: index, at: output) }
            UnsafeMutableRawPointer(output - (8 &- remaining)).storeBytes(of: word, as: UInt64.self)
            output += remaining
        } else if remaining >= 4 {
            // Four to seven bytes: two halves of four, overlapping in the middle unless there are eight.
            let first = UnsafeRawPointer(source).loadUnaligned(as: UInt32.self)
            let last = UnsafeRawPointer(source + (length &- 4)).loadUnaligned(as: UInt32.self)
            let both = UInt64(UInt32(littleEndian: first)) | UInt64(UInt32(littleEndian: last)) &<< 32
            guard bytesThatMayNeedEscape(both) == 0 else { return putEscaped(utf8, from: 0, at: output) }
            UnsafeMutableRawPointer(output).storeBytes(of: first, as: UInt32.self)
            UnsafeMutableRawPointer(output + (length &- 4)).storeBytes(of: last, as: UInt32.self)
            output += length
        } else if remaining > 0 {
            return putEscaped(utf8, from: 0, at: output)
        }
        output.pointee = UInt8(ascii: "\"")
        return output + 1
    }

    /// Write `utf8` from `start` on, escaped, and the closing quote at `target`, which has room for six bytes
    /// per byte written and the quote; returns the end of what was written.
    private static func putEscaped(
        _ utf8: UnsafeBufferPointer<UInt8>, from start: Int, at target: UnsafeMutablePointer<UInt8>
    ) -> UnsafeMutablePointer<UInt8> {
        let source = utf8.baseAddress!
        let length = utf8.count
        var output = target
        var index = start
        while true {
            while length &- index >= 8 {
                let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(output).storeBytes(of: word, as: UInt64.self)
                let flags = bytesThatMayNeedEscape(UInt64(littleEndian: word))
                if flags != 0 {
                    let plain = WordBytes.firstFlagged(flags)
                    index &+= plain
                    output += plain
                    break
                }
                index &+= 8
                output += 8
            }
            while index < length && !mayNeedEscape(source[index]) {
                output.pointee = source[index]
                output += 1
                index &+= 1
            }
            guard index < length else { break }
            let escaped = putEscape(source, at: index, length: length, to: output)
            index &+= escaped.consumed
            output += escaped.written
        }
        output.pointee = UInt8(ascii: "\"")
        return output + 1
    }

    /// Write a string that may not fit in the block: plain runs go through `put`, which can bypass the block,
    /// and each escape is reserved for on its own.
    private mutating func writeLong(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            put(UInt8(ascii: "\""))
            guard let source = utf8.baseAddress else {
                put(UInt8(ascii: "\""))
                return
            }
            let length = utf8.count
            var runStart = 0
            var index = 0
            while true {
                while length &- index >= 8 {
                    let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
                    let flags = Self.bytesThatMayNeedEscape(UInt64(littleEndian: word))
                    if flags != 0 {
                        index &+= WordBytes.firstFlagged(flags)
                        break
                    }
                    index &+= 8
                }
                while index < length && !Self.mayNeedEscape(source[index]) { index &+= 1 }
                guard index < length else { break }
                put(source + runStart, count: index &- runStart)
                reserve(Self.maximumEscapedLength)
                let escaped = Self.putEscape(source, at: index, length: length, to: block + count)
                count &+= escaped.written
                index &+= escaped.consumed
                runStart = index
            }
            put(source + runStart, count: length &- runStart)
            put(UInt8(ascii: "\""))
        }
    }

    /// Write at `target` what the byte at `index` of `source` becomes, given that it `mayNeedEscape`: its escape
    /// sequence, or itself when it is an 0xE2 that does not start U+2028 or U+2029. Returns how many bytes were
    /// written (at most `maximumEscapedLength`) and how many were read.
    @inline(__always)
    private static func putEscape(
        _ source: UnsafePointer<UInt8>, at index: Int, length: Int, to target: UnsafeMutablePointer<UInt8>
    ) -> (written: Int, consumed: Int) {
        let byte = source[index]
        if byte == 0xE2 {
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; other scalars that start with E2 stay as they are.
            guard length &- index >= 3, source[index &+ 1] == 0x80, source[index &+ 2] & 0xFE == 0xA8 else {
                target.pointee = byte
                return (1, 1)
            }
            let text: StaticString = source[index &+ 2] == 0xA8 ? "\\u2028" : "\\u2029"
            target.initialize(from: text.utf8Start, count: 6)
            return (6, 3)
        }
        target[0] = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): target[1] = byte
        case 0x0A: target[1] = UInt8(ascii: "n")
        case 0x0D: target[1] = UInt8(ascii: "r")
        case 0x09: target[1] = UInt8(ascii: "t")
        case 0x08: target[1] = UInt8(ascii: "b")
        case 0x0C: target[1] = UInt8(ascii: "f")
        default:
            target[1] = UInt8(ascii: "u")
            target[2] = UInt8(ascii: "0")
            target[3] = UInt8(ascii: "0")
            target[4] = hexDigit(byte >> 4)
            target[5] = hexDigit(byte & 0x0F)
            return (6, 1)
        }
        return (2, 1)
    }

    /// Flags the bytes of `word` that may need escaping (see `mayNeedEscape`).
    @inline(__always)
    private static func bytesThatMayNeedEscape(_ word: UInt64) -> UInt64 {
        WordBytes.below(0x20, word) | WordBytes.equal(to: 0x22, word) | WordBytes.equal(to: 0x5C, word)
            | WordBytes.equal(to: 0xE2, word)
    }

    /// Whether `byte` may need escaping: control characters, the quote, the backslash, and 0xE2, which starts
    /// U+2028 and U+2029.
    @inline(__always)
    private static func mayNeedEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "a") &+ (value &- 10)
    }
}

extension JSON {
    /// This value as compact JSON bytes.
    public func serialized() -> [UInt8] {
        if case .compact(let compact) = self { return compact.bytes }
        // No capacity up front: the text arrives in one append (per KiB), which sizes the array.
        var writer = JSONWriter(capacity: 0)
        writer.write(self)
        return writer.bytes
    }

    /// This value as compact JSON text.
    public var jsonText: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
