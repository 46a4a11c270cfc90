/// `ladderwire-bench connect --url ws://HOST:PORT --clients K [--path /ws]`: K clients connect at
/// once; time from each client's connect() to its 101 and to its first message (the snapshot).
///
/// `ladderwire-bench connect --url … --idle N --server-pid PID`: opens N idle subscribers and
/// reports the server's resident-memory growth per connection.
func runConnectBench(arguments: [String]) {
    let options = BenchOptions(command: "connect", arguments: arguments,
                               valued: ["url", "clients", "idle", "path", "server-pid", "settle", "concurrency", "build", "durability"],
                               switches: ["json", "deflate"])
    let url = ServerURL.required(options)
    let path = options.string("path", default: "/ws")
    let descriptorLimit = ClientSocket.raiseDescriptorLimit()
    var report = BenchReport(run: RunDescription(options: options))
    report.add("url", "ws://\(url.host):\(url.port)\(path)")
    let deflate = options.flag("deflate")
    report.add("permessage_deflate", deflate ? "offered (every client must get it agreed)" : "not offered")

    if options.string("idle") != nil {
        let count = options.int("idle", default: 1000, minimum: 1)
        guard let server = ServerProcess.from(options) else { BenchOptions.fail("connect: --idle needs --server-pid PID") }
        guard descriptorLimit < 0 || count + 16 <= descriptorLimit else {
            BenchOptions.fail("connect: --idle \(count) needs more descriptors than the limit \(descriptorLimit); raise ulimit -n")
        }
        let settle = options.nanoseconds("settle", defaultSeconds: 2)
        guard let before = server.residentKiB() else { BenchOptions.fail("connect: cannot read /proc/\(server.pid)/status") }
        var crowd = ConnectionCrowd(url: url, target: path)
        crowd.offerDeflate = deflate
        crowd.open(count: count, concurrency: options.int("concurrency", default: 256, minimum: 1), timeout: 300_000_000_000)
        crowd.idle(for: settle)
        let after = server.residentKiB() ?? before
        let open = crowd.clients.filter { $0.open && $0.firstMessageAt != nil }.count
        report.add("idle_connections_open", open)
        report.add("failures", crowd.clients.count - open)
        if let failure = crowd.clients.compactMap(\.failure).first { report.add("first_failure", failure) }
        report.add("server_rss_kib_before", before)
        report.add("server_rss_kib_after", after)
        report.add("server_rss_growth_kib", after - before)
        report.add("server_rss_kib_per_connection", open > 0 ? (Double(after - before) / Double(open) * 100).rounded() / 100 : 0)
        report.print(json: options.flag("json"))
        crowd.closeAll()
        return
    }

    let count = options.int("clients", default: 100, minimum: 1)
    let began = monotonicNanoseconds()
    var crowd = ConnectionCrowd(url: url, target: path)
    crowd.offerDeflate = deflate
    crowd.open(count: count, concurrency: count, timeout: 60_000_000_000)
    let wall = monotonicNanoseconds() - began
    var upgrade = LatencyHistogram(), snapshot = LatencyHistogram()
    for client in crowd.clients {
        if let at = client.upgradedAt { upgrade.record(UInt64(at - client.startedAt)) }
        if let at = client.firstMessageAt { snapshot.record(UInt64(at - client.startedAt)) }
    }
    report.add("clients", count)
    report.add("completed", Int(snapshot.totalCount))
    report.add("failures", crowd.clients.filter { $0.failure != nil && $0.firstMessageAt == nil }.count)
    if let failure = crowd.clients.compactMap(\.failure).first { report.add("first_failure", failure) }
    report.add("wall_ms", (Double(wall) / 1e5).rounded() / 10)
    for (name, value) in latencyFields("upgrade", upgrade) { report.add(name, value) }
    for (name, value) in latencyFields("snapshot", snapshot) { report.add(name, value) }
    report.print(json: options.flag("json"))
    crowd.closeAll()
}
