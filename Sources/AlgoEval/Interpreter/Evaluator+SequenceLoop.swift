import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// What a loop over the sequences of a dataset (`Rules/SequenceBatching.swift`,
/// `SequenceLoopBatchingRule`) has computed ahead while it runs: per n, the slice of a batched call
/// its iteration's call takes, with the tokens and the shared values (other arguments,
/// parameters) that call ran on.
final class SequenceLoopBatch {
    let form: SequenceBatchForm
    /// The loop's values of n, in order, and each one's place.
    let values: [Int]
    let place: [Int: Int]
    struct Key: Hashable { let n: Int, log: Bool }
    /// Per n (and whether the log of the callee's return was asked for): its tokens (one sequence
    /// per sequence argument), its chunk, its columns.
    var results: [Key: (tokens: [[Int]], chunk: Int, columns: Variable)] = [:]
    /// Per n whose prelude ran ahead: the generator's state before and after it, and the values it
    /// left under the prelude's writes (`SequenceBatchForm.preludeWrites`: spellings, element n of
    /// families), for `replayPrelude`.
    var replays: [Int: (before: [UInt64], after: [UInt64], spellings: [Value?], elements: [Value?])] = [:]
    /// Per chunk: the shared values it ran on, and their fingerprint.
    var chunks: [(values: [Value], fingerprint: [Int])] = []
    /// A batched call failed, or an iteration found other shared values: the rest runs as written.
    var stopped = false
    init(form: SequenceBatchForm, values: [Int]) {
        self.form = form
        self.values = values
        place = Dictionary(values.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
    }
}

extension Evaluator {
    /// Starts the chunks of a loop the lowering fused (`node`), when its guard holds: the rule and
    /// causal attention on, an evaluation pass, at least two iterations, not inside a sequence run.
    /// Returns the call site the iterations look up (the caller removes it when the loop ends).
    func beginSequenceLoop(_ node: FusedStatement?, _ values: [Int], _ f: Frame) -> SpanKey? {
        guard case .sequenceLoop(let form)? = node, values.count >= 2, !options.applyGradients, f.sequences == nil,
              enabled(.sequenceBatching), enabled(.causalAttention) else { return nil }
        let key = SpanKey(form.callExpr.span)
        guard sequenceLoops[key] == nil else { return nil }
        sequenceLoops[key] = SequenceLoopBatch(form: form, values: values)
        return key
    }

    /// The executor of `SequenceLoopBatchingRule` at the call `e` of one iteration: its sequence's
    /// slice of a batched call on this and the following iterations' sequences (computed when no
    /// chunk holds n yet), or nil when the guard fails and the call runs as written.
    func loopBatchResult(_ c: Call, _ e: Expr, _ f: Frame, logReturn: Bool) throws -> Value? {
        guard f.sequences == nil, let batch = sequenceLoops[SpanKey(e.span)], !batch.stopped,
              case .nat(let n)? = f.vars[batch.form.variable], let place = batch.place[n] else { return nil }
        let form = batch.form
        let arguments = form.arguments.map { c.arguments[$0] }
        /// The tokens of each sequence argument in `frame` (nil unless all are non-empty token sequences).
        func sequences(_ frame: Frame) throws -> [[Int]]? {
            var out: [[Int]] = []
            for a in arguments {
                guard case .tokens(let x) = try eval(a, frame), !x.isEmpty else { return nil }
                out.append(x)
            }
            return out
        }
        guard let x = try sequences(f) else { return nil }
        // The other arguments and the parameters, which the chunk must have run on.
        var shared: [Value] = [], fingerprint: [Int] = []
        for a in c.arguments.indices.filter({ !form.arguments.contains($0) }).map({ c.arguments[$0] }) + c.parameters.map(\.value) {
            let v = try eval(a, f)
            guard Self.fingerprint(v, into: &fingerprint) else { return nil }
            shared.append(v)
        }
        if let r = batch.results[.init(n: n, log: logReturn)], r.tokens == x {
            let chunk = batch.chunks[r.chunk]
            guard chunk.fingerprint == fingerprint || zip(chunk.values, shared).allSatisfy({ Self.sameValue($0, $1) }) else {
                batch.stopped = true   // θ changed: a training pass after all
                return nil
            }
            return .tensor(r.columns)
        }
        // A chunk from n on: the sequences of the next iterations, up to `RunOptions.sequenceChunkColumns`
        // columns (of all sequence arguments together): enough for wide products, few enough that the
        // activations of a chunk stay small (d_mlp × 2,048 numbers per MLP layer).
        var ns: [Int] = [n], tokens: [[[Int]]] = [x], columns = x.reduce(0) { $0 + $1.count }
        if form.prelude.isEmpty {
            let saved = f.vars[form.variable]
            defer { f.vars[form.variable] = saved }
            for m in batch.values[(place + 1)...] where columns < options.sequenceChunkColumns {
                f.vars[form.variable] = .nat(m)
                guard let y = (try? sequences(f)) ?? nil else { break }
                ns.append(m); tokens.append(y); columns += y.reduce(0) { $0 + $1.count }
            }
        } else if options.training == nil {
            // The prelude ahead (ETraining's draws of x̃_m), in a copy of the frame, from a copy of the
            // generator, unprofiled; the iterations redraw the same values when they run it as written.
            let scratch = f.copy(), generator = rng, profiling = options.profile
            options.profile = false
            defer { rng = generator; options.profile = profiling }
            batch.replays.removeAll()
            for m in batch.values[(place + 1)...] where columns < options.sequenceChunkColumns {
                scratch.vars[form.variable] = .nat(m)
                let before = rng.state
                guard (try? block(form.prelude, scratch)) != nil, let y = (try? sequences(scratch)) ?? nil else { break }
                ns.append(m); tokens.append(y); columns += y.reduce(0) { $0 + $1.count }
                // Element m of each family, not the family: a snapshot sharing the family's elements
                // would make the next write copy them all.
                if let writes = form.preludeWrites, writes.families.allSatisfy({ scratch.families[$0].map { $0.columns == nil && $0.heads == nil } ?? true }) {
                    batch.replays[m] = (before, rng.state, writes.spellings.map { scratch.vars[$0] }, writes.families.map { scratch.families[$0]?.elements[m] })
                }
            }
        }
        guard ns.count >= 2 else { return nil }
        // One layout per sequence argument: segment s of each is iteration ns[s]'s sequence.
        let layouts = arguments.indices.map { a in tokens.map { SequenceColumns.Segment(columns: $0[a].count, first: 0) } }
        let layout = SequenceColumns(layouts: layouts, proof: form.proof, cache: nil)
        var given: [Span: Value] = [:]
        for (a, argument) in arguments.enumerated() { given[argument.span] = .tokens(tokens.flatMap { $0[a] }) }
        let result: Value
        do {
            result = try callAlgorithm(c, e, f, given: given, logReturn: logReturn, sequences: layout)
        } catch {
            batch.stopped = true
            return nil   // as written: a real error is reported there, by the line that makes it
        }
        // The result's columns follow one layout (EDTransformer's P: x's).
        guard form.proof.result < layouts.count, case .tensor(let p) = result, p.rank == 2,
              p.shape[1] == layout.layouts[form.proof.result].total else { batch.stopped = true; return nil }
        let widths = layouts[form.proof.result].map(\.columns)
        batch.chunks.append((shared, fingerprint))
        batch.results.removeAll()   // the earlier chunks' iterations have run
        var start = 0
        for (m, (y, w)) in zip(ns, zip(tokens, widths)) {
            ops += 1
            batch.results[.init(n: m, log: logReturn)] = (y, batch.chunks.count - 1, p.slice(lower: [0, start], upper: [p.shape[0], start + w]))
            start += w
        }
        return .tensor(p.slice(lower: [0, 0], upper: [p.shape[0], widths[0]]))
    }

    /// Iteration n of a loop whose prelude ran ahead (`loopBatchResult`): when the generator is where
    /// it was before n's prelude ran ahead, the prelude's writes take the values it left and the
    /// generator its state after it, and the iteration starts after the prelude (returns the index
    /// of the first statement to run); otherwise 0, and the prelude runs as written. The same
    /// values bit for bit: the prelude reads only its own writes, n, names no iteration assigns and
    /// the draws, and nothing else writes what it writes (`SequenceLoopBatchingRule`).
    func replayPrelude(_ site: SpanKey, _ n: Int, _ f: Frame) -> Int {
        guard let batch = sequenceLoops[site], !batch.stopped, let r = batch.replays.removeValue(forKey: n), rng.state == r.before,
              let writes = batch.form.preludeWrites, writes.families.allSatisfy({ f.families[$0].map { $0.columns == nil && $0.heads == nil } ?? true })
        else { return 0 }
        for (name, v) in zip(writes.spellings, r.spellings) { f.vars[name] = v }
        for (key, v) in zip(writes.families, r.elements) where v != nil || f.families[key] != nil {
            // Taken out of the frame while it changes, as `Evaluator.assign` does: no copy of its elements.
            var fam = f.families.removeValue(forKey: key) ?? Family()
            fam.elements[n] = v
            f.families[key] = fam
        }
        rng.state = r.after
        return batch.form.prelude.count
    }

    /// Whether two values are the same, number for number (tensors by their entries, collections
    /// member by member): what an iteration's shared values must be to take a chunk's slice.
    static func sameValue(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.tensor(let x), .tensor(let y)):
            let a = x.value, b = y.value
            guard a.shape == b.shape, a.dtype == b.dtype else { return false }
            guard a.isContiguous, b.isContiguous else { return a.contiguous().doubles == b.contiguous().doubles }
            // Bit for bit, as the memory holds them (one pass, no copy: θ is compared every iteration).
            let size = a.dtype.byteSize
            return memcmp(a.storage.raw + a.offset * size, b.storage.raw + b.offset * size, a.count * size) == 0
        case (.collection(let x), .collection(let y)):
            return x.members.count == y.members.count
                && zip(x.members, y.members).allSatisfy { $0.name == $1.name && sameValue($0.value, $1.value) }
        case (.nat(let x), .nat(let y)): return x == y
        case (.real(let x), .real(let y)): return x.bitPattern == y.bitPattern
        case (.tokens(let x), .tokens(let y)): return x == y
        default: return false
        }
    }
}
