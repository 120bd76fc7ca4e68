import Foundation
import MeritJSON
import MeritTestSupport
import Testing

/// The data directory holds personal data: merit makes it private whatever the umask, and says so when it is not.
@Suite("the data directory's permissions")
struct DataDirectoryPermissionTests {
    /// The permission bits of `path`.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    /// Run `merit` through the shell with `umask` set first.
    static func runWithUmask(_ umask: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", Repository.meritBinary.path] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(
        "init and compact make the directory 0700 and every file 0600, even with umask 000", arguments: ["000", "077"])
    func privateWhateverTheUmask(umask: String) throws {
        let temporary = TemporaryDirectory(prefix: "merit-permissions")
        let data = temporary.path("nested/data")
        #expect(try Self.runWithUmask(umask, ["init", "--org", "Acme", "--data", data]) == 0)
        #expect(try Self.runWithUmask(umask, ["compact", "--data", data]) == 0)
        #expect(try Self.mode(data) == 0o700)
        let names = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(names.contains("LOCK"))
        #expect(names.contains { $0.hasPrefix("log-") && $0.hasSuffix(".seg") })
        #expect(names.contains { $0.hasPrefix("snapshot-") })
        for name in names {
            #expect(try Self.mode(data + "/" + name) == 0o600, "\(name)")
        }
        // The parents it had to make are ordinary directories.
        #expect(try Self.mode(temporary.path("nested")) & 0o700 == 0o700)
    }

    @Test("serve warns on stderr, and verify reports, a directory or file that others may read; both keep working")
    func exposedDirectory() throws {
        let data = try TestDataDirectory()
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: data.path).first { $0.hasSuffix(".seg") })
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: data.path + "/" + segment)

        let served = try runMerit(
            ["serve", "--data", data.path], input: #"{"jsonrpc":"2.0","id":1,"method":"$/ping"}"# + "\n")
        #expect(served.status == 0)
        #expect(served.output.contains(#""result":{}"#))
        #expect(served.error.contains("\(data.path) (mode 755) is readable or writable by group or others"))
        #expect(served.error.contains("\(segment) (mode 644)"))
        #expect(served.error.contains("chmod -R go-rwx \(data.path)"))

        let verified = try runMerit(["verify", "--data", data.path])
        #expect(verified.status == 0, "a private-data warning is not damage")
        #expect(verified.output.contains("\(data.path) (mode 755) is readable or writable by group or others"))
        #expect(verified.output.contains("healthy"))

        // Made private again, both are quiet.
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: data.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: data.path + "/" + segment)
        #expect(try runMerit(["serve", "--data", data.path]).error.isEmpty)
        #expect(try !runMerit(["verify", "--data", data.path]).output.contains("warning"))
    }
}
