import AlgoDiagnostics
import AlgoSema
import AlgoSyntax

/// `algo export --jax`: a checked algorithm and every algorithm it calls as one readable Python
/// module (JAX), one function per algorithm named as in the paper, each line tagged with the
/// paper's line number. The generator reads the checker's side tables (`CheckedAlgorithm.types`,
/// `calls`, `bindings`, `columnLoops`), never re-resolves a name, and writes only text: a construct
/// it cannot translate is a diagnostic at its line (E0560–E0562), never broken Python.
public enum JAXExport {
    /// What an export produced: the module text when nothing was refused, and the diagnostics.
    public struct Output: Sendable {
        public var text: String?
        public var diagnostics: [Diagnostic]
        /// The Python functions written, in module order.
        public var functions: [String]
    }

    /// The module for `targets` (the algorithms of one file, among `program`, the checked
    /// algorithms) and their callees. `sources` gives the text of every file (for the paper lines
    /// quoted in comments); `displayPath` names the file in the header.
    public static func module(targets: [CheckedAlgorithm], program: [CheckedAlgorithm], sources: [SourceFile], displayPath: String) -> Output {
        if let e = targets.first(where: { $0.syntax.title.keyword == .experiment }) {
            let d = Diagnostic(.exportExperiment, "an experiment file is not exported; export the algorithm it trains (`algo export --jax` of its .algo file)",
                               at: e.syntax.title.span)
            return Output(text: nil, diagnostics: [d], functions: [])
        }
        var order: [CheckedAlgorithm] = []
        for t in targets {
            for a in reached(from: t, in: program) where !order.contains(where: { ModuleContext.key($0) == ModuleContext.key(a) }) { order.append(a) }
        }
        var context = ModuleContext(sources: Dictionary(sources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }))
        var chunks: [String] = []
        var diagnostics: [Diagnostic] = []
        var functions: [String] = []
        var keywords: [PySignature.Keyword] = []
        for a in order {
            let w = FunctionWriter(a, context: context)
            w.write()
            diagnostics += w.diagnostics
            context.signatures[ModuleContext.key(a)] = w.signature
            keywords += w.keywords
            chunks.append(contentsOf: w.chunks)
            functions += w.functionNames
        }
        guard diagnostics.isEmpty else { return Output(text: nil, diagnostics: diagnostics, functions: functions) }
        let names = targets.compactMap { $0.syntax.title.signature?.name.spelling }.joined(separator: ", ")
        var text = PythonRuntime.header(source: displayPath, target: names)
        for c in chunks { text += "\n\n" + c }
        text += PythonRuntime.checkpoints
        text += keywordTable(keywords)
        return Output(text: text, diagnostics: [], functions: functions)
    }

    /// The algorithms reached from `target` through calls, callees before callers (each once).
    static func reached(from target: CheckedAlgorithm, in program: [CheckedAlgorithm]) -> [CheckedAlgorithm] {
        var out: [CheckedAlgorithm] = []
        var seen: Set<String> = []
        func visit(_ a: CheckedAlgorithm) {
            let k = ModuleContext.key(a)
            guard !seen.contains(k) else { return }
            seen.insert(k)
            for r in a.calls.sorted(by: { $0.key.start < $1.key.start }).map(\.value) where !r.isBuiltin {
                if let c = program.first(where: { $0.syntax.title.signature?.name.spelling == r.callee && $0.file == r.file }) { visit(c) }
            }
            out.append(a)
        }
        visit(target)
        return out
    }

    /// `KEYWORDS`: each keyword argument's name in the paper (the key of `algo.hyperparameter.NAME`),
    /// and `hyperparameters(f, hyper)`, the keyword arguments of `f` found in `load_params`' values.
    static func keywordTable(_ keywords: [PySignature.Keyword]) -> String {
        var seen: Set<String> = []
        var rows: [String] = []
        for k in keywords where !seen.contains(k.py) && k.py != "key" {
            seen.insert(k.py)
            rows.append("    \"\(k.py)\": \"\(PyText.escape(k.spelling))\",")
        }
        return """

        # Keyword arguments and the paper's names of the hyperparameters they carry.
        KEYWORDS = {
        \(rows.joined(separator: "\n"))
        }


        def hyperparameters(f, hyper):
            \"\"\"The keyword arguments of `f` among `hyper` (keyed by the paper's names, as `load_params` returns them).\"\"\"
            import inspect
            names = [p.name for p in inspect.signature(f).parameters.values() if p.kind == p.KEYWORD_ONLY]
            return {p: hyper[KEYWORDS.get(p, p)] for p in names if KEYWORDS.get(p, p) in hyper}

        """
    }
}

/// What the functions written so far offer their callers.
struct ModuleContext {
    var sources: [String: SourceFile]
    var signatures: [String: PySignature] = [:]
    static func key(_ a: CheckedAlgorithm) -> String { (a.syntax.title.signature?.name.spelling ?? "") + "@" + a.file }
    static func key(callee: String, file: String) -> String { callee + "@" + file }
}

/// A generated function's Python signature: how a call passes its inputs, parameters and hyperparameters.
struct PySignature {
    struct Input { var spelling: String; var py: String; var hasDefault: Bool }
    struct Param { var spelling: String; var py: String; var isMask: Bool }
    struct Keyword { var spelling: String; var py: String; var isDimension: Bool }
    var name: String
    var inputs: [Input] = []
    var params: [Param] = []
    var keywords: [Keyword] = []
}

/// Python string literals.
enum PyText {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
