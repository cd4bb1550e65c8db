import AlgoEval
import AlgoTensor
import Foundation
import Testing
@testable import AlgoBench

/// The FLOP and memory accounting of `algo bench model` against hand counts and against the
/// interpreter's own parameter layout of Algorithms/DTransformer.algo.
@Suite struct ModelConfigTests {
    static let algorithms = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Algorithms").path

    /// tiny (ℓ = 64, L = 2, H = 4, d_e = 64, d_mlp = 256, N_V = 65) by hand, product by product
    /// (2·M·K·N each):
    ///   per head: W_q X, W_k X, W_v X: 3 × 2·16·64·64 = 393,216; KᵀQ: 2·64·16·64 = 131,072;
    ///             V·A: 2·16·64·64 = 131,072 → 655,360 per head, × 4 heads = 2,621,440
    ///   W_o Y: 2·64·64·64 = 524,288; W_mlp1 X̃: 2·256·64·64 = 2,097,152; W_mlp2: 2·64·256·64 = 2,097,152
    ///   per layer 7,340,032, × 2 layers = 14,680,064; W_u X: 2·65·64·64 = 532,480 → 15,212,544.
    @Test func tinyForwardFLOPsMatchAHandCount() {
        #expect(ModelConfig.tiny.forwardFLOPs == 15_212_544)
        #expect(ModelConfig.tiny.trainFLOPs(batch: 1) == 3 * 15_212_544)
        #expect(ModelConfig.tiny.trainFLOPs(batch: 8) == 24 * 15_212_544)
    }

    /// The closed form L·(8·ℓ·d_e² + 4·ℓ²·d_e + 4·ℓ·d_e·d_mlp) + 2·ℓ·d_e·N_V printed under the
    /// table is the product-by-product count when d_attn = d_mid = d_e/H (exact in Double: all
    /// terms are integers below 2⁵³).
    @Test func closedFormMatchesTheProductCount() {
        for c in ModelConfig.all {
            let (l, d, L) = (Double(c.ℓ), Double(c.d_e), Double(c.L))
            let closed = L * (8 * l * d * d + 4 * l * l * d + 4 * l * d * Double(c.d_mlp)) + 2 * l * d * Double(c.N_V)
            #expect(c.forwardFLOPs == closed, "\(c.name)")
        }
        // small: 6·(8·256·384² + 4·256²·384 + 4·256·384·1536) + 2·256·384·65 = 6·(301,989,888 + 100,663,296
        // + 603,979,776) + 12,779,520.
        #expect(ModelConfig.small.forwardFLOPs == 6 * (301_989_888 + 100_663_296 + 603_979_776) + 12_779_520)
    }

    /// |θ| from the formula equals the sum of the shapes `ParameterLayout` derives from the
    /// `.algo` text (an independent count: the checker's reading of Algorithm 10 and eq. (4)).
    @Test func parameterCountMatchesTheInterpretersLayout() throws {
        for c in [ModelConfig.tiny, ModelConfig.small, ModelConfig(name: "odd", N_V: 12, ℓ: 10, L: 3, H: 2, d_e: 8, d_mlp: 24)] {
            let loaded = try Pipeline.load(path: Self.algorithms + "/DTransformer.algo", values: c.dimensions).get()
            let specs = try ParameterLayout.parameters(of: loaded.target, program: loaded.program, dims: c.dimensions)
            #expect(specs.reduce(0) { $0 + $1.shape.reduce(1, *) } == c.parameterCount, "\(c.name)")
        }
    }

    /// tiny's kept activations by hand, per layer: X̃ and 1/σ 64·64 + 64 = 4,160; Q, K, V
    /// 64·4·48 = 12,288; A 4·64² = 16,384; Y 4·16·64 = 4,096; X̃ and 1/σ 4,160; U and GELU(U)
    /// 2·256·64 = 32,768 → 73,856, × 2 = 147,712; final layer norm 4,160; P 65·64 = 4,160 → 156,032.
    @Test func tinyActivationsMatchAHandCount() {
        #expect(ModelConfig.tiny.activationCount == 156_032)
        let θ = ModelConfig.tiny.parameterCount
        #expect(ModelConfig.tiny.trainingBytes(batch: 1) == 4 * (2 * θ + 156_032))
        #expect(ModelConfig.tiny.trainingBytes(batch: 8) == 4 * (2 * θ + 8 * 156_032))
        #expect(ModelConfig.tiny.parameterBytes == 4 * θ)
    }
}

/// The memory a training step through the interpreter holds at once, counted exactly by the
/// `BufferPool` (live tensor bytes by size class, so slightly above the element bytes), against
/// `ModelConfig.trainingBytes` (θ, ∇ and the activations backpropagation must keep).
@Suite struct TrainingMemoryTests {
    /// DTraining (one step) on a small model: the live peak stays within parameters + gradients +
    /// kept activations (measured: 0.87× of it). Before the update wrote into the gradient's
    /// buffers, θ − η·∇loss(θ) held θ, ∇ and η·∇ at once while building the new θ: at least
    /// 3 × 449,600 B = 1.35 MB here, above the 1.15 MB bound.
    @Test func trainingStepLiveMemory() throws {
        let config = ModelConfig(name: "test", N_V: 65, ℓ: 32, L: 2, H: 2, d_e: 64, d_mlp: 256)
        let pool = BufferPool()
        try BufferPool.$current.withValue(pool) {
            let run = try ModelRun(config, phase: .train, batch: 1, algorithms: ModelConfigTests.algorithms)
            try run.run()  // warm-up: the pool holds the step's buffers
            let θ = pool.liveBytes  // ModelRun's θ (each run starts from it)
            #expect(θ >= config.parameterBytes && θ < config.parameterBytes * 11 / 10)
            pool.resetCounters()
            try run.run()
            #expect(pool.peakLiveBytes <= config.trainingBytes(batch: 1),
                    "live peak \(pool.peakLiveBytes) B, parameters + gradients + activations \(config.trainingBytes(batch: 1)) B")
            #expect(pool.liveBytes == θ)  // nothing of the step outlives it
        }
        pool.drain()
    }
}
