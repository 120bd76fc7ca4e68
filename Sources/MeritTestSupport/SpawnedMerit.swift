import Foundation
import MeritJSON

/// The real `merit` binary run as a child process, for end-to-end tests: arguments in, lines over pipes.
public final class SpawnedMerit: @unchecked Sendable {
    // @unchecked: each instance is driven by one test at a time; the reader thread only touches `lines`
    // under `condition`.
    /// The process.
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var pending = Data()
    private var outputClosed = false
    private var errorText = Data()
    private var readerGone = false
    private var errorClosed = false
    /// Something the child needs to outlive the test's own references (its data directory).
    public var keepAlive: AnyObject?

    /// Start `merit` with `arguments` and extra `environment` variables.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = Repository.meritBinary
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged["MERIT_API_KEY"] = nil
        merged["MERIT_DATA"] = nil
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // Other tests spawn children at the same time: without close-on-exec they would inherit these pipes, and
        // a child holding the read end of our output would keep a "reader gone" test waiting. The child still
        // gets its own ends, because spawning duplicates them onto 0, 1 and 2, which clears the flag.
        for pipe in [input, output, errors] {
            for handle in [pipe.fileHandleForReading, pipe.fileHandleForWriting] {
                _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
            }
        }
        try process.run()
        // Dedicated threads doing blocking reads: Foundation's readabilityHandler on Linux can miss the tail of
        // the output when the child exits.
        let outputDescriptor = output.fileHandleForReading.fileDescriptor
        let errorDescriptor = errors.fileHandleForReading.fileDescriptor
        // The threads hold the client weakly, so that releasing it terminates a child a test left running.
        Thread.detachNewThread { [weak self] in
            Self.drain(outputDescriptor) { self?.receive($0) }
        }
        Thread.detachNewThread { [weak self] in
            Self.drain(errorDescriptor) { data in
                guard let self else { return }
                self.condition.lock()
                if data.isEmpty { self.errorClosed = true } else { self.errorText.append(data) }
                self.condition.broadcast()
                self.condition.unlock()
            }
        }
    }

    private static func drain(_ descriptor: Int32, _ body: (Data) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                body(Data())
                return
            }
            body(Data(buffer[0..<count]))
        }
    }

    private func receive(_ data: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if data.isEmpty {
            outputClosed = true
            return
        }
        pending.append(data)
        while let newline = pending.firstIndex(of: 0x0A) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
    }

    /// Write raw bytes to the child's stdin.
    public func write(_ bytes: Data) {
        input.fileHandleForWriting.write(bytes)
    }

    /// Write `line` and a newline to the child's stdin.
    public func send(_ line: String) {
        write(Data((line + "\n").utf8))
    }

    /// Stop reading the child's stdout, as a client that goes away would.
    public func closeOutputReader() {
        readerGone = true
        try? output.fileHandleForReading.close()
    }

    /// Close the child's stdin (end of input).
    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    /// The next line of stdout, waiting up to `timeout` seconds; `nil` when none arrived or stdout closed.
    public func nextLine(timeout: TimeInterval = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !outputClosed {
            if !condition.wait(until: deadline) { break }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }

    /// The next line of stdout, parsed.
    public func nextMessage(timeout: TimeInterval = 20) -> JSON? {
        guard let line = nextLine(timeout: timeout) else { return nil }
        return try? JSONParser.parse(line)
    }

    /// Send a request and wait for the next line, parsed.
    public func call(_ method: String, _ params: JSON? = nil, id: JSON = 1) -> JSON? {
        var request: JSONObject = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
        if let params { request["params"] = params }
        send(JSON.object(request).jsonText)
        return nextMessage()
    }

    /// Wait for the process to end (closing stdin first when asked) and return its exit status, or `nil` if it
    /// did not end within `timeout` seconds.
    public func waitForExit(closingInput: Bool = true, timeout: TimeInterval = 30) -> Int32? {
        if closingInput { closeInput() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2000) }
        guard !process.isRunning else { return nil }
        return process.terminationStatus
    }

    /// Everything the child wrote to stderr so far.
    public var standardError: String {
        condition.lock()
        defer { condition.unlock() }
        // Once the child has exited, wait (briefly) for the reader to reach the end of its stderr.
        let deadline = Date().addingTimeInterval(5)
        while !errorClosed && !process.isRunning {
            if !condition.wait(until: deadline) { break }
        }
        return String(decoding: errorText, as: UTF8.self)
    }

    /// Every stdout line not yet taken (waiting for stdout to close first when the process has ended).
    public func remainingLines() -> [String] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(5)
        while !outputClosed && !readerGone {
            if !condition.wait(until: deadline) { break }
        }
        defer { lines.removeAll() }
        return lines
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// The result of running `merit` to completion.
public struct CommandResult: Sendable {
    /// The exit status.
    public var status: Int32
    /// Everything written to stdout.
    public var output: String
    /// Everything written to stderr.
    public var error: String
}

/// Run `merit` with `arguments` to completion, feeding `input` on stdin.
public func runMerit(_ arguments: [String], input: String = "", environment: [String: String] = [:]) throws
    -> CommandResult
{
    let child = try SpawnedMerit(arguments, environment: environment)
    child.write(Data(input.utf8))
    guard let status = child.waitForExit() else {
        child.process.terminate()
        return CommandResult(status: -1, output: "", error: "timed out")
    }
    let output = child.remainingLines().map { $0 + "\n" }.joined()
    return CommandResult(status: status, output: output, error: child.standardError)
}
