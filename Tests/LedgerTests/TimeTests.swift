import Bytes
import Testing
@testable import Ledger

@Suite struct TimeTests {
    @Test func isoStringFormatsMillisecondsUTC() {
        #expect(isoString(0) == "1970-01-01T00:00:00.000Z")
        #expect(isoString(at("2026-11-24T14:30:00.123Z")) == "2026-11-24T14:30:00.123Z")
        #expect(isoString(-1_000_000) == "1969-12-31T23:59:59.999Z")
        #expect(isoString(at("2024-02-29T23:59:59.999Z")) == "2024-02-29T23:59:59.999Z")
    }

    @Test func parsesFractionsAndOffsets() {
        #expect(parseISO8601("2026-11-24T14:30:00Z") == 1_795_530_600_000_000_000)
        #expect(parseISO8601("2026-11-24T14:30:00.123Z") == 1_795_530_600_123_000_000)
        #expect(parseISO8601("2026-11-24T14:30:00.123456789Z") == 1_795_530_600_123_456_789)
        #expect(parseISO8601("2026-11-24T08:30:00-06:00") == parseISO8601("2026-11-24T14:30:00Z"))
        #expect(parseISO8601("2026-11-24T15:30:00+01:00") == parseISO8601("2026-11-24T14:30:00Z"))
        #expect(parseISO8601("1969-12-31T23:59:59.999Z") == -1_000_000)
    }

    @Test(arguments: ["", "2026-11-24", "2026-11-24T14:30:00", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                      "2026-11-24T24:00:00Z", "2026-11-24T14:30:00.Z", "2026-11-24T14:30:00.1234567891Z",
                      "2026-11-24T14:30:00Zjunk", "2026-1-24T14:30:00Z", "2026-11-24T14:30:00+0600"])
    func rejectsInvalidTimes(text: String) {
        #expect(parseISO8601(text) == nil)
    }

    @Test func extremesAreRefusedOrAnsweredNeverTrapped() {
        #expect(parseISO8601("2263-01-01T00:00:00Z") == nil)      // beyond Int64 nanoseconds
        #expect(parseISO8601("9999-12-31T23:59:59Z") == nil)
        #expect(parseISO8601("2262-04-11T23:47:16.854775807Z") == Int64.max)
        _ = tradingDay(for: .max)
        _ = tradingDay(for: .min)
        _ = tradingDayEnd(after: .max)
        _ = isoString(.min)
        #expect(isoString(.max) == "2262-04-11T23:47:16.854Z")
    }

    @Test func chicagoOffsetSwitchesOnUSRules() {
        // 2026: DST from Sunday Mar 8 02:00 CST (08:00Z) to Sunday Nov 1 02:00 CDT (07:00Z).
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-03-08T07:59:59Z")) == -21_600)
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-03-08T08:00:00Z")) == -18_000)
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-11-01T06:59:59Z")) == -18_000)
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-11-01T07:00:00Z")) == -21_600)
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-07-01T12:00:00Z")) == -18_000)
        #expect(ChicagoTime.utcOffsetSeconds(at: at("2026-01-15T12:00:00Z")) == -21_600)
    }

    /// 17:00 CT is 23:00Z in winter and 22:00Z in summer; at or after it is the next trading day.
    @Test(arguments: [
        ("2026-11-24T22:59:59.999Z", 20261124), ("2026-11-24T23:00:00Z", 20261125),   // Tuesday, CST
        ("2026-07-14T21:59:59Z", 20260714), ("2026-07-14T22:00:00Z", 20260715),       // Tuesday, CDT
        ("2026-03-06T22:59:59Z", 20260306), ("2026-03-06T23:00:00Z", 20260309),       // Friday before DST → Monday
        ("2026-03-08T21:59:59Z", 20260309), ("2026-03-08T22:00:00Z", 20260309),       // DST Sunday: evening session is Monday
        ("2026-03-09T21:59:59Z", 20260309), ("2026-03-09T22:00:00Z", 20260310),       // first CDT Monday: 22:00Z
        ("2026-10-30T21:59:59Z", 20261030), ("2026-10-30T22:00:00Z", 20261102),       // last CDT Friday
        ("2026-11-01T22:30:00Z", 20261102), ("2026-11-01T23:00:00Z", 20261102),       // DST-end Sunday
        ("2026-11-02T22:00:00Z", 20261102), ("2026-11-02T22:59:59Z", 20261102),       // first CST Monday: not yet
        ("2026-11-02T23:00:00Z", 20261103),
    ])
    func tradingDayAroundFivePMCentral(time: String, expected: Int) {
        #expect(tradingDay(for: at(time), instrument: instrument("ZNZ6")) == expected)
    }

    @Test func perProductDayEndOverride() {
        var zn = instrument("ZNZ6")
        zn.tradingDayEndMinutes = 16 * 60
        #expect(tradingDay(for: at("2026-11-24T22:00:00Z"), instrument: zn) == 20261125)
        #expect(tradingDay(for: at("2026-11-24T21:59:59Z"), instrument: zn) == 20261124)
    }

    @Test func dayEndInstantFollowsDST() {
        #expect(tradingDayEnd(after: at("2026-11-24T15:00:00Z")) == at("2026-11-24T23:00:00Z"))
        #expect(tradingDayEnd(after: at("2026-07-14T15:00:00Z")) == at("2026-07-14T22:00:00Z"))
        #expect(tradingDayEnd(after: at("2026-10-30T15:00:00Z")) == at("2026-10-30T22:00:00Z"))
        // Friday evening after the close belongs to Monday, which ends at 17:00 CST.
        #expect(tradingDayEnd(after: at("2026-10-30T22:00:00Z")) == at("2026-11-02T23:00:00Z"))
        #expect(tradingDayEnd(after: at("2026-03-06T23:00:00Z")) == at("2026-03-09T22:00:00Z"))
        #expect(tradingDayEnd(after: at("2026-11-24T23:00:00Z")) == at("2026-11-25T23:00:00Z"))
    }
}
