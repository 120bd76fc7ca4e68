#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A source of bytes, such as the read end of a pipe.
public protocol ByteInput {
    /// Read some bytes into `buffer`, blocking until at least one is available; 0 means end of input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int
}

/// A sink for bytes, such as the write end of a pipe.
public protocol ByteOutput {
    /// Write all of `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError)
}

/// A failed read or write, with the `errno` it reported.
public struct StreamError: Error, Sendable, CustomStringConvertible {
    /// The operation that failed ("read", "write").
    public var operation: String
    /// The system error number.
    public var errorNumber: Int32

    /// A stream error.
    public init(operation: String, errorNumber: Int32) {
        self.operation = operation
        self.errorNumber = errorNumber
    }

    /// "write failed: Broken pipe".
    public var description: String {
        "\(operation) failed: \(String(cString: strerror(errorNumber)))"
    }
}

/// Reads from a file descriptor, retrying on interrupts.
public struct FileDescriptorInput: ByteInput {
    /// The descriptor read from.
    public let descriptor: Int32

    /// An input reading `descriptor`.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        while true {
            #if canImport(Glibc)
                let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            #else
                let count = Darwin.read(descriptor, buffer.baseAddress, buffer.count)
            #endif
            if count >= 0 { return count }
            if errno == EINTR || errno == EAGAIN { continue }
            throw StreamError(operation: "read", errorNumber: errno)
        }
    }
}

/// Writes to a file descriptor, completing short writes and retrying on interrupts.
public struct FileDescriptorOutput: ByteOutput {
    /// The descriptor written to.
    public let descriptor: Int32

    /// An output writing `descriptor`.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(StreamError) {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            #else
                let count = Darwin.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            #endif
            if count >= 0 {
                offset += count
            } else if errno != EINTR && errno != EAGAIN {
                throw StreamError(operation: "write", errorNumber: errno)
            }
        }
    }
}
