import AlgoDiagnostics
import AlgoSyntax
import Foundation
import Testing
@testable import AlgoSema

/// The 15 algorithms check clean, their claims are verified, the paper's errata give the right
/// diagnostics, and the CheckedProgram records what the evaluator needs.
@Suite struct CheckTests {
    /// The paper's 15 algorithms, the 4 section-8 variants (Algorithms 16–19, numbered by us) and the
    /// pieces of the real models (layer_norm_ε, GELU_tanh, DInferenceWindow: 20, 21, 25).
    @Test func allAlgorithmsCheckClean() {
        #expect(Support.algorithms.count == 22)
        let (outcome, ds) = Support.check(Support.algorithms, library: [])
        #expect(ds.isEmpty, "\(Support.render(ds, Support.algorithms))")
        #expect(outcome.program?.algorithms.count == 22)
    }

    /// Adam's moment estimates have θ's structure: `0 · θ` before θ's first use, `β_1 m + (1 − β_1) g`,
    /// `m/(1 − β_1^s)`, `m̂/(√v̂ + ε)` are member-wise on the collection, not silently poisoned.
    @Test func adamMomentsHaveThetasStructure() {
        let (outcome, ds) = Support.check(Support.algorithms, library: [])
        #expect(ds.isEmpty)
        guard let adam = outcome.program?.algorithms.first(where: { $0.syntax.title.signature?.name.spelling == "DTrainingAdam" }) else {
            Issue.record("no DTrainingAdam")
            return
        }
        let moments = ["θ", "m", "v", "g", "m̂", "v̂"]
        #expect(Set(adam.variables.map(\.name)).isSuperset(of: moments))
        for (name, type) in adam.variables where moments.contains(name) {
            guard case .collection(let c) = type else {
                Issue.record("`\(name)` is \(type), not a collection")
                continue
            }
            #expect(c.origin == "DTransformer.θ", "\(name): \(c.origin)")
        }
        #expect(!adam.variables.contains { $0.type.containsError })
    }

    @Test func eachAlgorithmChecksCleanAloneWithItsDirectoryAsLibrary() {
        for f in Support.algorithms {
            let (_, ds) = Support.check([f], library: Support.algorithms.filter { $0.source.path != f.source.path })
            #expect(ds.isEmpty, "\(f.source.path): \(Support.render(ds, Support.algorithms))")
        }
    }

    /// Every `[[Label ∈ ℝ^{a×b}]]` claim is checked: with its dimensions swapped, it fails with E0404.
    @Test func everyClaimIsVerified() {
        var claims = 0
        for f in Support.algorithms {
            for a in f.tree.algorithms {
                for s in a.body {
                    guard let c = s.claim, case .power(_, let dims, _) = c.type.kind, dims.count == 2 else { continue }
                    let d0 = f.source.slice(dims[0].span), d1 = f.source.slice(dims[1].span)
                    guard d0 != d1 else { continue }
                    claims += 1
                    let claimText = f.source.slice(c.span)
                    let swapped = claimText.replacingOccurrences(of: "\(d0)×\(d1)", with: "\(d1)×\(d0)")
                    let mutated = Support.parse(text: f.source.text.replacingOccurrences(of: claimText, with: swapped), path: "mutated.algo")
                    let (_, ds) = Support.check([mutated])
                    #expect(ds.map(\.code) == [.claimMismatch], "\(claimText): \(Support.render(ds, [mutated]))")
                }
            }
        }
        #expect(claims == 4)
    }

    // MARK: errata (Tests/AlgoSyntaxTests/Fixtures/errata)

    func erratum(_ name: String) -> ParsedFile {
        Support.parse(path: Support.path("Tests/AlgoSyntaxTests/Fixtures/errata/\(name).algo"))
    }

    @Test func a1UnembeddingAfterTheFinalProjection() {
        let f = erratum("A1-ETransformer-W_u")
        let (_, ds) = Support.check([f])
        #expect(Support.codesAndLines(ds, in: f) == ["E0401:\(Support.line(of: "12 return P", in: f))"])
        let d = ds[0]
        #expect(d.message == "cannot multiply `W_u` ∈ ℝ^{N_V×d_e} by `X` ∈ ℝ^{d_f×ℓ}: the columns of `W_u` (`d_e`) must equal the rows of `X` (`d_f`)")
        #expect(d.labels.contains { $0.message == "`W_u` declared here" })
        #expect(d.labels.contains { $0.message == "`X` gets its shape here" && f.source.location(of: $0.span.start).line == Support.line(of: "10 X ← GELU", in: f) })
    }

    @Test func a1WithEqualConcreteValuesChecksAndWithDifferentOnesFails() {
        let f = erratum("A1-ETransformer-W_u")
        #expect(Support.check([f], values: ["d_e": 64, "d_f": 64]).1.isEmpty)
        #expect(Support.check([f], values: ["d_e": 64, "d_f": 32]).1.map(\.code) == [.productMismatch])
    }

    @Test func a2LoopVariableIAndBodyUsingL() {
        let f = erratum("A2-EDTransformer-line13")
        let (_, ds) = Support.check([f])
        #expect(Support.codesAndLines(ds, in: f) == ["E0302:\(Support.line(of: "14     X ←", in: f))"])
        #expect(ds.first?.message == "`l` is not bound here")
        #expect(ds.first?.labels.contains { $0.message.contains("binds `i`, which its body never uses") } == true)
    }

    @Test func a4UnboundAttentionDimensions() {
        for (name, line) in [("A4-DTransformer-d_attn-d_mid", " 6     X ←"), ("A4-ETransformer-d_attn-d_mid", " 5     X ←"),
                             ("A4-EDTransformer-d_attn-d_mid", " 5     Z ←")] {
            let f = erratum(name)
            let (_, ds) = Support.check([f])
            #expect(Support.codesAndLines(ds, in: f) == ["E0305:\(Support.line(of: line, in: f))"], "\(name)")
            #expect(ds.first?.message == "hyperparameters `d_attn` and `d_mid` of `MHAttention` are not bound")
            #expect(ds.first?.help?.contains("Hyperparameters: d_attn, d_mid ∈ ℕ") == true)
        }
    }

    @Test func a13ProseInputDeclaresNothing() {
        for name in ["A13-DInference-input", "A13-EDInference-input"] {
            let f = erratum(name)
            let (_, ds) = Support.check([f])
            #expect(Support.codesAndLines(ds, in: f) == ["E0304:\(Support.line(of: "Algorithm 1", in: f))"], "\(name)")
        }
    }

    @Test func a5OneArgumentSelfAttentionNeedsTheDefault() {
        let f = erratum("A5-MHAttention-title")
        let caller = Support.algorithms.first { $0.source.path.hasSuffix("/DTransformer.algo") }!
        let (_, ds) = Support.check([caller, f])
        #expect(Support.codesAndLines(ds, in: caller) == ["E0406:\(Support.line(of: " 6     X ←", in: caller))"])
        #expect(Support.codesAndLines(ds, in: f).isEmpty)
    }

    @Test func d9HdMidReadsAsOneName() {
        let f = erratum("D9-MHAttention-Hd_mid")
        let (_, ds) = Support.check([f])
        #expect(Support.codesAndLines(ds, in: f) == ["E0301:\(Support.line(of: "W_o ∈", in: f))"])
        #expect(ds.first?.help == "write `H d_mid` (H·d_mid)")
    }

    // MARK: the CheckedProgram

    @Test func checkedProgramRecordsCallsDimensionsAndColumnLoops() throws {
        let (outcome, ds) = Support.check(Support.algorithms, library: [])
        #expect(ds.isEmpty)
        let program = try #require(outcome.program)
        let dt = try #require(program.algorithms.first { $0.syntax.title.signature?.name.spelling == "DTransformer" })
        #expect(dt.columnLoops.count == 3)
        let mha = try #require(dt.calls.values.first { $0.callee == "MHAttention" })
        #expect(mha.dimensions["d_x"] == .named("d_e"))
        #expect(mha.dimensions["H"] == .named("H"))
        #expect(mha.dimensions["d_attn"] == .named("d_attn"))
        #expect(mha.dimensions["ℓ_x"] == .named("length(x)"))
        #expect(mha.defaulted == ["Z"])
        let x = try #require(dt.variables.first { $0.name == "X" })
        #expect(x.type == .array(rows: .named("d_e"), cols: .named("length(x)"), element: .real))
    }

    @Test func outcomeHasNoProgramWhenThereAreErrors() {
        let (outcome, ds) = Support.check([erratum("A1-ETransformer-W_u")])
        #expect(!ds.isEmpty)
        #expect(outcome.program == nil)
    }

    @Test func unknownNamesSuggestTheClosestDeclaredName() {
        let f = Support.parse(text: """
        Algorithm 1: y ← F(x | W_q)
        Input: x ∈ ℝ^{d_in}
        Output: y ∈ ℝ^{d_attn}
        Parameters: W_q ∈ ℝ^{d_attn×d_in}
        1 return y = W_qq x
        """)
        let (_, ds) = Support.check([f], library: [])
        #expect(ds.map(\.code) == [.unknownName])
        #expect(ds.first?.notes == ["did you mean `W_q`?"])
    }

    /// `W_mlp1` for the family `W^l_mlp1` is told to take its index; it used to be offered the
    /// sibling `W_mlp2` (issue 15). A near miss is offered the family as written.
    @Test func aFamilyWithoutItsIndexIsToldToTakeIt() throws {
        let text = try String(contentsOfFile: Support.path("Algorithms/DTransformer.algo"), encoding: .utf8)
        for (wrong, note) in [("W_mlp1", "`W_mlp1` is the family `W^l_mlp1`: write it with its index, as declared"),
                              ("W_mlp", "did you mean `W^l_mlp1`?")] {
            let edited = text.replacingOccurrences(of: "GELU(W^l_mlp1 X̃", with: "GELU(\(wrong) X̃")
            #expect(edited != text)
            let path = Support.path("Algorithms/DTransformer.algo")
            let (_, ds) = Support.check([Support.parse(text: edited, path: path)],
                                        library: Support.algorithms.filter { $0.source.path != path })
            #expect(ds.map(\.code) == [.unknownName], "\(wrong)")
            #expect(ds.first?.notes == [note], "\(wrong)")
        }
    }
}

/// `help:` lines are verified by re-checking the file with the fix applied.
@Suite struct VerifiedHelpTests {
    @Test func a2HelpBindsTheLoopVariableAndIsVerified() {
        let f = Support.parse(path: Support.path("Tests/AlgoSyntaxTests/Fixtures/errata/A2-EDTransformer-line13.algo"))
        let (_, ds) = Support.check([f])
        #expect(ds.first?.help == "bind `l` in the loop: `13 for l = 1, 2, . . . , L_dec do`")
    }

    @Test func a13PointsAtTheProseLine() {
        let f = Support.parse(path: Support.path("Tests/AlgoSyntaxTests/Fixtures/errata/A13-DInference-input.algo"))
        let (_, ds) = Support.check([f])
        #expect(ds.first?.labels.contains { $0.message == "prose only: this line declares no name" } == true)
    }

    @Test func missingTransposeHelpIsRight() {
        let f = Support.parse(path: Support.path("Tests/AlgoSemaTests/Fixtures/wrong/att-missing-transpose.algo"))
        let (_, ds) = Support.check([f])
        #expect(ds.first?.help == "transpose the left factor: `Kᵀ Q`; with it `Attention` checks")
    }

    @Test func aTransposedOneIsToldToBeTheOnesVector() {
        let f = Support.parse(path: Support.path("Tests/AlgoSemaTests/Fixtures/wrong/att-bias-number-transposed.algo"))
        let (_, ds) = Support.check([f])
        #expect(ds.map(\.code) == [.invalidOperand])
        #expect(ds.first?.help == "write the all-ones row: `𝟏ᵀ`")
    }

    /// A product that fails because of an assignment lines earlier (`K ← Kᵀ`) points at that
    /// assignment, also when the factor is transposed (issue 15).
    @Test func aShapeChangedEarlierIsPointedAt() throws {
        let path = Support.path("Algorithms/Attention.algo")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "[[Key ∈ ℝ^{d_attn×ℓ_z}]]\n", with: "\n   K ← Kᵀ\n")
        #expect(edited != text)
        let f = Support.parse(text: edited, path: path)
        let (_, ds) = Support.check([f], library: Support.algorithms.filter { $0.source.path != path })
        #expect(ds.map(\.code) == [.productMismatch])
        let reassignment = Support.line(of: "K ← Kᵀ", in: f)
        #expect(ds.first?.labels.contains { $0.message == "`K` gets its shape here" && f.source.location(of: $0.span.start).line == reassignment } == true,
                "\(Support.render(ds, [f]))")
    }

    /// Edits of Attention's line 1 and the fix each must get (issue 15): an extra `ᵀ` is dropped, not
    /// transposed again (`(W_qᵀ)ᵀ X`); factors in the wrong order are swapped, not made to fit by a
    /// transpose that contradicts the declared Query (`Xᵀ W_q` does not fit, `X W_qᵀ` is ℓ_x×d_attn).
    @Test(arguments: [
        ("W_qᵀ X", "drop the `ᵀ` of the left factor: `W_q X`; with it `Attention` checks"),
        ("X W_q", "swap the factors: `W_q X`; with it `Attention` checks"),
    ])
    func productFixesAreVerified(_ wrong: String, _ help: String) throws {
        let path = Support.path("Algorithms/Attention.algo")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "1 Q ← W_q X", with: "1 Q ← \(wrong)")
        #expect(edited != text)
        let (_, ds) = Support.check([Support.parse(text: edited, path: path)],
                                    library: Support.algorithms.filter { $0.source.path != path })
        #expect(ds.map(\.code) == [.productMismatch])
        #expect(ds.first?.help == help)
    }
}

@Suite struct ColumnLoopTests {
    func columnLoops(_ body: String) -> Int {
        let f = Support.parse(text: """
        Algorithm 1: Y ← F(X | γ, β)
        Input: X ∈ ℝ^{d_e×ℓ}
        Output: Y ∈ ℝ^{d_e×ℓ}
        Parameters: γ, β ∈ ℝ^{d_e}
        \(body)
        2 return Y = X
        """)
        let (outcome, ds) = Support.check([f])
        #expect(ds.isEmpty, "\(Support.render(ds, [f]))")
        return outcome.program?.algorithms.first?.columnLoops.count ?? -1
    }

    @Test func independentColumnUpdatesAreMarked() {
        #expect(columnLoops("1 for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, t] | γ, β)") == 1)
    }

    @Test func aLoopReadingAnotherColumnIsNot() {
        #expect(columnLoops("1 for t ∈ [ℓ] : X[:, t] ← layer_norm(X[:, 1] | γ, β)") == 0)
    }
}
