// swift-tools-version:6.0
// Ladderwire: a WebSocket live-push server for a trading desk.
// No package dependencies: the toolchain, SQLite, OpenSSL and zlib (system libraries) and a C shim for
// the Linux headers Glibc does not export (epoll, eventfd, timerfd).
//
// Data flows one way; each module imports only what is listed here (docs/architecture.md):
//   sources ─▶ Ingest ─▶ Ledger ─▶ Wire (encode once) ─▶ Journal (seq) ─▶ Hub ─▶ FrameSink ─▶ Reactor
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

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

        // Money (pure), the wire schema, persistence, the single writer, fan-out.
        .target(name: "Ledger", dependencies: ["Bytes"], swiftSettings: strict),
        .target(name: "Wire", dependencies: ["Ledger", "JSON", "Bytes", "WebSocketCore"], swiftSettings: strict),
        .target(name: "Journal", dependencies: ["CSQLite", "Bytes"], swiftSettings: strict),
        .target(name: "Ingest", dependencies: ["Ledger", "Journal", "Wire", "JSON", "Bytes"], swiftSettings: strict),
        .target(name: "Hub", dependencies: ["Wire", "Bytes", "WebSocketCore"], swiftSettings: strict),

        // The event loop.
        .target(name: "Reactor", dependencies: ["CSystem", "COpenSSL", "Bytes"], swiftSettings: strict),

        // Background sources of events (recorded feed, simulator, TT poller).
        .target(name: "EventSources", dependencies: ["Wire", "JSON", "Bytes", "Ledger"], swiftSettings: strict),

        // Wiring and the command line: the only module that sees both the Hub and the Reactor.
        .target(name: "Server",
                dependencies: ["HTTPCore", "WebSocketCore", "Reactor", "Ledger", "Journal", "Hub", "Wire", "JSON",
                               "Bytes", "Ingest", "EventSources", "COpenSSL", "CSystem"],
                swiftSettings: strict),
        .executableTarget(name: "ladderwire", dependencies: ["Server"], swiftSettings: strict),
        .executableTarget(name: "ladderwire-bench",
                          dependencies: ["Ledger", "Journal", "Wire", "JSON", "Bytes", "HTTPCore", "WebSocketCore", "CSystem"],
                          path: "tools/bench", swiftSettings: strict),

        // What tests share: seeded random data, temporary folders, loopback sockets.
        .target(name: "TestSupport", dependencies: ["Bytes"], path: "Tests/TestSupport", swiftSettings: strict),

        // Unit tests mirror the modules; end-to-end tests with real peers live in Tests/integration.
        .testTarget(name: "BytesTests", dependencies: ["Bytes"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "Bytes"], swiftSettings: strict),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WebSocketCoreTests", dependencies: ["WebSocketCore", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Ledger", "JSON", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Bytes", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HubTests", dependencies: ["Hub", "Wire", "Bytes", "WebSocketCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Journal", "Ledger", "Wire", "JSON", "Bytes", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "EventSourcesTests", dependencies: ["EventSources", "Wire", "JSON", "Bytes", "Ledger", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "ServerTests", dependencies: ["Server", "EventSources", "JSON", "TestSupport"], swiftSettings: strict),
    ]
)
