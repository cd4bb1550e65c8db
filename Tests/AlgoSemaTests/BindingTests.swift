import AlgoDiagnostics
import AlgoSyntax
import Testing
@testable import AlgoSema

/// `CheckedAlgorithm.bindings`: what the checker resolved each name to, which the evaluator reads
/// instead of resolving names again (jlox's resolver side table).
@Suite("the checker records what every name resolved to")
struct BindingTests {
    /// The bindings of one algorithm of `Algorithms/`, by the name's spelling as written (a name
    /// written several times must resolve the same way each time).
    func bindings(_ name: String) throws -> [String: NameBinding] {
        let (outcome, ds) = Support.check(Support.algorithms, library: [])
        #expect(ds.isEmpty)
        let a = try #require(outcome.program?.algorithms.first { $0.syntax.title.signature?.name.spelling == name })
        let source = try #require(Support.algorithms.first { $0.source.path == a.file }).source
        var out: [String: NameBinding] = [:]
        for (span, b) in a.bindings {
            let text = String(decoding: Array(source.text.utf8)[span.start..<span.end], as: UTF8.self)
            if let seen = out[text] { #expect(seen == b, "`\(text)` resolved two ways: \(seen) and \(b)") }
            out[text] = b
        }
        return out
    }

    func collection(_ b: NameBinding?) -> String? {
        switch b {
        case .member(let c, _)?: return "member of \(c)"
        case .groupCollection(let c, _)?: return "group of \(c)"
        default: return nil
        }
    }

    @Test("DTransformer: θ's members by path (W_e, γ^1_l, 𝓦_l), inputs and locals as values, L and d_e as dimensions, e_t a family element")
    func dTransformer() throws {
        let b = try bindings("DTransformer")
        #expect(collection(b["W_e"]) == "member of θ")
        #expect(collection(b["γ^1_l"]) == "member of θ")
        #expect(collection(b["𝓦_l"]) == "member of θ")
        #expect(collection(b["W^l_mlp1"]) == "member of θ")
        #expect(b["x"] == .value("x") && b["X"] == .value("X") && b["ℓ"] == .value("ℓ") && b["t"] == .value("t"))
        #expect(b["L"] == .dimension("L"))
        #expect(b["e_1"] == .familyElement(family: "e_•", index: 0))
        // The members of 𝓦_1 and 𝓦_2 are not names of DTransformer's frame: a bare `W_o` has no binding.
        #expect(b["W_o"] == nil)
    }

    @Test("MHAttention: 𝓦^h_qkv is a group of 𝓦, W_o a member of 𝓦; Attention reads W_q from 𝓦_qkv")
    func attention() throws {
        let m = try bindings("MHAttention")
        #expect(collection(m["𝓦^h_qkv"]) == "group of 𝓦")
        #expect(collection(m["W_o"]) == "member of 𝓦")
        #expect(m["H"] == .dimension("H") && m["Mask"] == .value("Mask"))
        let a = try bindings("Attention")
        #expect(collection(a["W_q"]) == "member of 𝓦_qkv")
        #expect(a["d_attn"] == .dimension("d_attn"))
    }

    @Test("EDInference: bos_token is a special token; DInference: p^{1/τ} a power of the local p, τ a value")
    func inference() throws {
        #expect(try bindings("EDInference")["bos_token"] == .specialToken(.bos))
        let b = try bindings("DInference")
        #expect(b["τ"] == .value("τ") && b["ℓ_gen"] == .dimension("ℓ_gen"))
        guard case .power(.value("p"), _)? = b["p^{1/τ}"] else { Issue.record("p^{1/τ}: \(String(describing: b["p^{1/τ}"]))"); return }
    }

    @Test("every builtin's spelling is one the checker resolves; all but σ apply without parentheses")
    func builtins() throws {
        #expect(Builtin.allCases.map(\.rawValue).sorted() == ["GELU", "ReLU", "exp", "length", "log", "softmax", "tanh", "σ"])
        #expect(Builtin.allCases.filter { !$0.appliesWithoutParentheses } == [.sigma])
        let (outcome, _) = Support.check(Support.algorithms, library: [])
        let dt = try #require(outcome.program?.algorithms.first { $0.syntax.title.signature?.name.spelling == "DTransformer" })
        #expect(Set(dt.calls.values.compactMap(\.builtin)) == [.length, .GELU, .softmax])
    }
}
