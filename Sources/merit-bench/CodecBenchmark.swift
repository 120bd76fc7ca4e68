import Foundation
import MeritJSON

/// Parse + write of the example request lines: MeritJSON against Foundation's JSONSerialization and against
/// JSONDecoder + JSONEncoder over a generic Codable JSON value, on the same lines.
enum CodecBenchmark {
    static func requestLines() throws -> [[UInt8]] {
        let directory = repositoryRoot.appendingPathComponent("Protocol/examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.hasSuffix(".jsonl")
        }.sorted()
        var lines: [[UInt8]] = []
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let fileLines = text.split(separator: "\n", omittingEmptySubsequences: true)
            for (offset, line) in fileLines.enumerated() where offset % 2 == 0 {
                let bytes = Array(line.utf8)
                // Only lines that are JSON: the codecs are compared on the same valid input.
                if (try? JSONParser.parse(bytes)) != nil { lines.append(bytes) }
            }
        }
        return lines
    }

    static func run() throws {
        let lines = try requestLines()
        let datas = lines.map { Data($0) }
        var sink = 0

        let merit = rate(operationsPerCall: lines.count) {
            for line in lines {
                if let value = try? JSONParser.parse(line) {
                    sink &+= value.serialized().count
                }
            }
        }
        let serialization = rate(operationsPerCall: lines.count) {
            for data in datas {
                if let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
                    let output = try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])
                {
                    sink &+= output.count
                }
            }
        }
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        let codable = rate(operationsPerCall: lines.count) {
            for data in datas {
                if let value = try? decoder.decode(CodableJSON.self, from: data),
                    let output = try? encoder.encode(value)
                {
                    sink &+= output.count
                }
            }
        }
        let versusSerialization = merit / serialization
        let versusCodable = merit / codable
        report(
            "codec: parse + write of \(lines.count) example request lines (round trips per second)",
            [
                Row(name: "MeritJSON", value: grouped(merit)),
                Row(name: "JSONSerialization", value: grouped(serialization)),
                Row(name: "JSONDecoder + JSONEncoder", value: grouped(codable)),
                Row(
                    name: "MeritJSON / JSONSerialization", value: String(format: "%.1f×", versusSerialization),
                    note: "target ≥ 10×  \(verdict(versusSerialization >= 10))"),
                Row(
                    name: "MeritJSON / Codable", value: String(format: "%.1f×", versusCodable),
                    note: "target ≥ 4×  \(verdict(versusCodable >= 4))"),
            ])
        if sink == 42 { print("") }
    }
}

/// Any JSON value, through Codable: the generic model a Codable server would decode requests into.
enum CodableJSON: Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([CodableJSON])
    case object([String: CodableJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([CodableJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: CodableJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
