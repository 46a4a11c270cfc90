// swift-tools-version:6.0
// Ladderwire: a WebSocket live-push server for a trading desk.
// No package dependencies: the toolchain, SQLite, OpenSSL and zlib (system libraries) and a C shim for
// the Linux headers Glibc does not export (epoll, eventfd, timerfd).
//
// Data flows one way; each module imports only what is listed here (docs/architecture.md):
//   sources ─▶ Ingest ─▶ Ledger ─▶ Wire (encode once) ─▶ Journal (seq) ─▶ Hub ─▶ FrameSink ─▶ Reactor
import PackageDescription

// Release builds drop the runtime exclusivity checks (`swift_beginAccess` on every access to a
// class's stored var): under fan-out to 100 subscribers they were 28 % of all instructions, ~22
// checks per delivery (callgrind, docs/benchmarks.md). Debug builds keep them, and every test
// runs on a debug build, so an overlapping access is still caught where it can be diagnosed.
// Integer overflow stays checked in every build (the ledger depends on it).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Ladderwire",
    products: [
        .executable(name: "ladderwire", targets: ["ladderwire"]),
        .executable(name: "ladderwire-bench", targets: ["ladderwire-bench"]),
    ],
    targets: [
        // System libraries and the Linux shim.
        .target(name: "CSystem", path: "Sources/CSystem"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),

        // The shared bottom layer: no dependencies on anything of ours.
        .target(name: "Bytes", swiftSettings: strict),
        .target(name: "JSON", dependencies: ["Bytes"], swiftSettings: strict),

        // Sans-I/O protocol cores.
        .target(name: "HTTPCore", swiftSettings: strict),
        .target(name: "WebSocketCore", dependencies: ["HTTPCore", "CZlib"], swiftSettings: strict),
        // Redis's wire protocol (RESP2): replies parsed from bytes, commands written to bytes.
        .target(name: "RESP", swiftSettings: strict),

        // Money (pure), the wire schema, persistence, the single writer, fan-out.
        .target(name: "Ledger", dependencies: ["Bytes"], swiftSettings: strict),
        .target(name: "Wire", dependencies: ["Ledger", "JSON", "Bytes", "WebSocketCore"], swiftSettings: strict),
        .target(name: "Journal", dependencies: ["CSQLite", "Bytes"], swiftSettings: strict),
        .target(name: "Ingest", dependencies: ["Ledger", "Journal", "Wire", "JSON", "Bytes"], swiftSettings: strict),
        .target(name: "Hub", dependencies: ["Wire", "Bytes", "WebSocketCore"], swiftSettings: strict),

        // Configuration files read through JSONValue (instruments, accounts, tokens) and the
        // key-path errors the server config shares; Ledger itself reads no files.
        .target(name: "ConfigFiles", dependencies: ["Ledger", "JSON"], swiftSettings: strict),

        // The event loop.
        .target(name: "Reactor", dependencies: ["CSystem", "COpenSSL", "Bytes"], swiftSettings: strict),

        // The stream engine between a core and its edges (Redis Streams behind a protocol of our own).
        .target(name: "StreamEngine", dependencies: ["RESP", "Reactor", "Bytes"], swiftSettings: strict),

        // Background sources of events (recorded feed, simulator, TT poller).
        .target(name: "EventSources", dependencies: ["Wire", "JSON", "Bytes", "Ledger"], swiftSettings: strict),

        // Wiring and the command line: the only module that sees both the Hub and the Reactor.
        .target(name: "Server",
                dependencies: ["HTTPCore", "WebSocketCore", "Reactor", "Ledger", "Journal", "Hub", "Wire", "JSON",
                               "Bytes", "Ingest", "EventSources", "ConfigFiles", "COpenSSL", "CSystem", "StreamEngine", "RESP"],
                swiftSettings: strict),
        .executableTarget(name: "ladderwire", dependencies: ["Server"], swiftSettings: strict),
        .executableTarget(name: "ladderwire-bench",
                          dependencies: ["Ledger", "ConfigFiles", "Journal", "Wire", "JSON", "Bytes", "HTTPCore", "WebSocketCore",
                                         "CSystem", "Ingest"],
                          path: "tools/bench", exclude: ["floor-relay.c"], swiftSettings: strict),

        // A SQLite VFS that fails chosen writes, syncs, reads and locks (storage-fault tests).
        .target(name: "CFaultVFS", dependencies: ["CSQLite"], path: "Tests/CFaultVFS"),

        // What tests share: seeded random data, temporary folders, loopback sockets.
        .target(name: "TestSupport", dependencies: ["Bytes"], path: "Tests/TestSupport", swiftSettings: strict),

        // Unit tests mirror the modules; end-to-end tests with real peers live in Tests/integration.
        .testTarget(name: "BytesTests", dependencies: ["Bytes"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "Bytes"], swiftSettings: strict),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WebSocketCoreTests", dependencies: ["WebSocketCore", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "StreamEngineTests", dependencies: ["StreamEngine", "RESP", "Reactor", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "ConfigFiles", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ConfigFilesTests", dependencies: ["ConfigFiles", "Ledger", "JSON", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Ledger", "ConfigFiles", "JSON", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HubTests", dependencies: ["Hub", "Wire", "Bytes", "WebSocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Journal", "Ledger", "ConfigFiles", "Wire", "JSON", "Bytes",
                                                        "TestSupport", "CFaultVFS", "CSQLite"],
                    swiftSettings: strict),
        .testTarget(name: "EventSourcesTests", dependencies: ["EventSources", "Wire", "JSON", "Bytes", "Ledger", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "ServerTests", dependencies: ["Server", "EventSources", "ConfigFiles", "JSON", "TestSupport",
                                                   "Ingest", "Journal", "Reactor", "Hub", "Ledger", "Wire", "Bytes", "StreamEngine"],
                    swiftSettings: strict),
    ]
)
