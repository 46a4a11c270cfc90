// swift-tools-version:6.0
// Ladderwire: a WebSocket live-push server for a trading desk.
// No package dependencies: the toolchain, SQLite and OpenSSL (system libraries) and a C shim for
// the Linux headers Glibc does not export (epoll, eventfd, timerfd).
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
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),

        // Sans-I/O protocol cores.
        .target(name: "HTTPCore", swiftSettings: strict),
        .target(name: "WebSocketCore", dependencies: ["HTTPCore", "COpenSSL"], swiftSettings: strict),

        // The event loop.
        .target(name: "Reactor", dependencies: ["CSystem", "COpenSSL"], swiftSettings: strict),

        // Money, persistence, fan-out.
        .target(name: "Ledger", swiftSettings: strict),
        .target(name: "Journal", dependencies: ["CSQLite", "Ledger"], swiftSettings: strict),
        .target(name: "Hub", dependencies: ["Ledger", "Reactor", "WebSocketCore"], swiftSettings: strict),
        .target(name: "Ingest", dependencies: ["Ledger", "Journal", "Hub", "Reactor"], swiftSettings: strict),

        // Sources, wiring, command line.
        .target(name: "Monitors", dependencies: ["Ledger", "Ingest", "Hub"], swiftSettings: strict),
        .target(name: "Server",
                dependencies: ["HTTPCore", "WebSocketCore", "Reactor", "Ledger", "Journal", "Hub",
                               "Ingest", "Monitors", "COpenSSL", "CSystem"],
                swiftSettings: strict),
        .executableTarget(name: "ladderwire", dependencies: ["Server"], swiftSettings: strict),
        .executableTarget(name: "ladderwire-bench",
                          dependencies: ["Ledger", "Journal", "Hub", "HTTPCore", "WebSocketCore", "CSystem"],
                          path: "tools/bench", swiftSettings: strict),

        // Unit tests mirror the modules; end-to-end tests with real peers live in Tests/integration.
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore"], swiftSettings: strict),
        .testTarget(name: "WebSocketCoreTests", dependencies: ["WebSocketCore"], swiftSettings: strict),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor"], swiftSettings: strict),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger"], swiftSettings: strict),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Ledger"], swiftSettings: strict),
        .testTarget(name: "HubTests", dependencies: ["Hub", "Ledger"], swiftSettings: strict),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Journal", "Ledger", "Hub"], swiftSettings: strict),
        .testTarget(name: "ServerTests", dependencies: ["Server"], swiftSettings: strict),
        .testTarget(name: "MonitorsTests", dependencies: ["Monitors", "Server"], swiftSettings: strict),
    ]
)
