import AlgoDiagnostics
import AlgoSyntax
import AlgoTensor
import Foundation

/// The executor of log-softmax (`Rules/LogSoftmax.swift` states what it replaces and when).
extension Evaluator {
    /// The value of a log form, or nil when its run-time guard fails (P is not a function in the frame).
    func logOf(_ form: LogForm, _ f: Frame) throws -> Value? {
        switch form {
        case .softmax(let z):
            let x = try tensor(try eval(z, f), z.span)
            ops += 1
            return .tensor(columns(x) { $0.logSoftmaxColumns() })
        case .function(let c, let applied):
            guard case .function(let fn)? = f.vars[c.callee.spelling] else { return nil }
            return try applyFunction(fn, c, applied, f, log: true)
        case .indexedFunction(let c, let applied, let indices, let indexed):
            guard case .function(let fn)? = f.vars[c.callee.spelling] else { return nil }
            return try index(applied, indices, indexed, f, baseValue: try applyFunction(fn, c, applied, f, log: true))
        case .callee(let c, let e):
            return try call(c, e, f, logReturn: true)
        }
    }

    /// The log of a value as written: the fallback of every log form.
    func logOfValue(_ v: Value, _ span: Span) throws -> Value {
        if let x = scalarNumber(v) { return .real(Foundation.log(x)) }
        ops += 1
        return .tensor(try tensor(v, span).log())
    }

    /// What `return value` (statement `s`) gives in a frame whose caller asked for its log (`Frame.logReturn`).
    func logOfReturn(_ value: Expr, _ s: Statement, _ f: Frame) throws -> Value {
        if enabled(.logSoftmax), case .logSoftmaxReturn(let form)? = f.algorithm.plan.statements[SpanKey(s.span)], let v = try logOf(form, f) { return v }
        return try logOfValue(try eval(value, f), value.span)
    }

    /// The log of function `fn`'s value in its application frame `g`: its definition's log form, or the log of its value.
    func logOfApplication(_ fn: FunctionValue, _ g: Frame, _ span: Span) throws -> Value {
        if enabled(.logSoftmax), let form = fn.logForm, let v = try logOf(form, g) { return v }
        return try logOfValue(try eval(fn.body, g), span)
    }
}
