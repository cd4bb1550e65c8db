import AlgoDiagnostics
import AlgoSyntax

// MARK: - Unused parameters and inputs (E0308, a warning)

extension AlgoChecker {
    /// Warns about every parameter and input the header declares and the body never reads: after an
    /// edit (RMSnorm in place of layer_norm leaves `β^1_l`; tying `W_u` to `W_eᵀ` leaves `W_u`) the
    /// checkpoint must still hold it and training gives it a zero gradient, which is easy to miss.
    /// A collection passed whole (`θ`, `𝓦_l`, `𝓦^h_qkv` to a callee) counts as using its members.
    /// Skipped when the algorithm has errors: what it reads is then not known.
    func reportUnused() {
        guard !algorithm.body.isEmpty, !isExperiment, !diagnostics.contains(where: { $0.severity == .error }) else { return }
        var reads = used
        for u in used {
            if let members = groupMembers[u] { reads.formUnion(members) }
            if case .collection? = lookup(u).map({ program.resolve($0.type) }) {
                reads.formUnion(memberOf.filter { $0.value == u }.map(\.key))
            }
        }
        for entry in order {
            let isFamily = entry.hasSuffix("_·")
            let key = isFamily ? String(entry.dropLast(2)) : entry
            guard let b = isFamily ? families[key] : scopes.first?[key], b.kind == .parameter || b.kind == .input,
                  !reads.contains(key) else { continue }
            // A collection whose members are read one by one is used.
            if memberOf.contains(where: { $0.value == key && reads.contains($0.key) }) { continue }
            if let members = groupMembers[key], members.contains(where: reads.contains) { continue }
            let shown = familyDisplay[key] ?? key
            let what = b.kind == .parameter ? "parameter" : "input"
            var d = Diagnostic(.unusedDeclaration, "\(what) `\(shown)` is never used by `\(name)`", at: b.origin,
                               label: "declared here, read by no line")
            d.notes.append(b.kind == .parameter
                ? "a checkpoint must still hold it, and training gives it a zero gradient; remove it from the header if it is not meant to be used"
                : "remove it from the title and the header if it is not meant to be used")
            diagnostics.append(d)   // not `report`: two unused names may share a declaration line
        }
    }
}
