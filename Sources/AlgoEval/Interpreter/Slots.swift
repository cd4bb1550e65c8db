import AlgoSema
import AlgoSyntax

/// The numbered slots of one algorithm's frames: every spelling its body, header and signature can
/// hold a value under (inputs, parameters, locals, loop, `∀` and Σ variables, functions of θ,
/// `Mask`, real hyperparameters), numbered once at load time. A name expression the checker bound
/// to a value (`NameBinding.value`) carries its slot (`SlottedBinding`), so reading it indexes an
/// array instead of hashing its spelling.
final class SlotTable: Sendable {
    /// Spelling → slot.
    let index: [String: Int]
    /// Slot → spelling.
    let spellings: [String]

    init(_ a: CheckedAlgorithm) {
        var names: [String] = []
        var index: [String: Int] = [:]
        func add(_ s: String) { if index[s] == nil { index[s] = names.count; names.append(s) } }
        for b in a.bindings.values { if case .value(let s) = b { add(s) } }
        for (name, _) in a.variables { add(name) }
        for sp in (a.syntax.title.signature?.inputs ?? []) + (a.syntax.title.signature?.parameters ?? []) {
            if case .name(let n) = sp.name.kind { add(n.spelling) }
        }
        for s in a.syntax.body {
            _ = s.firstExpression { e -> Bool? in
                if case .name(let n) = e.kind { add(n.spelling) }
                if case .call(let c) = e.kind { add(c.callee.spelling) }
                return nil
            }
        }
        add("Mask")
        self.index = index
        spellings = names
    }
}

/// A name expression's binding, with the frame slot of a `.value` binding, and the member's key
/// of a `.member` binding whose scripts name no variable of the frame (`W_o`, `W_e`: the key is
/// fixed at load time; `W^l_mlp1` takes l's value at run time).
struct SlottedBinding: Sendable {
    let binding: NameBinding
    let slot: Int?
    let memberKey: String?
    /// A `.groupCollection`'s index among the algorithm's groups (`LoadedAlgorithm.collectionGroups`).
    var group: Int? = nil

    /// `groups`: the spellings of the algorithm's group collections (`𝓦^h_qkv`), in order.
    init(_ binding: NameBinding, _ slots: SlotTable, groups: [String]) {
        self.binding = binding
        if case .groupCollection(_, let name) = binding { group = groups.firstIndex(of: Name.spell(name.base, name.scripts)) }
        switch binding {
        case .value(let spelling):
            slot = slots.index[spelling]; memberKey = nil
        case .member(_, let member):
            slot = nil
            memberKey = member.scripts.contains { slots.index[$0.raw] != nil } ? nil : Evaluator.spelling(member) { _ in nil }
        case .groupCollection, .familyElement, .dimension, .specialToken, .constant, .power:
            slot = nil; memberKey = nil
        }
    }
}

/// A frame's variables: the algorithm's numbered slots, and a dictionary for a spelling the table
/// does not hold (a parameter's checkpoint name `W^1_q` bound flat, a callee's real hyperparameter).
struct FrameVars {
    let table: SlotTable
    var values: [Value?]
    var extra: [String: Value] = [:]

    init(_ table: SlotTable) {
        self.table = table
        values = Array(repeating: nil, count: table.spellings.count)
    }

    subscript(_ name: String) -> Value? {
        get {
            if let i = table.index[name] { return values[i] }
            return extra.isEmpty ? nil : extra[name]
        }
        set {
            if let i = table.index[name] { values[i] = newValue } else { extra[name] = newValue }
        }
    }

    subscript(slot i: Int) -> Value? {
        get { values[i] }
        set { values[i] = newValue }
    }

    /// Every variable held, with its spelling.
    var all: [(name: String, value: Value)] {
        var out: [(name: String, value: Value)] = []
        for (i, v) in values.enumerated() { if let v { out.append((table.spellings[i], v)) } }
        for (k, v) in extra { out.append((k, v)) }
        return out
    }
}
