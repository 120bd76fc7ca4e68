/// Bytes held in an array of their own, or as a stretch of a block shared with other values: what a rich-text body
/// holds.
///
/// A body read from a request, or from the log, is an array, as before. Bodies read back from a snapshot are copied
/// one after another into large blocks (`ByteArena`): a million summaries' bodies take a few hundred allocations
/// instead of a million, with no allocator header or rounding between them, which was a sixth of start-up. A block
/// lives while any value in it does: a body that an update replaces keeps the rest of its block (bodies change only
/// before they are shared, and each start-up reads them into fresh blocks).
public struct SharedBytes: Sendable {
    private enum Storage: Sendable {
        case array([UInt8])
        case stretch(Block, start: Int32, count: Int32)
    }

    private let storage: Storage

    /// The bytes of `array`, held as it is.
    public init(_ array: [UInt8]) {
        storage = .array(array)
    }

    /// A copy of `bytes`, in an array of its own.
    public init(copying bytes: UnsafeBufferPointer<UInt8>) {
        storage = .array(Array(bytes))
    }

    fileprivate init(block: Block, start: Int, count: Int) {
        storage = .stretch(block, start: Int32(start), count: Int32(count))
    }

    /// The number of bytes.
    public var count: Int {
        switch storage {
        case .array(let array): array.count
        case .stretch(_, _, let count): Int(count)
        }
    }

    /// Lend the bytes to `body`.
    public func withUnsafeBufferPointer<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch storage {
        case .array(let array):
            return try array.withUnsafeBufferPointer(body)
        case .stretch(let block, let start, let count):
            return try block.withBytes(from: Int(start), count: Int(count), body)
        }
    }

    /// The bytes, as an array (a copy unless they are held in one).
    public var array: [UInt8] {
        switch storage {
        case .array(let array): array
        case .stretch: withUnsafeBufferPointer { Array($0) }
        }
    }

    /// A block of bytes filled from its start: the values made from it each hold one stretch.
    fileprivate final class Block: @unchecked Sendable {
        // @unchecked: the bytes of a stretch are written once, by `append`, before any value holds the stretch;
        // after that they are only read. Appending writes bytes no value holds yet, on the one thread filling it.

        private let base: UnsafeMutablePointer<UInt8>
        private let capacity: Int
        private var filled = 0

        fileprivate init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

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

        /// Lend the `count` bytes from `start` to `body` (the caller's value keeps the block alive meanwhile).
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
    /// The size of a block; a run of more than a quarter of it is copied into an array of its own.
    public static let blockSize = 1 << 20

    private var block: SharedBytes.Block?

    /// An arena with no block yet.
    public init() {}

    /// A copy of `bytes`, after the runs copied before it.
    public mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> SharedBytes {
        if bytes.count > Self.blockSize / 4 { return SharedBytes(copying: bytes) }
        let current: SharedBytes.Block
        if let block, block.room >= bytes.count {
            current = block
        } else {
            current = SharedBytes.Block(capacity: Self.blockSize)
            block = current
        }
        return SharedBytes(block: current, start: current.append(bytes), count: bytes.count)
    }
}
