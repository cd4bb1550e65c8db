import Foundation
import AlgoDiagnostics
import AlgoSyntax

/// A parsed `.algo` file: its text and its tree.
public struct ParsedFile: Sendable {
    public let source: SourceFile
    public let tree: AlgoFile
    public init(source: SourceFile, tree: AlgoFile) { self.source = source; self.tree = tree }

    /// Whether the file holds an `Experiment N:` block (its calls also resolve in the directory
    /// above, `Library.around` in AlgoEval).
    public var holdsExperiment: Bool { tree.algorithms.contains { $0.title.keyword == .experiment } }

    /// The directory part of the path (`Algorithms` for `Algorithms/DTransformer.algo`).
    var directory: String {
        guard let slash = source.path.lastIndex(of: "/") else { return "." }
        return String(source.path[..<slash])
    }
}

/// Options of `algo check`.
public struct CheckOptions: Sendable {
    /// `--set d_e=64,H=4`: concrete values for named dimensions.
    public var values: [String: Int]
    public init(values: [String: Int] = [:]) { self.values = values }
}

/// What `ShapeChecker.check` returns: the program (only when no checked algorithm has errors)
/// and the per-algorithm shapes for `--dump shapes`.
public struct CheckOutcome: Sendable {
    /// Non-nil exactly when no error was reported: every algorithm of the checked files, then every
    /// algorithm they call (transitively, from the library), each checked once.
    public let program: CheckedProgram?
    /// Every algorithm of the checked files with its variables' shapes, in file order (callees not).
    public let shapes: [AlgorithmShapes]
    /// Every dimension name of the checked algorithms (and their display aliases such as `ℓ`), so
    /// that `--set` can warn about a name that is none of them.
    public let dimensions: Set<String>
}

/// The variables of one algorithm and their shapes in the paper's notation (`--dump shapes`).
public struct AlgorithmShapes: Sendable {
    public let file: String
    public let title: String
    /// (name, shape) in order of first declaration or definition.
    public let variables: [(name: String, shape: String)]

    /// The `--dump shapes` text: `file: Algorithm N: Name`, then one `name ∈ shape` line per variable.
    public var rendered: String {
        var s = "\(file): \(title)\n"
        let width = variables.map(\.name.count).max() ?? 0
        for v in variables { s += "  " + v.name + String(repeating: " ", count: max(0, width - v.name.count)) + "  ∈ " + v.shape + "\n" }
        return s
    }
}

/// The shape checker: resolves names and proves every product, sum, stacking, call, column
/// assignment, claim and return fits, symbolically. `(Input, inout DiagnosticBag) -> Output`.
///
/// Calls resolve to an algorithm of the same file, then of another checked file, then of any other
/// `.algo` file in the caller's directory (`library`): the directory is the library.
public enum ShapeChecker {
    /// Checks every algorithm of `files`, and every algorithm they call, once. The diagnostics of a
    /// callee (in `files` or the library) are reported at its own file, line and column, so a
    /// shape-wrong callee fails its caller's check; library algorithms nothing calls are not checked.
    public static func check(_ files: [ParsedFile], library: [ParsedFile] = [], options: CheckOptions = CheckOptions(),
                             _ bag: inout DiagnosticBag) -> CheckOutcome {
        let program = ProgramChecker(checked: files, library: library, options: options)
        var shapes: [AlgorithmShapes] = []
        var dimensions: Set<String> = []
        var named: [AlgoChecker] = []
        for f in files {
            for i in f.tree.algorithms.indices {
                let c = program.checker(file: f, index: i)
                c.run()
                named.append(c)
                shapes.append(c.shapes())
                dimensions.formUnion(c.dimNames)
                dimensions.formUnion(c.aliases.values)
            }
        }
        // The callees, in the order they were first called (each ran when its summary was asked for).
        let callees = program.created.filter { c in !named.contains { $0 === c } }
        var algos: [CheckedAlgorithm] = []
        var diagnostics: [Diagnostic] = []
        for c in named + callees {
            c.run()
            diagnostics += c.diagnostics
            algos.append(c.checkedAlgorithm())
        }
        bag.append(contentsOf: diagnostics)
        let clean = !diagnostics.contains { $0.severity == .error }
        return CheckOutcome(program: clean ? CheckedProgram(algorithms: algos) : nil, shapes: shapes, dimensions: dimensions)
    }
}

/// Program-wide state: the library, one dimension solver and type-variable table shared by every
/// algorithm (so that types flow through calls), and the per-algorithm checkers.
final class ProgramChecker {
    let checked: [ParsedFile]
    let library: [ParsedFile]
    let options: CheckOptions
    var solver = DimSolver()
    var typeBindings: [Int: SemType] = [:]
    var nextTypeVariable = 0
    var checkers: [String: AlgoChecker] = [:]
    /// Every checker of `checkers`, in the order it was created (callees in the order first called).
    var created: [AlgoChecker] = []
    /// Set while checking a candidate fix, so that a fix is never verified recursively.
    var verifying = false
    /// At most this many candidate fixes are re-checked per run (each re-checks an algorithm).
    var verificationBudget = 8

    init(checked: [ParsedFile], library: [ParsedFile], options: CheckOptions) {
        self.checked = checked
        self.library = library
        self.options = options
    }

    func checker(file: ParsedFile, index: Int) -> AlgoChecker {
        let key = "\(file.source.path)#\(index)"
        if let c = checkers[key] { return c }
        let c = AlgoChecker(program: self, file: file, algorithm: file.tree.algorithms[index])
        checkers[key] = c
        created.append(c)
        return c
    }

    /// Whether replacing `span` of `file` by `replacement` makes algorithm `index` of that file check
    /// without errors: the verification behind a `help:` line.
    func verifies(file: ParsedFile, index: Int, replacing span: Span, with replacement: String) -> Bool {
        guard !verifying, verificationBudget > 0, span.start >= 0, span.end <= file.source.utf8.count, span.start <= span.end else { return false }
        verificationBudget -= 1
        var bytes = file.source.utf8
        bytes.replaceSubrange(span.start..<span.end, with: Array(replacement.utf8))
        let source = SourceFile(path: file.source.path, text: String(decoding: bytes, as: UTF8.self))
        var bag = DiagnosticBag()
        let tree = Parser.parse(source, &bag)
        guard !bag.hasErrors, index < tree.algorithms.count else { return false }
        let candidate = ParsedFile(source: source, tree: tree)
        let others = checked.filter { $0.source.path != file.source.path }
        let p = ProgramChecker(checked: [candidate] + others, library: library, options: options)
        p.verifying = true
        let c = p.checker(file: candidate, index: index)
        c.run()
        return !c.diagnostics.contains { $0.severity == .error }
    }

    func freshTypeVariable() -> SemType {
        nextTypeVariable += 1
        return .variable(nextTypeVariable)
    }

    /// Every algorithm name visible from `file`, for "did you mean".
    func algorithmNames(from file: ParsedFile) -> [String] {
        (([file] + checked + library).flatMap { $0.tree.algorithms.compactMap { $0.title.signature?.name.spelling } })
    }

    /// The callee `name` as seen from `file`: same file, then checked files, then the caller's directory.
    func lookup(_ name: String, from file: ParsedFile) -> (ParsedFile, Int)? {
        func find(in f: ParsedFile) -> Int? {
            f.tree.algorithms.firstIndex { $0.title.signature?.name.spelling == name }
        }
        if let i = find(in: file) { return (file, i) }
        for f in checked where f.source.path != file.source.path { if let i = find(in: f) { return (f, i) } }
        let dir = file.directory
        for f in library.sorted(by: { $0.source.path < $1.source.path }) where f.directory == dir && f.source.path != file.source.path {
            if let i = find(in: f) { return (f, i) }
        }
        for f in library.sorted(by: { $0.source.path < $1.source.path }) where f.directory != dir {
            if let i = find(in: f) { return (f, i) }
        }
        return nil
    }

    /// Substitutes solved type variables and dimension unknowns, recursively.
    func resolve(_ t: SemType) -> SemType {
        var current = t
        for _ in 0..<64 {
            guard case .variable(let id) = current, let b = typeBindings[id] else { break }
            current = b
        }
        switch current {
        case .variable, .error, .real, .bool, .number, .text: return current
        case .nat(let d): return .nat(d.map(solver.resolve))
        case .index(let d): return .index(solver.resolve(d))
        case .array(let r, let c, let e): return .array(rows: solver.resolve(r), cols: c.map(solver.resolve), element: e)
        case .sequence(let e, let l): return .sequence(element: resolve(e), length: l.map(solver.resolve))
        case .set(let e): return .set(of: resolve(e))
        case .collection(let c):
            return .collection(CollectionType(origin: c.origin, members: c.members.map { ($0.key, resolve($0.type)) }))
        case .family(let d, let e): return .family(domain: solver.resolve(d), element: resolve(e))
        case .function(let a, let r): return .function(argument: resolve(a), result: resolve(r))
        }
    }

    /// Whether two dimensions are equal (binding unknowns when that makes them so). With `--set`
    /// values, dimensions that differ symbolically but are equal under the values also agree.
    func unify(_ a: Dim, _ b: Dim) -> Bool {
        switch solver.unify(a, b) {
        case .equal, .solved, .undecided: return true
        case .mismatch:
            if let x = evaluate(a), let y = evaluate(b) { return x == y }
            return false
        }
    }

    /// The value of a dimension under `--set`, when every variable has one.
    /// `aliases` lets `--set ℓ=8` give `length(x)` a value after `ℓ ← length(x)`.
    func evaluate(_ d: Dim, aliases: [String: String] = [:]) -> Int? {
        guard !options.values.isEmpty else { return nil }
        return solver.resolve(d).evaluate { v in
            if case .named(let n) = v { return self.options.values[n] ?? aliases[n].flatMap { self.options.values[$0] } }
            return nil
        }
    }

    /// Makes two types equal; false when they cannot be (errors always unify, silently).
    func unify(_ a: SemType, _ b: SemType) -> Bool {
        let x = resolve(a), y = resolve(b)
        switch (x, y) {
        case (.error, _), (_, .error): return true
        case (.variable(let i), .variable(let j)) where i == j: return true
        case (.variable(let i), _): typeBindings[i] = y; return true
        case (_, .variable(let j)): typeBindings[j] = x; return true
        case (.array(let r1, let c1, _), .array(let r2, let c2, _)):
            switch (c1, c2) {
            case (nil, nil): return unify(r1, r2)
            case (let p?, let q?):
                let rows = unify(r1, r2)
                return unify(p, q) && rows
            default: return false
            }
        case (.sequence(let e1, _), .sequence(let e2, _)): return unify(e1, e2)
        case (.set(let e1), .set(let e2)): return unify(e1, e2)
        case (.family(let d1, let e1), .family(let d2, let e2)): return unify(d1, d2) && unify(e1, e2)
        case (.function(let a1, let r1), .function(let a2, let r2)): return unify(a1, a2) && unify(r1, r2)
        case (.collection(let c1), .collection(let c2)):
            guard c1.members.map(\.key) == c2.members.map(\.key) else { return false }
            var ok = true
            for (m1, m2) in zip(c1.members, c2.members) where !unify(m1.type, m2.type) { ok = false }
            return ok
        default:
            return x.isScalar && y.isScalar
        }
    }
}
