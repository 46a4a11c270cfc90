import Foundation

/// An SVG of a latency run, with no dependencies: on top, delivery latency p50 and p99 for each
/// second of the replay over the deliveries per second (the day's bursts and lulls); below, the
/// distribution of every delivery's latency on a log scale.
enum LatencyPlot {
    static let width = 960.0, panelHeight = 300.0, margin = 64.0

    static func svg(title: String, deliveries: [Int64], seconds: [SecondStats]) -> String {
        let height = 2 * panelHeight + 3 * margin
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(margin)" y="24" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        out += perSecondPanel(seconds, top: margin)
        out += distributionPanel(deliveries, top: 2 * margin + panelHeight)
        out += "</svg>\n"
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A "nice" axis top: 1, 2 or 5 × a power of ten at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }

    static func perSecondPanel(_ seconds: [SecondStats], top: Double) -> String {
        let plotWidth = width - 2 * margin
        let lastSecond = Double(max(1, (seconds.last?.second ?? 0) + 1))
        let maxCount = niceCeiling(Double(seconds.map(\.count).max() ?? 1))
        let maxMs = niceCeiling(Double(seconds.map(\.p99).max() ?? 1) / 1e6)
        func x(_ second: Double) -> Double { margin + second / lastSecond * plotWidth }
        func yCount(_ count: Double) -> Double { top + panelHeight - count / maxCount * panelHeight }
        func yMs(_ ms: Double) -> Double { top + panelHeight - ms / maxMs * panelHeight }
        var out = "<text x=\"\(margin)\" y=\"\(number(top - 10))\" font-weight=\"bold\">Delivery latency by second of the replay: p99 (red), p50 (blue); deliveries per second (grey bars, right axis)</text>\n"
        out += "<rect x=\"\(margin)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#888\"/>\n"
        let barWidth = max(0.5, plotWidth / lastSecond - 0.5)
        for s in seconds {
            out += "<rect x=\"\(number(x(Double(s.second))))\" y=\"\(number(yCount(Double(s.count))))\" width=\"\(number(barWidth))\" height=\"\(number(top + panelHeight - yCount(Double(s.count))))\" fill=\"#ddd\"/>\n"
        }
        for (key, color) in [(\SecondStats.p50, "#1f5fbf"), (\SecondStats.p99, "#c0392b")] {
            let points = seconds.map { "\(number(x(Double($0.second) + 0.5))),\(number(yMs(Double($0[keyPath: key]) / 1e6)))" }
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>\n"
        }
        for step in 0...4 {
            let fraction = Double(step) / 4
            let y = top + panelHeight - fraction * panelHeight
            out += "<line x1=\"\(margin - 4)\" x2=\"\(margin)\" y1=\"\(number(y))\" y2=\"\(number(y))\" stroke=\"#888\"/>"
            out += "<text x=\"\(margin - 6)\" y=\"\(number(y + 4))\" text-anchor=\"end\">\(String(format: "%g", maxMs * fraction)) ms</text>\n"
            out += "<text x=\"\(width - margin + 6)\" y=\"\(number(y + 4))\" fill=\"#777\">\(Int(maxCount * fraction))/s</text>\n"
            let second = lastSecond * fraction
            out += "<text x=\"\(number(x(second)))\" y=\"\(number(top + panelHeight + 16))\" text-anchor=\"middle\">\(Int(second)) s</text>\n"
        }
        return out
    }

    static func distributionPanel(_ deliveries: [Int64], top: Double) -> String {
        let plotWidth = width - 2 * margin
        // Log-spaced bins, 8 per decade, from 10 µs to the largest latency.
        let low = 10_000.0
        let high = max(low * 10, Double(deliveries.max() ?? 0) * 1.01)
        let decades = log10(high / low)
        let binCount = max(1, Int(ceil(decades * 8)))
        var bins = [Int](repeating: 0, count: binCount)
        for value in deliveries {
            let position = log10(max(low, Double(value)) / low) / decades
            bins[min(binCount - 1, max(0, Int(position * Double(binCount))))] += 1
        }
        let maxBin = niceCeiling(Double(bins.max() ?? 1))
        var out = "<text x=\"\(margin)\" y=\"\(number(top - 10))\" font-weight=\"bold\">Distribution of delivery latency (\(deliveries.count) deliveries, log scale)</text>\n"
        out += "<rect x=\"\(margin)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#888\"/>\n"
        let binWidth = plotWidth / Double(binCount)
        for (index, count) in bins.enumerated() where count > 0 {
            let h = Double(count) / maxBin * panelHeight
            out += "<rect x=\"\(number(margin + Double(index) * binWidth))\" y=\"\(number(top + panelHeight - h))\" width=\"\(number(binWidth - 1))\" height=\"\(number(h))\" fill=\"#1f5fbf\"/>\n"
        }
        var decade = low
        while decade <= high {
            let x = margin + log10(decade / low) / decades * plotWidth
            let label = decade < 1_000_000 ? "\(Int(decade / 1000)) µs" : decade < 1e9 ? "\(Int(decade / 1e6)) ms" : "\(Int(decade / 1e9)) s"
            out += "<line x1=\"\(number(x))\" x2=\"\(number(x))\" y1=\"\(top)\" y2=\"\(top + panelHeight)\" stroke=\"#eee\"/>"
            out += "<text x=\"\(number(x))\" y=\"\(number(top + panelHeight + 16))\" text-anchor=\"middle\">\(label)</text>\n"
            decade *= 10
        }
        for step in 0...4 {
            let fraction = Double(step) / 4
            let y = top + panelHeight - fraction * panelHeight
            out += "<text x=\"\(margin - 6)\" y=\"\(number(y + 4))\" text-anchor=\"end\">\(Int(maxBin * fraction))</text>\n"
        }
        return out
    }
}
