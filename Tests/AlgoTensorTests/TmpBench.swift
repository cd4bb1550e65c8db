import Testing
import Foundation
import AlgoKernels
@testable import AlgoTensor

@Suite struct TmpBench {
    static func time(_ reps: Int = 30, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = Date()
            for _ in 0..<reps { body() }
            best = min(best, Date().timeIntervalSince(t0) / Double(reps) * 1e6)
        }
        return best
    }

    @Test func bench() {
        Parallel.threads = 1
        var rng = RandomGenerator(seed: 1)
        for (r, c) in [(64, 64), (512, 64), (256, 256)] {
            let h = Tensor.normal([r, c], using: &rng), g = Tensor.normal([r, c], using: &rng)
            func fb(_ f: (Variable) -> Variable) -> Double {
                TmpBench.time { let t = Tape(); let x = t.parameter(h); let y = f(x); _ = t.gradients(of: y, wrt: [x], seed: g) }
            }
            let cases: [(String, (Variable) -> Variable, (Variable) -> Variable)] = [
                ("softmax", { $0.softmaxColumns() }, { Composite.softmaxColumns($0) }),
                ("logsoftmax", { $0.logSoftmaxColumns() }, { Composite.logSoftmaxColumns($0) }),
                ("normalize", { $0.normalizeColumns(epsilon: 1e-5) }, { Composite.normalizeColumns($0, epsilon: 1e-5) }),
                ("gelu", { $0.gelu() }, { Composite.gelu($0) }),
            ]
            for (name, fused, comp) in cases {
                let a = fb(fused), b = fb(comp)
                print(String(format: "BENCH %@ [%dx%d] fwd+bwd: fused %.1f µs, composite %.1f µs, ratio %.1f×", name, r, c, a, b, b / a))
            }
        }
    }
}
