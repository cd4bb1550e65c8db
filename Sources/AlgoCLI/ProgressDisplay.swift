import AlgoEval
import Foundation

/// How `algo run` shows a training run: on a terminal one progress line redrawn in place (step/total,
/// a bar, loss, tokens/s, ETA), otherwise a plain log line every `every` steps (and at the last
/// step). Colour (the bar in green) only when `color` (stderr a terminal and NO_COLOR unset);
/// without colour no escape code is written at all (the line is redrawn with `\r` and padding).
struct ProgressDisplay {
    enum Mode: Equatable { case bar(color: Bool), log(every: Int) }
    let mode: Mode
    let total: Int?
    /// Time and step of the first step seen (rates are over the steps after it).
    private var first: (time: Double, step: Int)? = nil
    private var tokens = 0
    private var lastDraw = -Double.infinity
    private var drawnWidth = 0
    private(set) var drewBar = false

    init(mode: Mode, total: Int?) { self.mode = mode; self.total = total }

    /// The default log interval: a tenth of the run (at least 1).
    static func defaultEvery(total: Int?) -> Int { max(1, ((total ?? 10) + 9) / 10) }

    /// The held-out loss last measured (`--eval-every`), shown on every line after it.
    private var heldOut: (step: Int, loss: Double)? = nil

    /// The text to write for `s` at time `now` (seconds), or nil (not a logged step; redraw throttled
    /// to 10 per second). `heldOut`: the held-out loss measured at this step (a log line is written).
    mutating func update(_ s: TrainingStep, now: Double, heldOut measured: Double? = nil) -> String? {
        if let measured { heldOut = (s.step, measured) }
        if first != nil { tokens += s.tokens } else { first = (now, s.step) }
        let last = s.step == total || s.stopping
        switch mode {
        case .log(let every):
            guard s.step % every == 0 || last || measured != nil else { return nil }
            return Self.logLine(s, total: total, rate: rate(now), eta: eta(s.step, now), heldOut: heldOut) + "\n"
        case .bar(let color):
            guard now - lastDraw >= 0.1 || last || measured != nil else { return nil }
            lastDraw = now
            let (text, width) = barLine(s, color: color, now: now)
            defer { drawnWidth = width; drewBar = true }
            return "\r" + text + String(repeating: " ", count: max(0, drawnWidth - width))
        }
    }

    /// What ends the display: a newline after a progress line.
    func finish() -> String { drewBar ? "\n" : "" }

    /// Tokens per second over the steps after the first.
    func rate(_ now: Double) -> Double? {
        guard let f = first, now > f.time, tokens > 0 else { return nil }
        return Double(tokens) / (now - f.time)
    }

    /// Seconds left at the pace of the steps after the first.
    func eta(_ step: Int, _ now: Double) -> Double? {
        guard let f = first, let total, step > f.step, now > f.time else { return nil }
        return (now - f.time) / Double(step - f.step) * Double(total - step)
    }

    static func logLine(_ s: TrainingStep, total: Int?, rate: Double?, eta: Double?, heldOut: (step: Int, loss: Double)? = nil) -> String {
        var line = "step \(s.step)" + (total.map { "/\($0)" } ?? "")
        if let e = s.epoch { line += " (epoch \(e))" }
        line += ": " + lossText(s)
        if let h = heldOut { line += String(format: ", held-out %.4f (step %d)", h.loss, h.step) }
        if let rate { line += String(format: ", %.0f tokens/s", rate) }
        if let eta { line += ", ETA " + duration(eta) }
        return line
    }

    func barLine(_ s: TrainingStep, color: Bool, now: Double) -> (String, Int) {
        let width = 24
        var text = "step \(s.step)" + (total.map { "/\($0)" } ?? "") + " "
        var visible = text.count
        if let total, total > 0 {
            let filled = min(width, s.step * width / total)
            let bar = String(repeating: "█", count: filled), rest = String(repeating: "░", count: width - filled)
            text += color && filled > 0 ? "\u{1B}[32m" + bar + "\u{1B}[0m" + rest : bar + rest
            visible += width
        }
        var tail = " " + Self.lossText(s)
        if let h = heldOut { tail += String(format: ", held-out %.4f", h.loss) }
        if let r = rate(now) { tail += String(format: "  %.0f tok/s", r) }
        if let e = eta(s.step, now) { tail += "  ETA " + Self.duration(e) }
        text += tail
        visible += tail.count
        return (text, visible)
    }

    /// The step's loss in the one unit of `algo run`, nats per predicted token (`Evaluator+LossUnit`);
    /// loss(θ) as the algorithm defines it, labelled so, when its form gives no token count.
    static func lossText(_ s: TrainingStep) -> String {
        s.lossPerToken.isNaN ? String(format: "loss(θ) %.4f", s.loss) : String(format: "loss %.4f nats/token", s.lossPerToken)
    }

    /// `m:ss` or `h:mm:ss`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// The flags that shape a training run's progress, read once per command: a bar on a terminal
/// (stderr, `Output.live`), else a log line every `--log-every` steps (default a tenth of the run).
struct ProgressOptions {
    let terminal: Bool, color: Bool, logEvery: Int?

    /// Nil, after the usage error, when `--log-every` is not a number of steps ≥ 1.
    init?(_ args: Arguments, _ output: inout Output) {
        terminal = output.live && isatty(2) != 0
        color = output.color
        logEvery = args.value("log-every").flatMap(Int.init)
        if args.value("log-every") != nil, (logEvery ?? 0) < 1 {
            output.err("algo run: error: `--log-every` takes a number of steps ≥ 1")
            return nil
        }
    }

    /// A display for a run of `total` steps (nil when unknown).
    func display(total: Int?) -> ProgressDisplay {
        ProgressDisplay(mode: terminal ? .bar(color: color) : .log(every: logEvery ?? ProgressDisplay.defaultEvery(total: total)), total: total)
    }
}

/// Where progress text goes: straight to stderr in the `algo` process (`Output.live`), else into
/// `Output.stderr` when the command returns (tests).
final class ProgressSink {
    let live: Bool
    private(set) var buffered = ""
    init(live: Bool) { self.live = live }
    func write(_ s: String) {
        if live { OutputStreams.progress(s) } else { buffered += s }
    }
}
