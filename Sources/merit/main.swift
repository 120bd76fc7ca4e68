import MeritLog
import MeritServer

#if canImport(Glibc)
    import Glibc
#endif

/// The exit status for a command-line mistake, as sysexits.h and swift-argument-parser use.
let exitUsage: Int32 = 64

// A reader that goes away must not kill the process with SIGPIPE: the write fails with EPIPE instead and the
// server stops in an orderly way.
signal(SIGPIPE, SIG_IGN)

func writeError(_ text: String) {
    var text = text
    if !text.hasSuffix("\n") { text += "\n" }
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

func writeOutput(_ text: String) {
    var text = text
    if !text.hasSuffix("\n") { text += "\n" }
    text.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
}

func main() -> Int32 {
    if CRC32C.processorLacksInstruction() {
        writeError(
            "merit: this build checksums its log with the SSE 4.2 crc32 instruction, which this processor lacks "
                + "(a virtual machine may need its host's processor model, such as QEMU's -cpu host)")
        return 1
    }
    let arguments = Array(CommandLine.arguments.dropFirst())
    var environment: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let pair = String(cString: pointer)
        if let equals = pair.firstIndex(of: "=") {
            environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        entry += 1
    }
    guard let command = arguments.first else {
        writeError(Usage.overview)
        return exitUsage
    }
    let rest = Array(arguments.dropFirst())
    do throws(UsageError) {
        switch command {
        case "--version", "version":
            writeOutput("merit \(MeritVersion.current)")
            return 0
        case "--help", "-h", "help":
            if let topic = rest.first {
                guard let text = Usage.text(for: topic) else {
                    throw UsageError(message: "no such command '\(topic)'", usage: Usage.overview)
                }
                writeOutput(text)
            } else {
                writeOutput(Usage.overview)
            }
            return 0
        case "serve", "demo", "init", "verify", "repair", "compact", "call":
            if rest.contains("--help") || rest.contains("-h") {
                writeOutput(Usage.text(for: command) ?? Usage.overview)
                return 0
            }
            switch command {
            case "serve": return try Serve.run(rest, environment: environment)
            case "demo": return try Demo.run(rest)
            case "init": return try DataCommands.initialize(rest, environment: environment)
            case "verify": return try DataCommands.verify(rest, environment: environment)
            case "repair": return try DataCommands.repair(rest, environment: environment)
            case "call": return try Call.run(rest, environment: environment)
            default: return try DataCommands.compact(rest, environment: environment)
            }
        default:
            throw UsageError(message: "unknown command '\(command)'", usage: Usage.overview)
        }
    } catch {
        writeError("merit: error: \(error.message)\n\n\(error.usage)")
        return exitUsage
    }
}

exit(main())
