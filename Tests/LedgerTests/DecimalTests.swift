import Testing
@testable import Ledger

@Suite struct DecimalTests {
    @Test(arguments: [
        (Int64(48_437_500_000), "484.375"), (-20_312_500_000, "-203.125"), (0, "0"), (1_562_500_000, "15.625"),
        (100_000_000_000, "1000"), (1, "0.00000001"), (-1, "-0.00000001"), (Int64.min, "-92233720368.54775808"),
        (Int64.max, "92233720368.54775807"),
    ])
    func moneyIsExactTrimmedDecimal(units: Int64, text: String) {
        #expect(Money(units: units).decimalString == text)
        #expect(Money(units: units).description == text)
        #expect(Money(decimal: text) == Money(units: units))
    }

    @Test func priceDecimalIsExact() {
        #expect(Price(decimal: "110.265625")?.units == 11_026_562_500)
        #expect(Price(decimal: "110.50000000000")?.decimalString == "110.5")
        #expect(Price(decimal: "110.123456789") == nil)
        #expect(Price(decimal: "1e5") == nil)
        #expect(Price(decimal: ".5") == nil)
        #expect(Price(decimal: "5.") == nil)
        #expect(Price(decimal: "99999999999999999999") == nil)
    }

    @Test func moneyArithmeticOverflowIsTyped() throws {
        #expect(throws: LedgerError.overflow) { try Money(units: .max).adding(Money(units: 1)) }
        #expect(throws: LedgerError.overflow) { try Money(units: .min).subtracting(Money(units: 1)) }
        #expect(try Money(dollars: 2).adding(Money(decimal: "0.5")!).decimalString == "2.5")
    }

    @Test func roundingIsHalfAwayFromZero() {
        #expect(roundedDivide(5, 2) == 3)
        #expect(roundedDivide(-5, 2) == -3)
        #expect(roundedDivide(4, 3) == 1)
        #expect(roundedDivide(-4, 3) == -1)
        #expect(roundedDivide(5, -2) == -3)
        #expect(roundedDivide(Int64.min, -1) == Int64.max)
        #expect(roundedDivide(7, -1) == -7)
        #expect(roundedShare(10, 1, 4) == 3)
        #expect(roundedShare(-10, 1, 4) == -3)
        #expect(roundedShare(Int64.max, 3, 3) == Int64.max)
    }
}
