import Foundation
import MeritJSON
import MeritTestSupport
import Testing

/// The parsing cases of JSONTestSuite, read in place from `../shared/data` (skipped where it is absent).
@Suite("JSONTestSuite", .enabled(if: Repository.sharedData != nil, "../shared/data is not beside this clone"))
struct JSONTestSuiteTests {
    static func cases(prefix: String) -> [String] {
        guard let data = Repository.sharedData else { return [] }
        let directory = data.appendingPathComponent("JSONTestSuite/test_parsing").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let data = try #require(Repository.sharedData)
        let url = data.appendingPathComponent("JSONTestSuite/test_parsing").appendingPathComponent(name)
        return [UInt8](try Data(contentsOf: url))
    }

    @Test("the corpus is present and complete")
    func corpusIsPresent() {
        #expect(Self.cases(prefix: "y_").count == 95)
        #expect(Self.cases(prefix: "n_").count == 188)
        #expect(Self.cases(prefix: "i_").count == 35)
    }

    @Test("y_ cases are accepted, and round-trip through the writer", arguments: cases(prefix: "y_"))
    func accepts(name: String) throws {
        let value = try JSONParser.parse(try Self.bytes(name))
        let reparsed = try JSONParser.parse(value.serialized())
        #expect(reparsed == value)
        #expect(!value.serialized().contains(0x0A))
    }

    @Test("n_ cases are rejected with an error", arguments: cases(prefix: "n_"))
    func rejects(name: String) throws {
        let bytes = try Self.bytes(name)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test(
        "every case as a member kept as compact JSON means the same, or fails the same, as its tree",
        arguments: cases(prefix: "y_") + cases(prefix: "n_") + cases(prefix: "i_"))
    func compact(name: String) throws {
        _ = try CompactMemberTests.keepsMeaning(Array(#"{"body":"#.utf8) + (try Self.bytes(name)) + [UInt8(ascii: "}")])
    }

    @Test("i_ cases do not crash, and what is accepted round-trips", arguments: cases(prefix: "i_"))
    func survives(name: String) throws {
        if let value = try? JSONParser.parse(try Self.bytes(name)) {
            #expect(try JSONParser.parse(value.serialized()) == value)
        }
    }
}
