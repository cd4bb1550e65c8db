import Foundation
import Testing
import AlgoTensor
@testable import AlgoEval

/// MHAttention's `For h ∈ [H]: Y^h ← Attention(…)` runs as one head-batched call (Evaluator+Heads).
/// Checked against the same file with the rule off (`RunOptions.disabledRules`: the loop as
/// written, Attention run once per head, then `W_o [Y^1; …; Y^H] + b_o 𝟏ᵀ`), in Float64 where both
/// sides compute every entry by the same reference loops (so they agree to rounding of the order
/// of operations, ≤ 1e-12 relative).
@Suite("head batching: MHAttention equals its per-head loop")
struct HeadBatchingTests {
    func options(disabled: Set<RuleID> = []) -> RunOptions {
        var o = RunOptions()
        o.dtype = .f64
        o.profile = true
        o.disabledRules = disabled
        return o
    }

    @Test("MHAttention (batched) = its loop over the heads as written, causal and full masks, self- and cross-attention", arguments: [false, true])
    func equalsPerHead(causal: Bool) throws {
        let mha = try InterpreterFixtures.program("MHAttention")
        let (H, dx, dz, dAttn, dMid, dOut, lx, lz) = (3, 5, 4, 2, 3, 6, 7, causal ? 7 : 5)
        var rng = RandomGenerator(seed: 11)
        func normal(_ s: [Int]) -> Tensor { Tensor.normal(s, dtype: .f64, using: &rng) }
        var θ: [String: Tensor] = ["W_o": normal([dOut, H * dMid]), "b_o": normal([dOut])]
        for h in 1...H {
            θ["W^\(h)_q"] = normal([dAttn, dx]); θ["b^\(h)_q"] = normal([dAttn])
            θ["W^\(h)_k"] = normal([dAttn, dz]); θ["b^\(h)_k"] = normal([dAttn])
            θ["W^\(h)_v"] = normal([dMid, dz]); θ["b^\(h)_v"] = normal([dMid])
        }
        let X = normal([dx, lx]), Z = causal ? normal([dx, lz]) : normal([dz, lz])
        let mask: MaskValue = causal ? .causal : .constant(1)
        let dims = ["H": H, "d_x": dx, "d_z": causal ? dx : dz, "d_attn": dAttn, "d_mid": dMid, "d_out": dOut, "ℓ_x": lx, "ℓ_z": lz]
        if causal { for h in 1...H { θ["W^\(h)_k"] = normal([dAttn, dx]); θ["W^\(h)_v"] = normal([dMid, dx]) } }
        func run(_ disabled: Set<RuleID>) throws -> (Variable, [Int]) {
            let r = try Pipeline.run(mha, RunSetup(dims: dims, inputs: ["X": .tensor(Variable(X)), "Z": .tensor(Variable(Z))],
                                                   parameters: θ, mask: mask, options: options(disabled: disabled)))
            guard case .tensor(let y) = r.value else { throw RuntimeError(.invalidInput, "MHAttention gave \(r.value.kindName)", at: mha.target.syntax.span) }
            let calls = r.evaluator.profile.filter { $0.key.file.hasSuffix("/Attention.algo") }.map(\.value.calls)
            return (y, calls)
        }
        let (batched, batchedCalls) = try run([])
        let (perHead, perHeadCalls) = try run([.headBatching])
        // Batched: Attention's lines ran once, not H times; with the rule off, H times.
        #expect(!batchedCalls.isEmpty && batchedCalls.allSatisfy { $0 == 1 }, "\(batchedCalls)")
        #expect(!perHeadCalls.isEmpty && perHeadCalls.allSatisfy { $0 == H }, "\(perHeadCalls)")
        let got = batched.value.doubles, want = perHead.value.doubles
        #expect(batched.shape == [dOut, lx] && perHead.shape == [dOut, lx])
        for i in want.indices { #expect(abs(got[i] - want[i]) <= 1e-12 * max(1, abs(want[i])), "entry \(i)") }
    }

    @Test("the stacked heads are reused while θ is the same tensors, and stacked again for another θ")
    func stackReuse() throws {
        let mha = try InterpreterFixtures.program("MHAttention")
        let (H, d, dAttn, dMid, dOut, l) = (2, 4, 2, 3, 5, 6)
        var rng = RandomGenerator(seed: 5)
        func θ() -> [String: Variable] {
            var p: [String: Variable] = ["W_o": Variable(Tensor.normal([dOut, H * dMid], dtype: .f64, using: &rng)),
                                         "b_o": Variable(Tensor.normal([dOut], dtype: .f64, using: &rng))]
            for h in 1...H {
                for (w, rows) in [("q", dAttn), ("k", dAttn), ("v", dMid)] {
                    p["W^\(h)_\(w)"] = Variable(Tensor.normal([rows, d], dtype: .f64, using: &rng))
                    p["b^\(h)_\(w)"] = Variable(Tensor.normal([rows], dtype: .f64, using: &rng))
                }
            }
            return p
        }
        let X = Value.tensor(Variable(Tensor.normal([d, l], dtype: .f64, using: &rng)))
        let dims = ["H": H, "d_x": d, "d_z": d, "d_attn": dAttn, "d_mid": dMid, "d_out": dOut, "ℓ_x": l, "ℓ_z": l]
        let (θ1, θ2) = (θ(), θ())
        func run(_ e: Evaluator, _ p: [String: Variable]) throws -> [Double] {
            guard case .tensor(let y) = try e.run(mha.target, dims: dims, inputs: ["X": X, "Z": X], parameters: p, mask: .constant(1)) else { return [] }
            return y.value.doubles
        }
        let e = Evaluator(program: mha.program, options: options())
        let first = try run(e, θ1)
        #expect(e.stackCache.count == 1)
        #expect(try run(e, θ1) == first)          // reused: the same bits
        #expect(e.stackCache.count == 1)
        let other = try run(e, θ2)                 // another θ: stacked again, not the cached θ1
        #expect(e.stackCache.count == 2)
        #expect(other == (try run(Evaluator(program: mha.program, options: options()), θ2)))
        #expect(other != first)
    }

    @Test("a recorded θ (a training step) empties the stack cache; the stacks of an unchanged θ are reused")
    func recordedEmptiesStackCache() throws {
        let mha = try InterpreterFixtures.program("MHAttention")
        let (H, d, dAttn, dOut, l) = (2, 4, 2, 5, 6)
        var rng = RandomGenerator(seed: 9)
        var θ: [String: Variable] = ["W_o": Variable(Tensor.normal([dOut, H * dAttn], dtype: .f64, using: &rng)),
                                     "b_o": Variable(Tensor.normal([dOut], dtype: .f64, using: &rng))]
        for h in 1...H {
            for w in ["q", "k", "v"] {
                θ["W^\(h)_\(w)"] = Variable(Tensor.normal([dAttn, d], dtype: .f64, using: &rng))
                θ["b^\(h)_\(w)"] = Variable(Tensor.normal([dAttn], dtype: .f64, using: &rng))
            }
        }
        let X = Value.tensor(Variable(Tensor.normal([d, l], dtype: .f64, using: &rng)))
        let dims = ["H": H, "d_x": d, "d_z": d, "d_attn": dAttn, "d_mid": dAttn, "d_out": dOut, "ℓ_x": l, "ℓ_z": l]
        let e = Evaluator(program: mha.program, options: options())
        func run(_ p: [String: Variable]) throws -> [Double] {
            guard case .tensor(let y) = try e.run(mha.target, dims: dims, inputs: ["X": X, "Z": X], parameters: p, mask: .causal) else { return [] }
            return y.value.doubles
        }
        let plain = try run(θ)
        #expect(e.stackCache.count == 1)
        let tape = Tape()
        let recorded = θ.mapValues { tape.parameter($0.value) }
        #expect(try run(recorded) == plain)      // stacked afresh on the tape: the same values
        #expect(e.stackCache.isEmpty)
        #expect(try run(θ) == plain)
        #expect(e.stackCache.count == 1)
    }

    /// After the batched loop `Y^h` is head h of the batched result, sliced when read; writing one
    /// element first copies the others out (they stay readable) and forgets the batched tensor.
    @Test("a head-batched family's elements are slices of its heads, read on demand")
    func lazyHeadElements() throws {
        let (d, n, H) = (3, 4, 2)
        let y = Variable(Tensor(shape: [d, n * H], values: (0..<(d * n * H)).map(Double.init)).reshaped([d, n, H]))
        var fam = Family()
        fam.heads = y
        #expect(fam.elements.isEmpty && fam.count == H)
        for h in 1...H {
            guard case .tensor(let t)? = fam.element(h) else { Issue.record("no element \(h)"); continue }
            #expect(t.shape == [d, n])
            for i in 0..<d { for j in 0..<n { #expect(t.value[i, j] == y.value[i, j, h - 1]) } }
        }
        #expect(fam.element(0) == nil && fam.element(H + 1) == nil)
        fam.materializeHeads()
        #expect(fam.elements.count == H && fam.heads != nil)
        fam.elements[1] = .nat(7)
        #expect(fam.heads == nil)
        guard case .tensor(let second)? = fam.element(2) else { Issue.record("element 2 lost"); return }
        #expect(second.value[0, 1] == y.value[0, 1, 1])
    }
}
