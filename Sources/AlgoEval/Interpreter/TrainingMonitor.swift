import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// One update of θ in a training run (Algorithms 11–13 and the section 8 variants): reported by the
/// evaluator right after the statement that assigns the algorithm's parameter collection
/// (`θ ← θ − η · ∇loss(θ)`, Adam's `θ ← θ − η m̂/(√v̂ + ε)`) has run.
public struct TrainingStep: Sendable {
    /// Updates done so far in the run (1-based; a resumed run continues the count).
    public var step: Int
    /// N_epochs × N_data (or × N_batches), when the run knows it.
    public var totalSteps: Int?
    /// loss(θ) computed for this step's `∇loss(θ)` (the forward of the gradient, not a second one),
    /// as the algorithm defines it (per sequence, or averaged over a batch).
    public var loss: Double
    /// The same loss in nats per predicted token (`Evaluator+LossUnit`; NaN when not a Σ of terms).
    public var lossPerToken: Double = .nan
    /// The tokens this step predicted (the terms of the loss's Σ).
    public var predictedTokens: Int = 0
    /// Tokens of the sequences this step trained on (Σ length(x_n), and z_n for pairs).
    public var tokens: Int
    /// The epoch (1-based) this step belongs to, when the run knows it.
    public var epoch: Int?
    /// A stop was requested (`TrainingMonitor.requestStop`): the run ends after this step.
    public var stopping: Bool

    public init(step: Int, totalSteps: Int?, loss: Double, tokens: Int, epoch: Int?, stopping: Bool) {
        self.step = step; self.totalSteps = totalSteps; self.loss = loss; self.tokens = tokens; self.epoch = epoch; self.stopping = stopping
    }
}

/// The run's state at a step boundary. Valid only during the `TrainingMonitor` handler's call.
public struct TrainingBoundary {
    let make: () -> TrainingSnapshot
    /// Everything needed to resume after this step bit-exactly (copies; cheap to skip when unused).
    public func snapshot() -> TrainingSnapshot { make() }
}

/// A value of a state variable of the training algorithm's frame (Adam's m, v, s; ETraining's x̃_n, T̃).
public enum SavedValue {
    case tensor(Tensor)
    /// A parameter collection flattened to checkpoint names (`W_e`, `𝓦_1.W^2_q`), in member order.
    case collection([(name: String, tensor: Tensor)])
    case nat(Int)
    case real(Double)
    case bool(Bool)
    case tokens([Int])
    case indexSet([Int])
}

/// Everything a resumed run restores after re-running the control flow up to `step`: θ, the other
/// state variables the algorithm's body assigns, the random generator and the loss history.
public struct TrainingSnapshot {
    public var step: Int
    /// θ by checkpoint name, in member order.
    public var parameters: [(name: String, tensor: Tensor)]
    /// The other variables the body assigns (functions of θ and loop variables excluded), by name.
    public var state: [(name: String, value: SavedValue)]
    /// `RandomGenerator.state` of the run's generator (ETraining's masks draw from it).
    public var rng: [UInt64]
    /// loss(θ) of every step so far.
    public var losses: [Double]
    /// The mean loss at the initial θ (the evaluation pass before training), when known.
    public var lossBefore: Double?
    /// Every loss of `losses` in nats per predicted token, and the tokens it predicted.
    public var tokenLosses: [Double] = []
    public var predictedTokens: [Int] = []
    /// `lossBefore` in nats per predicted token.
    public var lossBeforePerToken: Double?
}

/// Receives every step of a training run and may ask it to stop at the next step boundary.
/// `requestStop` may be called from any thread (a signal handler's queue); the handler runs on
/// the evaluating thread.
public final class TrainingMonitor: @unchecked Sendable {
    public typealias Handler = (TrainingStep, TrainingBoundary) throws -> Void
    let handler: Handler
    private let lock = NSLock()
    private var stop = false

    public init(_ handler: @escaping Handler) { self.handler = handler }

    /// Asks the run to stop after the step in progress (the handler sees `stopping == true` for it).
    public func requestStop() { lock.lock(); stop = true; lock.unlock() }

    public var stopRequested: Bool { lock.lock(); defer { lock.unlock() }; return stop }
}

/// The training state the evaluator keeps across statements (`RunOptions.training`): the monitor,
/// the step count, and a resume in progress (statements are skipped until `resume.step` updates
/// have been passed, then the snapshot is restored).
public final class TrainingRun {
    public let monitor: TrainingMonitor?
    public let resume: TrainingSnapshot?
    /// N_epochs × N_data (or N_batches); set by `RunSession.train`.
    public var totalSteps: Int?
    /// Tokens of step k: `tokensPerStep[(k − 1) mod count]` (one entry per step of an epoch).
    public var tokensPerStep: [Int] = []
    /// Recorded into snapshots (the evaluation pass before training), per sequence and per token.
    public var lossBefore: Double?
    public var lossBeforePerToken: Double?
    /// Updates executed (or passed while resuming).
    public internal(set) var stepsPassed = 0
    var skipping: Bool
    /// Per algorithm (by the span of its text): θ's name, the spans of its updates, the names its body assigns.
    var algorithms: [Span: (parameter: String?, updates: Set<Span>, state: [String])] = [:]
    var containers: [Span: Bool] = [:]

    public init(monitor: TrainingMonitor? = nil, resume: TrainingSnapshot? = nil) {
        self.monitor = monitor
        self.resume = resume
        skipping = (resume?.step ?? 0) > 0
    }

    /// Whether a resume is still skipping (the run had fewer steps than the checkpoint).
    public var resumePending: Bool { skipping }

    func tokens(_ step: Int) -> Int { tokensPerStep.isEmpty ? 0 : tokensPerStep[(step - 1) % tokensPerStep.count] }

    func epoch(_ step: Int) -> Int? {
        guard let total = totalSteps, !tokensPerStep.isEmpty, total % tokensPerStep.count == 0 else { return nil }
        return (step - 1) / tokensPerStep.count + 1
    }
}

/// Thrown at the step boundary after a requested stop; `RunSession.train` turns it into a result
/// (thrown and caught on the evaluating thread).
struct TrainingStopped: Error, @unchecked Sendable {
    var snapshot: TrainingSnapshot
    var evaluator: Evaluator
}

extension Evaluator {
    /// What the training hooks need of the algorithm running in `f`: the name of its parameter
    /// collection (its untyped input `θ`, or a collection parameter), the statements `θ ← …` of its
    /// body (any depth of loops; none for a forward algorithm), and the names its body assigns
    /// (`ℓ`, `m`, `s`, `x̃_n`, `T̃`, θ: the state a checkpoint saves).
    func trainingInfo(_ f: Frame, _ t: TrainingRun) -> (parameter: String?, updates: Set<Span>, state: [String]) {
        let key = f.algorithm.syntax.span
        if let i = t.algorithms[key] { return i }
        let a = f.algorithm
        var p: String? = nil
        for sp in a.inputs + a.parameters {
            guard case .name(let n) = sp.name.kind else { continue }
            if isUntyped(n.spelling, in: a, kind: .input) || isCollection(n.spelling, in: a) { p = n.spelling; break }
        }
        var updates: Set<Span> = []
        var names: [String] = []
        func add(_ n: String) { if !names.contains(n) { names.append(n) } }
        func walk(_ b: [Statement]) {
            for s in b {
                switch s.kind {
                case .assign(let target, _, _):
                    if case .name(let n) = target.kind { add(n.spelling); if n.spelling == p { updates.insert(s.span) } }
                    if case .index(let base, _) = target.kind, case .name(let n) = base.kind { add(n.spelling) }
                case .sample(let sm):
                    if case .name(let n) = sm.target.kind { add(n.spelling) }
                case .forLoop(let l): walk(l.body)
                case .whileLoop(let w): walk(w.body)
                case .ifThen(let i): walk(i.body)
                case .forAll(_, let b): walk([b])
                default: break
                }
            }
        }
        walk(a.syntax.body)
        let info = (parameter: p, updates: updates, state: names)
        t.algorithms[key] = info
        return info
    }

    /// Resuming: whether the statement `s` of a training algorithm (one that updates its θ) is
    /// skipped. Loops (and conditionals) that contain the update run their control flow; the k-th
    /// update restores the snapshot; every other statement is skipped (its effect is in the
    /// snapshot). Statements of other algorithms (an experiment calling DTraining) run.
    func skipForResume(_ s: Statement, _ f: Frame) throws -> Bool {
        guard let t = options.training, t.skipping, let target = t.resume else { return false }
        let updates = trainingInfo(f, t).updates
        guard !updates.isEmpty else { return false }
        if updates.contains(s.span) {
            t.stepsPassed += 1
            if t.stepsPassed == target.step { try restore(target, f, t, s); t.skipping = false }
            return true
        }
        return !contains(s, updates, t)
    }

    func contains(_ s: Statement, _ updates: Set<Span>, _ t: TrainingRun) -> Bool {
        if let c = t.containers[s.span] { return c }
        var c = false
        switch s.kind {
        case .forLoop(let l): c = l.body.contains { updates.contains($0.span) || contains($0, updates, t) }
        case .whileLoop(let w): c = w.body.contains { updates.contains($0.span) || contains($0, updates, t) }
        case .ifThen(let i): c = i.body.contains { updates.contains($0.span) || contains($0, updates, t) }
        default: c = false
        }
        t.containers[s.span] = c
        return c
    }

    /// After an assignment: at an update of θ, check θ is finite, report the step to the monitor,
    /// and stop if a stop was requested.
    func afterAssignment(_ s: Statement, _ f: Frame) throws {
        guard let t = options.training, !t.skipping else { return }
        let info = trainingInfo(f, t)
        guard info.updates.contains(s.span), let p = info.parameter else { return }
        t.stepsPassed += 1
        let step = t.stepsPassed
        if let v = f.vars[p], let bad = Self.firstNonFinite(v) {
            throw RuntimeError(.nonFinite, "step \(step): \(lineLabel(s, f)) of `\(f.algorithm.name)` made `\(bad.name)` hold \(bad.value); the run stops before this θ is saved", at: s.span,
                               notes: ["the last checkpoint written (if any) holds the parameters of an earlier step", "a smaller learning rate η (`--set η=…`) may keep training stable"])
        }
        guard let monitor = t.monitor else { return }
        let stopping = monitor.stopRequested
        var report = TrainingStep(step: step, totalSteps: t.totalSteps, loss: losses.last ?? .nan, tokens: t.tokens(step), epoch: t.epoch(step), stopping: stopping)
        report.lossPerToken = tokenLosses.last ?? .nan
        report.predictedTokens = predictedTokens.last ?? 0
        let handlerStart = options.profile ? DispatchTime.now().uptimeNanoseconds : 0
        defer { if options.profile { monitorNanos += DispatchTime.now().uptimeNanoseconds - handlerStart } }
        try monitor.handler(report, TrainingBoundary { self.snapshot(f, t) })
        if stopping { throw TrainingStopped(snapshot: snapshot(f, t), evaluator: self) }
    }

    static func firstNonFinite(_ v: Value, _ prefix: String = "") -> (name: String, value: Double)? {
        for (name, t) in RunSession.flatten(v, prefix: prefix) {
            // One bit-test pass; the values are copied only to report what was found.
            let seen = t.finiteness
            guard seen.hasNaN || seen.hasInfinity else { continue }
            if let bad = t.doubles.first(where: { !$0.isFinite }) { return (name, bad) }
        }
        return nil
    }

    func snapshot(_ f: Frame, _ t: TrainingRun) -> TrainingSnapshot {
        let info = trainingInfo(f, t)
        let p = info.parameter
        var state: [(name: String, value: SavedValue)] = []
        for name in info.state where name != p {
            guard let v = f.vars[name], let saved = Self.saved(v) else { continue }
            state.append((name, saved))
        }
        return TrainingSnapshot(step: t.stepsPassed, parameters: p.flatMap { f.vars[$0] }.map { RunSession.flatten($0) } ?? [],
                                state: state, rng: rng.state, losses: losses, lossBefore: t.lossBefore,
                                tokenLosses: tokenLosses, predictedTokens: predictedTokens, lossBeforePerToken: t.lossBeforePerToken)
    }

    static func saved(_ v: Value) -> SavedValue? {
        switch v {
        case .tensor(let t): return .tensor(t.value)
        case .collection: return .collection(RunSession.flatten(v))
        case .nat(let n): return .nat(n)
        case .real(let r): return .real(r)
        case .bool(let b): return .bool(b)
        case .tokens(let x): return .tokens(x)
        case .indexSet(let x): return .indexSet(x)
        default: return nil
        }
    }

    func restore(_ snap: TrainingSnapshot, _ f: Frame, _ t: TrainingRun, _ s: Statement) throws {
        guard let p = trainingInfo(f, t).parameter, case .collection(let current)? = f.vars[p] else {
            throw RuntimeError(.resumeMismatch, "`\(f.algorithm.name)` has no parameter collection to restore", at: s.span)
        }
        let restored = Self.collection(snap.parameters)
        guard RunSession.flatten(.collection(restored)).map(\.name) == RunSession.flatten(.collection(current)).map(\.name) else {
            throw RuntimeError(.resumeMismatch, "the checkpoint's θ has other members than `\(p)` of this run", at: s.span)
        }
        f.vars[p] = .collection(restored)
        for (name, v) in snap.state {
            switch v {
            case .tensor(let x): f.vars[name] = .tensor(Variable(x))
            case .collection(let members): f.vars[name] = .collection(Self.collection(members))
            case .nat(let n): f.vars[name] = .nat(n)
            case .real(let r): f.vars[name] = .real(r)
            case .bool(let b): f.vars[name] = .bool(b)
            case .tokens(let x): f.vars[name] = .tokens(x)
            case .indexSet(let x): f.vars[name] = .indexSet(x)
            }
        }
        rng.state = snap.rng
        losses = snap.losses
        tokenLosses = snap.tokenLosses
        predictedTokens = snap.predictedTokens
    }

    /// A collection from checkpoint names in member order (`𝓦_1.W^2_q` → member `𝓦_1`, then `W^2_q`).
    static func collection(_ flat: [(name: String, tensor: Tensor)]) -> Collection {
        var out = Collection()
        var groups: [String: [(name: String, tensor: Tensor)]] = [:]
        var order: [(name: String, group: Bool)] = []
        for (name, t) in flat {
            if let dot = name.firstIndex(of: ".") {
                let head = String(name[..<dot])
                if groups[head] == nil { order.append((head, true)) }
                groups[head, default: []].append((String(name[name.index(after: dot)...]), t))
            } else {
                order.append((name, false))
                groups[name] = [(name, t)]
            }
        }
        for (name, group) in order {
            out.members.append((name, group ? .collection(collection(groups[name]!)) : .tensor(Variable(groups[name]![0].tensor))))
        }
        return out
    }
}
