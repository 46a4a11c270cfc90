import Testing
@testable import Wire

@Suite struct FilterTests {
    @Test func everythingFilterPassesAll() {
        let filter = SubscriptionFilter()
        #expect(filter.passesEverything)
        #expect(filter.matches(channel: .pnl, account: nil, instrument: nil))
    }

    @Test func accountsInstrumentsAndChannelsNarrow() {
        let filter = SubscriptionFilter(accounts: ["ACC1"], instruments: ["ZNZ6"], channels: [.fills, .marks])
        #expect(!filter.passesEverything)
        #expect(filter.matches(channel: .fills, account: "ACC1", instrument: "ZNZ6"))
        #expect(!filter.matches(channel: .fills, account: "ACC2", instrument: "ZNZ6"))
        #expect(!filter.matches(channel: .fills, account: "ACC1", instrument: "ZBZ6"))
        #expect(!filter.matches(channel: .positions, account: "ACC1", instrument: "ZNZ6"))
        #expect(filter.matches(channel: .marks, account: nil, instrument: "ZNZ6"))
    }

    /// Every channel alone, and the channels changed on an existing filter (a `subscribe`):
    /// exactly the named channels pass.
    @Test func eachChannelPassesExactlyWhenNamed() {
        for wanted in Channel.allCases {
            var filter = SubscriptionFilter(channels: [wanted])
            for channel in Channel.allCases {
                #expect(filter.matches(channel: channel, account: "ACC1", instrument: "ZNZ6") == (channel == wanted))
            }
            let others = Set(Channel.allCases).subtracting([wanted])
            filter.channels = others
            for channel in Channel.allCases {
                #expect(filter.matches(channel: channel, account: "ACC1", instrument: "ZNZ6") == (channel != wanted))
            }
            #expect(filter == SubscriptionFilter(channels: others))
        }
    }

    @Test func aScopedViewerNeverSeesOtherAccountsOrDeskTotals() {
        let filter = SubscriptionFilter(allowedAccounts: ["ACC1"])
        #expect(filter.matches(channel: .pnl, account: "ACC1", instrument: nil))
        #expect(!filter.matches(channel: .pnl, account: "ACC2", instrument: nil))
        #expect(!filter.matches(channel: .pnl, account: nil, instrument: nil), "desk totals aggregate other accounts")
        #expect(filter.matches(channel: .marks, account: nil, instrument: "ZNZ6"), "marks are not account data")
        // A subscribe asking for more cannot widen the scope.
        var widened = filter
        widened.accounts = ["ACC1", "ACC2"]
        #expect(!widened.matches(channel: .fills, account: "ACC2", instrument: "ZNZ6"))
    }
}
