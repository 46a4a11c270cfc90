import Bytes
import Ingest
import JSON
import Ledger
import Reactor
import Wire

/// The command language of text-mode subscribers (`?format=text`), one command per message.
struct TextCommands {
    let endpoint: SubscriberEndpoint
    let session: WebSocketSession

    static let help = """
    commands:
      help                         this list
      snapshot                     a fresh snapshot (positions, P&L, marks)
      positions                    current positions
      pnl                          P&L per account and for the desk
      fills [N]                    the last N fills (default 20, at most 500)
      orders                       the working orders
      sub accounts A,B | instruments I,J | channels fills,positions,pnl,marks,risk,status,orders
      unsub accounts | instruments | channels     back to everything
      quit                         close the connection
    """

    func reply(_ text: String) { session.sendText(text) }

    func run(_ line: String) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
        guard let command = words.first?.lowercased() else { return }
        let context = endpoint.serverContext
        switch command {
        case "help", "?":
            reply(Self.help)
        case "snapshot":
            endpoint.resnapshot()
        case "positions", "pnl", "fills", "orders":
            guard let subscriber = endpoint.currentSubscriber else { return }
            var count = 20
            if command == "fills", words.count > 1 {
                guard let n = Int(words[1]), n > 0 else { reply("error: usage: fills [N] with N a positive number"); return }
                count = min(n, 500)
            }
            let filter = subscriber.filter
            let fillCount = count
            let target = LoopBound(session, on: context.loop)
            let renderer = TextRenderer(encoder: context.source.encoder)
            let queued = context.source.snapshotContent(filter: filter) { snapshot in
                guard let content = snapshot else {
                    target.post { $0.sendText("error: no state yet (the edge is still loading it)") }
                    return
                }
                let lines: [String]
                switch command {
                case "positions": lines = content.positions.map { renderer.line(.position($0, seq: nil)) }
                case "orders": lines = content.orders.map { renderer.line(.order($0, seq: nil)) }
                case "pnl":
                    lines = content.accounts.map { renderer.line(.accountPnL($0, seq: nil)) }
                        + (content.desk.map { [renderer.line(.deskPnL($0, seq: nil))] } ?? [])
                default: lines = content.fills.suffix(fillCount).map { renderer.line(.fill($0.record, seq: $0.seq)) }
                }
                let text = lines.isEmpty ? "(none)" : lines.joined(separator: "\n")
                target.post { $0.sendText(text) }
            }
            if !queued { reply("error: server busy, try again shortly") }
        case "sub", "unsub":
            guard words.count >= 2 else { reply("error: usage: \(command) accounts|instruments|channels [LIST]"); return }
            let what = words[1].lowercased()
            let list: JSONValue = command == "sub" && words.count > 2
                ? .array(words[2].split(separator: ",").map { .string(String($0)) }) : .null
            let current = endpoint.currentSubscriber?.filter
            func existing(_ set: Set<String>?) -> JSONValue { set.map { .array($0.sorted().map { .string($0) }) } ?? .null }
            let channels = current.map { JSONValue.array($0.channels.map { .string($0.rawValue) }) }
            do {
                switch what {
                case "accounts":
                    try endpoint.applyFilter(accounts: list, instruments: existing(current?.instruments), channels: channels)
                case "instruments":
                    try endpoint.applyFilter(accounts: existing(current?.accounts), instruments: list, channels: channels)
                case "channels":
                    try endpoint.applyFilter(accounts: existing(current?.accounts), instruments: existing(current?.instruments), channels: list)
                default:
                    reply("error: \(command) takes accounts, instruments or channels, not '\(what)'")
                    return
                }
                reply("ok: filter \(endpoint.currentSubscriber?.filter.jsonValue.serialized ?? "")")
            } catch {
                reply("error: \(error.description)")
            }
        case "quit", "exit":
            session.close(.normal, reason: "bye")
        default:
            reply("error: unknown command '\(command)'; type 'help' for the list")
        }
    }
}
