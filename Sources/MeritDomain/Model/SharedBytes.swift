/// Bytes that lie in a block shared with other values, or in one of their own: what a rich-text body holds.
///
/// A body read from a request takes a block of its own, as an array would. Bodies read back from a snapshot are
/// copied one after another into large blocks (`ByteArena`): a million summaries' bodies take a few hundred
/// allocations instead of a million, with no allocator header or rounding between them, which was a sixth of
/// start-up. A block lives while any value in it does: a body that an update replaces keeps the rest of its block
/// (bodies change only before they are shared, and each start-up reads them into fresh blocks).
public struct SharedBytes: Sendable {
    private let block: Block
    private let start: Int32
    /// The number of bytes.
    public let count: Int32

    /// The bytes of `array`, in a block of their own.
    public init(_ array: [UInt8]) {
        let block = Block.make(capacity: array.count)
        let start = array.withUnsafeBufferPointer { block.append($0) }
        self.init(block: block, start: start, count: array.count)
    }

    fileprivate init(block: Block, start: Int, count: Int) {
        self.block = block
        self.start = Int32(start)
        self.count = Int32(count)
    }

    /// Lend the bytes to `body`.
    public func withUnsafeBufferPointer<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try block.withBytes(from: Int(start), count: Int(count), body)
    }

    /// The bytes, copied into an array.
    public var array: [UInt8] { withUnsafeBufferPointer { Array($0) } }

    /// A block of bytes filled from its start: the values made from it each hold one stretch.
    fileprivate final class Block: @unchecked Sendable {
        // @unchecked: the bytes of a stretch are written once, by `append`, before any value holds the stretch;
        // after that they are only read. Appending writes bytes no value holds yet, on the one thread filling it.

        private let base: UnsafeMutablePointer<UInt8>
        private let capacity: Int
        private var filled = 0

        private init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: max(capacity, 1))
        }

        static func make(capacity: Int) -> Block { Block(capacity: capacity) }

        deinit {
            base.deallocate()
        }

        /// The bytes not yet filled.
        var room: Int { capacity - filled }

        /// Copy `bytes` after those filled; returns where they start. There must be room.
        func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            precondition(bytes.count <= room, "a block is filled past its room")
            let start = filled
            if let source = bytes.baseAddress { (base + start).initialize(from: source, count: bytes.count) }
            filled += bytes.count
            return start
        }

        func withBytes<Result, Failure: Error>(
            from start: Int, count: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            try body(UnsafeBufferPointer(start: base + start, count: count))
        }
    }
}

extension SharedBytes: Equatable {
    public static func == (lhs: SharedBytes, rhs: SharedBytes) -> Bool {
        lhs.count == rhs.count
            && lhs.withUnsafeBufferPointer { left in rhs.withUnsafeBufferPointer { left.elementsEqual($0) } }
    }
}

/// Copies runs of bytes one after another into large blocks, each run a `SharedBytes`: what a snapshot's bodies
/// are read into. One reader uses an arena at a time.
public struct ByteArena {
    /// The size of a block; a run of more than a quarter of it takes a block of its own.
    public static let blockSize = 1 << 20

    private var block: SharedBytes.Block?

    /// An arena with no block yet.
    public init() {}

    /// A copy of `bytes`, after the runs copied before it.
    public mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> SharedBytes {
        if bytes.count > Self.blockSize / 4 { return SharedBytes(Array(bytes)) }
        let current: SharedBytes.Block
        if let block, block.room >= bytes.count {
            current = block
        } else {
            current = .make(capacity: Self.blockSize)
            block = current
        }
        return SharedBytes(block: current, start: current.append(bytes), count: bytes.count)
    }
}
