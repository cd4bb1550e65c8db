import AlgoSyntax

/// The executor of the call memo (`Rules/CallMemo.swift` states what it replaces and when): the
/// key is the call's site and the values of the names the plan says it reads.
extension Evaluator {
    /// The memo key of the call at `e` in frame `f`, or nil when it must be evaluated afresh (no
    /// memo there, the rule off, not in the outermost application's frame, a name read that holds
    /// a grid or a function).
    func callMemoKey(_ e: Expr, _ f: Frame, log: Bool) -> String? {
        guard functionMemo != nil, f === memoFrame, enabled(.callMemo),
              case .callMemo(let reads)? = f.algorithm.plan.expressions[SpanKey(e.span)] else { return nil }
        var key = "call \(e.span.start)" + (log ? " log" : "")
        for name in reads {
            switch f.vars[name] {
            case .nat(let k)?: key += " \(name)=\(k)"
            case .real(let r)?: key += " \(name)=\(r.bitPattern)"
            case .tensor?, .collection?, .tokens?, nil: continue   // unchanged while the application runs (nil: a family element, a dimension)
            case .bool?, .mask?, .grid?, .ones?, .onesT?, .family?, .function?, .indexSet?: return nil   // not keyed
            }
        }
        return key
    }
}
