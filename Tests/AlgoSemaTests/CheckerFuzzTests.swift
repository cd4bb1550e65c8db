import AlgoDiagnostics
import AlgoSyntax
import Foundation
import Testing
@testable import AlgoSema

/// Robustness: a seeded mutation fuzzer over `Algorithms/*.algo` (delete, duplicate or swap tokens,
/// found with the lexer) feeds the checker thousands of near-miss programs. None may crash or hang;
/// each must be checked in bounded time.
@Suite struct CheckerFuzzTests {
    static let inputsPerFile = 200

    static func tokens(_ f: ParsedFile) -> [Token] {
        Lexer.tokenize(f.source).filter {
            if case .endOfFile = $0.kind { return false }
            return true
        }
    }

    static func mutate(_ f: ParsedFile, _ tokens: [Token], _ rng: inout SplitMix) -> String {
        var bytes = f.source.utf8
        let edits = 1 + rng.below(3)
        for _ in 0..<edits {
            guard tokens.count > 2 else { break }
            let i = rng.below(tokens.count - 1)
            let t = tokens[i], u = tokens[i + 1]
            guard t.end <= bytes.count, u.end <= bytes.count, t.start < t.end else { continue }
            switch rng.below(3) {
            case 0: bytes.removeSubrange(t.start..<t.end); return String(decoding: bytes, as: UTF8.self)
            case 1: bytes.insert(contentsOf: Array(bytes[t.start..<t.end]) + [32], at: t.start)
            default:
                guard t.end <= u.start else { continue }
                let a = Array(bytes[t.start..<t.end]), b = Array(bytes[u.start..<u.end])
                bytes.replaceSubrange(u.start..<u.end, with: a)
                bytes.replaceSubrange(t.start..<t.end, with: b)
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func mutatedAlgorithmsNeverCrashOrHang() {
        var rng = SplitMix(seed: 2207_09238)
        var count = 0
        var slowest = 0.0
        let begin = Date()
        for f in Support.algorithms {
            let tokens = Self.tokens(f)
            let others = Support.algorithms.filter { $0.source.path != f.source.path }
            for _ in 0..<Self.inputsPerFile {
                let text = Self.mutate(f, tokens, &rng)
                let mutated = Support.parse(text: text, path: f.source.path)
                let start = Date()
                // Every fourth input is checked with the whole library (callees re-checked each time);
                // the others alone, so that several thousand inputs stay fast in a debug build.
                let library = count % 4 == 0 ? others : []
                _ = Support.check([mutated], library: library)
                let elapsed = Date().timeIntervalSince(start)
                slowest = max(slowest, elapsed)
                #expect(elapsed < 2, "input \(count) took \(elapsed)s:\n\(text)")
                count += 1
            }
        }
        #expect(count == Support.algorithms.count * Self.inputsPerFile)  // 19 files: 3800 inputs
        print("checker fuzz: \(count) inputs in \(Int(Date().timeIntervalSince(begin))) s, slowest check \(Int(slowest * 1000)) ms")
    }

    /// Hand-picked hostile inputs: self-recursion, mutual recursion, empty bodies, huge numbers.
    @Test func hostileInputs() {
        let texts = [
            "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ^{d}\nOutput: y ∈ ℝ^{d}\n1 return y = F(F(x))\n",
            "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ^{d}\nOutput: y ∈ ℝ^{d}\n1 return y = G(x)\nAlgorithm 2: y ← G(x)\nInput: x ∈ ℝ^{d}\nOutput: y ∈ ℝ^{d}\n1 return y = F(x)\n",
            "Algorithm 1: y ← F(x)\n",
            "Algorithm 1: y ← F(x)\nInput: x ∈ ℝ^{99999999999×99999999999}\nOutput: y ∈ ℝ^{d}\n1 return y = x x x\n",
            "Algorithm 1: y ← F(x)\nInput: x ∈ V*\nOutput: y ∈ V*\n1 for t ∈ [length(x)] : x ← [x, x]\n2 return y = x[1 : 99999999999999]\n",
            "Algorithm 1: θ̂ ← F(θ)\nInput: θ, parameters\nOutput: θ̂, parameters\n1 θ ← θ θ\n2 P(θ) ← P(θ)\n3 θ ← ∇P(θ)\n4 return θ̂ = θ\n",
        ]
        for t in texts {
            _ = Support.check([Support.parse(text: t)], library: [])
        }
    }
}
