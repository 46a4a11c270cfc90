/// A log-linear histogram in the style of HdrHistogram: values below 256 get a bucket each, above
/// that every power of two is split into 128 equal buckets, so a bucket's width is at most 1/128
/// of its lower bound (≤ 0.8 % relative error) at any magnitude, in a fixed 7.4k-bucket array.
struct LatencyHistogram: Sendable {
    private static let linearLimit: UInt64 = 256
    private static let subBuckets = 128
    private static let bucketCount = 256 + 56 * 128

    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)
    private(set) var totalCount: UInt64 = 0
    private(set) var minimum: UInt64 = .max
    private(set) var maximum: UInt64 = 0

    init() {}

    mutating func record(_ value: UInt64) {
        counts[Self.bucketIndex(value)] &+= 1
        totalCount &+= 1
        if value < minimum { minimum = value }
        if value > maximum { maximum = value }
    }

    /// The smallest recorded value v such that at least `fraction` of all values are ≤ v, reported
    /// as the top of its bucket (never above the true maximum), as HdrHistogram does.
    func value(atFraction fraction: Double) -> UInt64 {
        guard totalCount > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((fraction * Double(totalCount)).rounded(.up)))
        var seen: UInt64 = 0
        for index in 0..<counts.count where counts[index] != 0 {
            seen &+= counts[index]
            if seen >= rank { return Swift.min(Self.highestValue(inBucket: index), maximum) }
        }
        return maximum
    }

    static func bucketIndex(_ value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount        // ≥ 8
        let shift = highestBit - 7                               // mantissa keeps 8 bits: 128…255
        let mantissa = Int(value >> UInt64(shift))
        return 256 + (shift - 1) * subBuckets + (mantissa - subBuckets)
    }

    static func lowestValue(inBucket index: Int) -> UInt64 {
        if index < Int(linearLimit) { return UInt64(index) }
        let shift = (index - 256) / subBuckets + 1
        let mantissa = (index - 256) % subBuckets + subBuckets
        return UInt64(mantissa) << UInt64(shift)
    }

    static func highestValue(inBucket index: Int) -> UInt64 {
        if index < Int(linearLimit) { return UInt64(index) }
        let shift = (index - 256) / subBuckets + 1
        return lowestValue(inBucket: index) + (UInt64(1) << UInt64(shift)) - 1
    }
}
