import Testing
@testable import AlgoSema

@Suite struct DimTests {
    let dE = Dim.named("d_e"), h = Dim.named("H"), dMid = Dim.named("d_mid"), l = Dim.named("ℓ")

    @Test func canonicalFormMakesEqualityStructural() {
        #expect(h * dMid == dMid * h)
        #expect(l + Dim(1) - Dim(1) == l)
        #expect((l + dE) * (l - dE) == l * l - dE * dE)
        #expect(dE - dE == .zero)
        #expect(h * dMid != dMid)
    }

    @Test func printsInPaperNotation() {
        #expect((h * dMid).description == "H·d_mid")
        #expect((l - Dim(1)).description == "ℓ − 1")
        #expect((Dim(2) * dE).description == "2·d_e")
        #expect((dE * dE + Dim(1)).description == "d_e² + 1")
        #expect((-l).description == "−ℓ")
        #expect(Dim.zero.description == "0")
    }

    @Test func evaluatesWithBindingsAndReportsOverflow() {
        let env: [DimVar: Int] = [.named("H"): 4, .named("d_mid"): 16]
        #expect((h * dMid + Dim(1)).evaluate { env[$0] } == 65)
        #expect(dE.evaluate { env[$0] } == nil)
        let big = Dim.named("n")
        #expect((big * big * big).evaluate { _ in Int.max / 2 } == nil)
    }

    @Test func unificationSolvesLinearUnknowns() {
        var s = DimSolver()
        let u = s.fresh()
        #expect(s.unify(u, l) == .solved)
        #expect(s.resolve(u) == l)
        #expect(s.unify(u, l) == .equal)
        let w = s.fresh()
        #expect(s.unify(w + Dim(1), l) == .solved)   // w = ℓ − 1
        #expect(s.resolve(w) == l - Dim(1))
        #expect(s.unify(dE, Dim.named("d_f")) == .mismatch)
        #expect(s.unify(l, l + Dim(1)) == .mismatch)
    }

    @Test func chainsAndUndecided() {
        var s = DimSolver()
        let a = s.fresh(), b = s.fresh()
        #expect(s.unify(a, b) == .solved)
        #expect(s.unify(b, h * dMid) == .solved)
        #expect(s.resolve(a) == h * dMid)
        let c = s.fresh(), d = s.fresh()
        #expect(s.unify(c * d, dE) == .undecided)
    }
}
