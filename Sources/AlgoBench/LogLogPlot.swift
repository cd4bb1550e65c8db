import Foundation

/// Power-law fits and hand-written SVG log-log plots for `algo bench scale`.
public enum LogLog {
    /// The least-squares slope b of log y = a + b·log x (the exponent of y ∝ x^b); nil for fewer
    /// than two distinct positive x or a non-positive value.
    public static func slope(_ points: [(x: Double, y: Double)]) -> Double? {
        guard points.count >= 2, points.allSatisfy({ $0.x > 0 && $0.y > 0 }) else { return nil }
        let lx = points.map { log($0.x) }, ly = points.map { log($0.y) }
        let mx = lx.reduce(0, +) / Double(lx.count), my = ly.reduce(0, +) / Double(ly.count)
        var sxy = 0.0, sxx = 0.0
        for i in 0..<lx.count { sxy += (lx[i] - mx) * (ly[i] - my); sxx += (lx[i] - mx) * (lx[i] - mx) }
        return sxx > 0 ? sxy / sxx : nil
    }

    /// The fitted intercept a of log y = a + b·log x for slope b.
    static func intercept(_ points: [(x: Double, y: Double)], slope b: Double) -> Double {
        let n = Double(points.count)
        return points.map { log($0.y) - b * log($0.x) }.reduce(0, +) / n
    }

    /// One plot: measured points and their fitted line.
    public struct Panel {
        public var title: String, xLabel: String, yLabel: String
        public var points: [(x: Double, y: Double)]
        public init(title: String, xLabel: String, yLabel: String, points: [(x: Double, y: Double)]) {
            self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.points = points
        }
    }

    /// An SVG document with the panels in a grid of `columns`, each 420×300 px: log-log axes with
    /// ticks at 1–2–5 values, the points, the least-squares line, and its slope in the title; the
    /// caption's lines (split at newlines) under the grid.
    public static func svg(_ panels: [Panel], columns: Int = 2, caption: String) -> String {
        let w = 420.0, h = 300.0, rows = (panels.count + columns - 1) / columns
        let lines = caption.split(separator: "\n").map(String.init)
        let width = w * Double(columns), height = h * Double(rows) + 16 * Double(lines.count) + 14
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (i, line) in lines.enumerated() {
            s += "<text x=\"10\" y=\"\(Int(h * Double(rows)) + 16 * (i + 1))\" font-size=\"11\" fill=\"#444\">\(escape(line))</text>\n"
        }
        for (i, p) in panels.enumerated() {
            s += panel(p, x0: w * Double(i % columns), y0: h * Double(i / columns), w: w, h: h)
        }
        return s + "</svg>\n"
    }

    static func panel(_ p: Panel, x0: Double, y0: Double, w: Double, h: Double) -> String {
        let left = x0 + 70, right = x0 + w - 20, top = y0 + 40, bottom = y0 + h - 45
        let pts = p.points.filter { $0.x > 0 && $0.y > 0 }
        guard let xmin = pts.map(\.x).min(), let xmax = pts.map(\.x).max(),
              let ymin = pts.map(\.y).min(), let ymax = pts.map(\.y).max() else { return "" }
        // Log ranges padded by 10% of a decade so points never sit on the frame.
        let lx0 = log10(xmin) - 0.1, lx1 = max(log10(xmax) + 0.1, log10(xmin) + 0.3)
        let ly0 = log10(ymin) - 0.1, ly1 = max(log10(ymax) + 0.1, log10(ymin) + 0.3)
        func X(_ v: Double) -> Double { left + (log10(v) - lx0) / (lx1 - lx0) * (right - left) }
        func Y(_ v: Double) -> Double { bottom - (log10(v) - ly0) / (ly1 - ly0) * (bottom - top) }
        var s = "<g>\n"
        let b = slope(pts)
        let title = p.title + (b.map { String(format: " — slope %.2f", $0) } ?? "")
        s += "<text x=\"\(fmt(left))\" y=\"\(fmt(y0 + 22))\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(right - left))\" height=\"\(fmt(bottom - top))\" fill=\"none\" stroke=\"#888\"/>\n"
        for v in ticks(pow(10, lx0), pow(10, lx1)) {
            s += "<line x1=\"\(fmt(X(v)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(X(v)))\" y2=\"\(fmt(bottom))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(fmt(X(v)))\" y=\"\(fmt(bottom + 14))\" text-anchor=\"middle\">\(label(v))</text>\n"
        }
        for v in ticks(pow(10, ly0), pow(10, ly1)) {
            s += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(Y(v)))\" x2=\"\(fmt(right))\" y2=\"\(fmt(Y(v)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(fmt(left - 5))\" y=\"\(fmt(Y(v) + 4))\" text-anchor=\"end\">\(label(v))</text>\n"
        }
        s += "<text x=\"\(fmt((left + right) / 2))\" y=\"\(fmt(bottom + 32))\" text-anchor=\"middle\">\(escape(p.xLabel)) (log)</text>\n"
        s += "<text transform=\"translate(\(fmt(x0 + 16)),\(fmt((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(p.yLabel)) (log)</text>\n"
        if let b {
            let a = intercept(pts, slope: b)
            let ya = exp(a + b * log(xmin)), yb = exp(a + b * log(xmax))
            s += "<line x1=\"\(fmt(X(xmin)))\" y1=\"\(fmt(Y(ya)))\" x2=\"\(fmt(X(xmax)))\" y2=\"\(fmt(Y(yb)))\" stroke=\"#d62728\" stroke-dasharray=\"5,3\"/>\n"
        }
        s += "<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"" + pts.map { "\(fmt(X($0.x))),\(fmt(Y($0.y)))" }.joined(separator: " ") + "\"/>\n"
        for q in pts { s += "<circle cx=\"\(fmt(X(q.x)))\" cy=\"\(fmt(Y(q.y)))\" r=\"3.5\" fill=\"#1f77b4\"/>\n" }
        return s + "</g>\n"
    }

    /// 1–2–5 values in [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        var out: [Double] = []
        var decade = pow(10, floor(log10(lo)))
        while decade <= hi {
            for m in [1.0, 2.0, 5.0] where decade * m >= lo && decade * m <= hi { out.append(decade * m) }
            decade *= 10
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v >= 1, v < 1e6, v == v.rounded() { return String(Int(v)) }
        return String(format: "%g", v)
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
