// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

// CRC-32C with the processor's instruction where there is one (x86-64 with SSE 4.2, which every x86-64 processor
// since 2008 has); the portable tables elsewhere.
#if arch(x86_64)
    let hardwareCRC32C: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-msse4.2"]), .define("MERIT_HARDWARE_CRC32C")]
#else
    let hardwareCRC32C: [SwiftSetting] = []
#endif

let package = Package(
    name: "Merit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "merit", targets: ["merit"]),
        .executable(name: "merit-bench", targets: ["merit-bench"]),
    ],
    targets: [
        // The JSON value, its byte-level parser and writer, and typed field reading.
        .target(name: "MeritJSON", exclude: ["README.md"], swiftSettings: strict),
        // JSON-RPC 2.0 over a byte stream: line framing, messages, batches, the error table.
        .target(name: "MeritRPC", dependencies: ["MeritJSON"], exclude: ["README.md"], swiftSettings: strict),
        // The pure domain: entities, commands, events, the reducer, rules. No I/O, no JSON-RPC.
        .target(name: "MeritDomain", exclude: ["README.md"], swiftSettings: strict),
        // The write-ahead log: segments, record framing, group commit, snapshots, recovery, the lock.
        .target(name: "MeritLog", exclude: ["README.md"], swiftSettings: strict + hardwareCRC32C),
        // Methods: params → command → events → result; authorization; queries; error mapping.
        .target(
            name: "MeritServer",
            dependencies: ["MeritJSON", "MeritRPC", "MeritDomain", "MeritLog"],
            exclude: ["README.md"],
            resources: [.embedInCode("Resources/openrpc.json")],
            swiftSettings: strict
        ),
        // The executable: command line, process set-up, stdio.
        .executableTarget(
            name: "merit",
            dependencies: ["MeritServer", "MeritRPC", "MeritJSON", "MeritLog", "MeritDomain"],
            swiftSettings: strict
        ),
        // Benchmarks of the codec, the transport and storage, against baselines measured in the same run.
        .executableTarget(
            name: "merit-bench",
            dependencies: ["MeritJSON", "MeritRPC", "MeritServer", "MeritLog", "MeritTestSupport"],
            swiftSettings: strict
        ),
        // Temporary data directories, an in-process client, a spawned-binary client, the example loader.
        .target(
            name: "MeritTestSupport",
            dependencies: ["MeritJSON", "MeritRPC", "MeritServer", "MeritLog", "MeritDomain"],
            swiftSettings: strict
        ),
        .testTarget(name: "MeritJSONTests", dependencies: ["MeritJSON", "MeritTestSupport"], swiftSettings: strict),
        .testTarget(name: "MeritRPCTests", dependencies: ["MeritRPC", "MeritJSON"], swiftSettings: strict),
        .testTarget(name: "MeritDomainTests", dependencies: ["MeritDomain"], swiftSettings: strict),
        .testTarget(
            name: "MeritLogTests", dependencies: ["MeritLog", "MeritTestSupport"],
            swiftSettings: strict + hardwareCRC32C),
        .testTarget(
            name: "MeritServerTests",
            dependencies: ["MeritServer", "MeritJSON", "MeritRPC", "MeritLog", "MeritDomain", "MeritTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["MeritJSON", "MeritTestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
