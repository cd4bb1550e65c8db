import AlgoEval
import Foundation

/// The loss curve of a training run as a small, hand-written SVG: axes with "nice" ticks (1, 2, 5 ×
/// 10ᵏ) and labels, the loss of every step as one polyline (`id="loss"`, one point per step, step k
/// at x(k)), and an exponential moving average (`id="smoothed"`, weight 0.9, bias-corrected as in
/// Adam: s_k = (0.9 s_{k−1} + 0.1 loss_k)/(1 − 0.9^k)) to see the trend through the per-sequence noise.
/// With `--eval-every N`, the held-out loss measured every N steps is a second line (`id="held-out"`,
/// one point per measurement at its step, with a legend). The unit is nats per predicted token.
enum LossPlotSVG {
    static let width = 640.0, height = 400.0
    static let left = 72.0, right = 20.0, top = 36.0, bottom = 52.0

    /// The SVG document for `losses` (loss of step k at index k − 1).
    static func document(losses: [Double], title: String, heldOut: [(step: Int, loss: Double)] = []) -> String {
        let values = (losses + heldOut.map(\.loss)).filter(\.isFinite)
        let n = losses.count
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let yTicks = ticks(lo, hi)
        lo = min(lo, yTicks.first ?? lo); hi = max(hi, yTicks.last ?? hi)
        let xMax = Double(max(n, 2))
        let xTicks = ticks(1, xMax).filter { $0 >= 1 && $0 <= xMax && $0 == $0.rounded() }
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ step: Double) -> Double { left + (step - 1) / (xMax - 1) * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }

        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<title>\(escape(title))</title>\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        // Axes.
        s += "<g id=\"axes\" stroke=\"black\" stroke-width=\"1\">\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\"/>\n"
        for t in xTicks { s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + plotH + 5))\"/>\n" }
        for t in yTicks { s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y(t)))\" x2=\"\(f(left))\" y2=\"\(f(y(t)))\"/>\n" }
        s += "</g>\n<g id=\"tick-labels\">\n"
        for t in xTicks { s += "<text x=\"\(f(x(t)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(label(t))</text>\n" }
        for t in yTicks { s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n" }
        s += "</g>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">step</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\">loss (nats per predicted token)</text>\n"
        // Curves.
        let points = losses.enumerated().map { "\(f(x(Double($0.offset + 1)))),\(f(y($0.element.isFinite ? $0.element : hi)))" }
        s += "<polyline id=\"loss\" fill=\"none\" stroke=\"#9bbbd9\" stroke-width=\"1\" points=\"\(points.joined(separator: " "))\"/>\n"
        let smooth = smoothed(losses).enumerated().map { "\(f(x(Double($0.offset + 1)))),\(f(y($0.element)))" }
        s += "<polyline id=\"smoothed\" fill=\"none\" stroke=\"#1f4e8c\" stroke-width=\"2\" points=\"\(smooth.joined(separator: " "))\"/>\n"
        let held = heldOut.filter { $0.loss.isFinite && $0.step >= 1 }
        if !held.isEmpty {
            let pts = held.map { "\(f(x(Double($0.step)))),\(f(y($0.loss)))" }
            s += "<polyline id=\"held-out\" fill=\"none\" stroke=\"#d95f02\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
            s += "<g id=\"held-out-points\" fill=\"#d95f02\">\n"
            for p in held { s += "<circle cx=\"\(f(x(Double(p.step))))\" cy=\"\(f(y(p.loss)))\" r=\"3\"/>\n" }
            s += "</g>\n"
            s += "<g id=\"legend\" font-size=\"11\">\n"
            for (k, (colour, name)) in [("#1f4e8c", "training (smoothed)"), ("#d95f02", "held-out")].enumerated() {
                let ly = top + 10 + 16 * Double(k)
                s += "<line x1=\"\(f(left + plotW - 150))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotW - 130))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                s += "<text x=\"\(f(left + plotW - 125))\" y=\"\(f(ly + 4))\">\(name)</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Bias-corrected exponential moving average with weight 0.9 (non-finite values skipped).
    static func smoothed(_ xs: [Double]) -> [Double] {
        var m = 0.0, w = 0.0, out: [Double] = []
        for v in xs {
            if v.isFinite { m = 0.9 * m + 0.1 * v; w = 0.9 * w + 0.1 }
            out.append(w > 0 ? m / w : 0)
        }
        return out
    }

    /// About five ticks covering [lo, hi] at a step of 1, 2 or 5 × 10ᵏ.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        guard raw > 0, raw.isFinite else { return [lo] }
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        var out: [Double] = []
        var t = floor(lo / step) * step
        while t <= hi + step * 1e-9 { if t >= lo - step * 1e-9 { out.append(t) }; t += step }
        if out.isEmpty { out = [lo] }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Writes the plot to `path` atomically.
    static func write(losses: [Double], title: String, heldOut: [(step: Int, loss: Double)] = [], to path: String) -> Result<Void, AtomicFileError> {
        AtomicFile.write(Array(document(losses: losses, title: title, heldOut: heldOut).utf8), to: path)
    }
}
