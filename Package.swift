// swift-tools-version:6.0
// algo — the pseudocode of "Formal Algorithms for Transformers" (Phuong & Hutter, 2022), executable.
// No package dependencies: the toolchain's Foundation, Dispatch, XCTest and Swift Testing only.
import PackageDescription

/// Code generation for the SIMD kernels: without AVX2/FMA a `SIMD8<Float>` multiply-add becomes a call
/// to `fmaf` per lane (150× slower, see ../shared/design/KERNELS.md). x86_64 only: other architectures
/// (arm64: NEON) compile the same SIMD code for their own vector unit. `avx512Flags` builds the 512-bit
/// kernels, which AlgoKernels calls only on a processor with AVX-512 (Sources/AlgoKernels/README.md).
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
#else
let simdFlags: [SwiftSetting] = []
let avx512Flags: [SwiftSetting] = []
#endif
let unchecked: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "algo",
    products: [
        .executable(name: "algo", targets: ["algo"]),
    ],
    targets: [
        // Source files, spans, diagnostics and their renderers (text and JSON). Depends on nothing.
        .target(name: "AlgoDiagnostics"),
        // Tokens, lexer, AST, parser, formatter, dumps.
        .target(name: "AlgoSyntax", dependencies: ["AlgoDiagnostics"]),
        // Dimensions as canonical polynomials, unification, the resolver and shape checker (no file I/O).
        .target(name: "AlgoSema", dependencies: ["AlgoSyntax"], exclude: ["README.md"]),
        // Raw Float32 kernels: GEMM, fused element-wise and reduction kernels, the thread pool.
        // Unsafe pointers and SIMD live here only; bounds checks off in release.
        .target(name: "AlgoKernels", dependencies: ["AlgoKernelsAVX512"], exclude: ["README.md"], swiftSettings: simdFlags + unchecked),
        // The 512-bit (AVX-512, `SIMD16<Float>`) micro-kernels; empty on other architectures.
        .target(name: "AlgoKernelsAVX512", swiftSettings: avx512Flags + unchecked),
        // Tensor, primitives with shape rule + forward + VJP, the tape, RNG. Knows nothing of `.algo`.
        .target(name: "AlgoTensor", dependencies: ["AlgoKernels"], swiftSettings: simdFlags),
        // The pipeline (read → parse → check → lower → run), the interpreter, experiments, tokenizers, checkpoints.
        .target(name: "AlgoEval", dependencies: ["AlgoTensor", "AlgoSema", "AlgoSyntax", "AlgoDiagnostics"], exclude: ["README.md", "Lowering/README.md"],
                swiftSettings: simdFlags),
        // Model benchmarks: Algorithms 1–10 written directly against AlgoTensor (the yardstick of the
        // interpreter's overhead), FLOP and memory accounting, and timing the interpreter's runs.
        .target(name: "AlgoBench", dependencies: ["AlgoEval", "AlgoTensor", "AlgoKernels"], exclude: ["README.md"]),
        // The language server (`algo lsp`): JSON-RPC over stdio, diagnostics, hover, definitions,
        // completion, and the TextMate grammar generated from the lexer's table.
        .target(name: "AlgoLSP", dependencies: ["AlgoDiagnostics", "AlgoSyntax", "AlgoSema"], exclude: ["README.md"]),
        // `algo render`: the checked boxes as LaTeX, a static HTML site (MathML) and Markdown.
        .target(name: "AlgoRender", dependencies: ["AlgoDiagnostics", "AlgoSyntax", "AlgoSema"], exclude: ["README.md"]),
        // `algo export --jax`: a checked algorithm and its callees as a readable JAX module (text only).
        .target(name: "AlgoExport", dependencies: ["AlgoDiagnostics", "AlgoSyntax", "AlgoSema"], exclude: ["README.md"]),
        // The commands, as a library so that tests run them in-process.
        .target(name: "AlgoCLI", dependencies: ["AlgoDiagnostics", "AlgoSyntax", "AlgoSema", "AlgoEval", "AlgoTensor", "AlgoKernels", "AlgoBench", "AlgoLSP", "AlgoRender", "AlgoExport"], exclude: ["README.md"]),
        // The executable: `main.swift` hands the arguments to AlgoCLI and exits with its code.
        .executableTarget(name: "algo", dependencies: ["AlgoCLI"]),

        .testTarget(name: "AlgoDiagnosticsTests", dependencies: ["AlgoDiagnostics"]),
        .testTarget(name: "AlgoSyntaxTests", dependencies: ["AlgoSyntax", "AlgoDiagnostics"], exclude: ["Fixtures"]),
        .testTarget(name: "AlgoSemaTests", dependencies: ["AlgoSema", "AlgoSyntax", "AlgoDiagnostics"], exclude: ["Fixtures"]),
        .testTarget(name: "AlgoKernelsTests", dependencies: ["AlgoKernels"], swiftSettings: simdFlags),
        .testTarget(name: "AlgoTensorTests", dependencies: ["AlgoTensor", "AlgoKernels"]),
        .testTarget(name: "AlgoEvalTests", dependencies: ["AlgoEval", "AlgoTensor", "AlgoSema", "AlgoSyntax", "AlgoDiagnostics", "AlgoBench"], exclude: ["Fixtures"]),
        .testTarget(name: "AlgoBenchTests", dependencies: ["AlgoBench", "AlgoEval", "AlgoTensor"]),
        .testTarget(name: "AlgoCLITests", dependencies: ["AlgoCLI"]),
        .testTarget(name: "AlgoLSPTests", dependencies: ["AlgoLSP", "AlgoSyntax", "AlgoDiagnostics"]),
        .testTarget(name: "AlgoExportTests", dependencies: ["AlgoExport", "AlgoCLI", "AlgoEval", "AlgoSema", "AlgoSyntax", "AlgoDiagnostics"], exclude: ["Fixtures"]),
        .testTarget(name: "AlgoRenderTests", dependencies: ["AlgoRender", "AlgoCLI", "AlgoSema", "AlgoSyntax", "AlgoDiagnostics"], exclude: ["Fixtures"]),
    ]
)
