import AlgoDiagnostics

// The syntax tree of a `.algo` file. Every node carries its span; dumps (ASTDump.swift) leave spans
// out by default so that two trees compare by their dumps. Missing or malformed parts are
// `.missing` / `.error` nodes: the parser always returns a whole tree.

/// A whole `.algo` file: `/* … */` lines before the first title, then the algorithms.
public struct AlgoFile: Sendable, Equatable {
    /// `/* … */` lines before the first title.
    public var leadingComments: [CommentLine]
    /// The algorithms in file order.
    public var algorithms: [Algorithm]
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// A `/* … */` line: the paper's comments, kept as documentation.
public struct CommentLine: Sendable, Equatable {
    /// The text (comment without `/*` `*/`; prose verbatim).
    public var text: String
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// Text that is documentation, not code: after `—` in a title, after the declarations of a header
/// line, after `, where` in a statement. Never executed.
public struct Prose: Sendable, Equatable {
    /// The text (comment without `/*` `*/`; prose verbatim).
    public var text: String
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// One algorithm box: title, header lines, numbered body.
public struct Algorithm: Sendable, Equatable {
    /// The `Algorithm N: …` line.
    public var title: Title
    /// Header and comment lines between the title and the body.
    public var header: [HeaderItem]
    /// The statements, in order (comment lines included).
    public var body: [Statement]
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// `Algorithm 4: Ṽ ← Attention(X, Z | 𝓦_qkv, Mask) — prose`.
public struct Title: Sendable, Equatable {
    /// `Algorithm` (the paper's boxes) or `Experiment` (a whole experiment: data, values, training).
    public var keyword: TitleKeyword = .algorithm
    /// The number after `Algorithm` as written (`4`).
    public var number: String
    /// The signature; nil for a prose-only title (`Algorithm 1: Token embedding.`).
    public var signature: Signature?
    /// Prose after `—`, or the whole title text when there is no signature.
    public var prose: Prose?
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// The word that opens a block: `Algorithm 4: …` or `Experiment 1: …`.
public enum TitleKeyword: String, Sendable, Equatable {
    case algorithm = "Algorithm", experiment = "Experiment"
}

/// `Ṽ ← MHAttention(X, Z = X | 𝓦, Mask)`.
public struct Signature: Sendable, Equatable {
    /// The names before `←`.
    public var outputs: [Expr]
    /// The name.
    public var name: Name
    /// Before `|`: the inputs, each maybe with a default (`Z = X`).
    public var inputs: [SignatureParameter]
    /// After `|`: parameters and hyperparameters.
    public var parameters: [SignatureParameter]
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// One entry of a signature: a declarator (`X`, `z_{1:N_data}`) and an optional default.
public struct SignatureParameter: Sendable, Equatable {
    /// The declarator: a name or `e_{1:T}`.
    public var name: Expr
    /// The default after `=` (`Z = X`), if any.
    public var defaultValue: Expr?
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// What may appear between the title and the body.
public enum HeaderItem: Sendable, Equatable {
    case line(HeaderLine)
    case comment(CommentLine)
}

/// `Input:`, `Output:`, `Parameters:`, `Hyperparameters:`.
public enum HeaderKind: String, Sendable, Equatable, CaseIterable {
    case input = "Input", output = "Output", parameters = "Parameters", hyperparameters = "Hyperparameters"
}

/// One header line with what follows its label.
public struct HeaderLine: Sendable, Equatable {
    /// Which label.
    public var kind: HeaderKind
    /// What follows the label.
    public var content: HeaderContent
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// Declarations with optional trailing prose, a parameter collection, or only prose.
public enum HeaderContent: Sendable, Equatable {
    case declarations(DeclarationLine)
    case collection(ParameterCollection)
}

/// `W_q, W_k ∈ ℝ^{d_attn×d_in}, b_q, b_k ∈ ℝ^{d_attn}, the query and key linear projections.`
public struct DeclarationLine: Sendable, Equatable {
    /// The declarations, in order.
    public var declarations: [Declaration]
    /// Trailing prose, if any.
    public var prose: Prose?
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// `names ∈ type`, or one name without a type (`H, number of attention heads`).
public struct Declaration: Sendable, Equatable {
    /// Declarators: names (`W_q`, `z_{1:N_data}`) or datasets (`{x_n}_{n=1}^{N_data}`).
    public var names: [Expr]
    /// The type after `∈`, if given.
    public var type: TypeExpr?
    /// The value after `=` (`ℓ_max = 64`, `corpus = "prose.txt"`): experiment files bind their
    /// hyperparameters and data files in the header; one name per valued declaration.
    public var value: Expr? = nil
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}


/// `𝓦_qkv consisting of:` / `θ includes all of the following parameters:` and its member lines.
public struct ParameterCollection: Sendable, Equatable {
    /// The collection's name (`𝓦_qkv`, `θ`).
    public var name: Name
    /// The words after the name (`consisting of:`), as written.
    public var phrase: Prose
    /// The member lines, in order.
    public var members: [CollectionMember]
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// A line inside a collection.
public enum CollectionMember: Sendable, Equatable {
    case declarations(DeclarationLine)
    case group(CollectionGroup)
    case comment(CommentLine)
}

/// `For l ∈ [L]:` or `For h ∈ [H], 𝓦^h_qkv consisting of:` with its `|` member lines.
public struct CollectionGroup: Sendable, Equatable {
    /// The index variable.
    public var variable: Name
    /// The set the index runs over.
    public var domain: TypeExpr
    /// The collection the group forms (`𝓦^h_qkv`), if named.
    public var collection: Name?
    /// The words after the collection's name (`consisting of:`), if any.
    public var phrase: Prose?
    /// The member lines, in order.
    public var members: [DeclarationLine]
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

// MARK: - Statements

/// A body line's statement (or a nested one), with its line number, trailing claim and prose.
public struct Statement: Sendable, Equatable {
    /// What the statement does.
    public var kind: StatementKind
    /// The paper's line number, as written.
    public var lineNumber: String?
    /// `[[Query ∈ ℝ^{d_attn×ℓ_x}]]` after the statement.
    public var claim: Claim?
    /// `, where ⊙ denotes element-wise multiplication.`
    public var prose: Prose?
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// How `←`/`=` were written in an assignment.
public enum AssignOperator: String, Sendable, Equatable {
    case arrow = "←", equals = "="
}

/// The kinds of statements.
public indirect enum StatementKind: Sendable, Equatable {
    /// `target ← value` or `target = value`; the target may be a call (`P(θ) ← …` defines P).
    case assign(target: Expr, op: AssignOperator, value: Expr)
    /// `return value` or `return name = value`.
    case returnValue(target: Expr?, value: Expr)
    case forLoop(ForLoop)
    /// `∀t : stmt`, `∀t_z, t_x, if … then …`.
    case forAll(variables: [Name], body: Statement)
    case ifThen(IfThen)
    case whileLoop(WhileLoop)
    /// `sample a token y from q ∝ p^{1/τ}`.
    case sample(Sample)
    /// A `/* … */` line in the body.
    case comment(String)
    /// A line that could not be parsed (its error was reported).
    case error
}

/// How a loop's or if's body is written.
public enum BlockForm: String, Sendable, Equatable {
    /// `for t ∈ [ℓ] : stmt` on one line.
    case inline
    /// `for … do` … `end`.
    case doEnd
    /// `For h ∈ [H]:` and more-indented lines, no `end` (Algorithm 5).
    case indented
}

/// `for l = 1, 2, . . . , L do … end`, `for t ∈ [ℓ] : stmt`, `For h ∈ [H]:` + indented body.
public struct ForLoop: Sendable, Equatable {
    /// The index variable.
    public var variable: Name
    /// What the loop runs over.
    public var range: ForRange
    /// How the body is written.
    public var form: BlockForm
    /// The statements, in order (comment lines included).
    public var body: [Statement]
    /// The `end` line's number and span (doEnd only).
    public var endLineNumber: String?
    /// The span of the `end` keyword (block forms only).
    public var endSpan: Span?
}

/// What a for loop runs over.
public enum ForRange: Sendable, Equatable {
    /// `= 1, 2, . . . , L`: the listed values with `.ellipsis` elements.
    case counting([Expr])
    /// `∈ [ℓ]`.
    case domain(TypeExpr)
}

/// `if cond then stmt` or `if cond then` … `end`.
public struct IfThen: Sendable, Equatable {
    /// The condition.
    public var condition: Expr
    /// How the body is written.
    public var form: BlockForm
    /// The statements, in order (comment lines included).
    public var body: [Statement]
    /// The `end` line's number, as written.
    public var endLineNumber: String?
    /// The span of the `end` keyword (block forms only).
    public var endSpan: Span?
}

/// `while cond do` … `end`.
public struct WhileLoop: Sendable, Equatable {
    /// The condition.
    public var condition: Expr
    /// The statements, in order (comment lines included).
    public var body: [Statement]
    /// The `end` line's number, as written.
    public var endLineNumber: String?
    /// The span of the `end` keyword (block forms only).
    public var endSpan: Span?
}

/// `sample a token y from q ∝ p^{1/τ}`: draw `target` from the distribution proportional to `weights`.
public struct Sample: Sendable, Equatable {
    /// The words between `sample` and the target (`a token`).
    public var description: String?
    /// The name (or indexed name) written to.
    public var target: Expr
    /// The distribution's name before `∝` (`q`), if given.
    public var distribution: Expr?
    /// The unnormalised weights after `∝` (or the distribution itself).
    public var weights: Expr
}

/// `[[Label ∈ type]]`: a claim about the shape of the value the statement assigns.
public struct Claim: Sendable, Equatable {
    /// The label before `∈` (`Query`).
    public var label: Name
    /// The type after `∈`, if given.
    public var type: TypeExpr
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

// MARK: - Names

/// Whether a script is written below (`_`) or above (`^`).
public enum ScriptPosition: String, Sendable, Equatable {
    case sub = "_", sup = "^"
}

/// A sub- or superscript: `_q`, `^{1/τ}`, `²`. Whether it indexes a family, is part of a name or
/// is a power is decided by the checker from the declarations; the parser keeps both the raw
/// text and a parsed expression.
public struct Script: Sendable, Equatable {
    /// `_` or `^`.
    public var position: ScriptPosition
    /// Written with braces `_{…}`.
    public var braced: Bool
    /// The script's text in canonical Unicode (`mlp1`, `e/d`, `1:N_data`, `d_e×N_V`, `2` for `²`).
    public var raw: String
    /// The script parsed as an expression (a word is a name or a number).
    public var value: Expr
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

/// A name with the paper's decorations: base (NFC: `x̃`, `t′`, `𝓦`, `ℓ`) and scripts in order
/// (`W^l_mlp1` has `^l` then `_mlp1`).
public struct Name: Sendable, Equatable {
    /// The base, NFC (`W`, `x̃`, `t′`, `𝓦`).
    public var base: String { didSet { spelling = Name.spell(base, scripts) } }
    /// The scripts in written order.
    public var scripts: [Script] { didSet { spelling = Name.spell(base, scripts) } }
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
    /// The canonical spelling: `W^l_mlp1`, `e_{ℓ_z}`, `x̃_n`. Kept with the name (the evaluator
    /// looks names up by it at every use), recomputed when `base` or `scripts` change.
    public private(set) var spelling: String

    public init(base: String, scripts: [Script], span: Span) {
        self.base = base
        self.scripts = scripts
        self.span = span
        self.spelling = Name.spell(base, scripts)
    }

    /// `base` followed by each script as written (`W^h_q`, `γ^1_{12}`).
    public static func spell(_ base: String, _ scripts: [Script]) -> String {
        base + scripts.map { ExprPrinter.print($0) }.joined()
    }
}

// MARK: - Expressions

/// Binary operators (see the precedence table in Grammar/README.md).
public enum BinaryOperator: String, Sendable, Equatable, CaseIterable {
    case add = "+", subtract = "−", multiply = "·", hadamard = "⊙", divide = "/", times = "×"
    /// Juxtaposition `W_q X`, `α_t v_t`: a product.
    case juxtapose = "juxt"
    case equal = "=", notEqual = "≠", less = "<", lessEqual = "≤", greater = ">", greaterEqual = "≥"
    case equivalent = "≡"
}

/// Prefix operators.
public enum UnaryOperator: String, Sendable, Equatable, CaseIterable {
    case negate = "−", sqrt = "√", not = "¬", gradient = "∇"
}

/// An expression node.
public struct Expr: Sendable, Equatable {
    /// What the expression is.
    public var kind: ExprKind
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
    /// Creates the node.
    public init(_ kind: ExprKind, _ span: Span) { self.kind = kind; self.span = span }
}

/// The kinds of expressions.
public indirect enum ExprKind: Sendable, Equatable {
    case name(Name)
    case number(String)
    /// `"prose.txt"`: a text (experiment files: the path of a data file); the text between the quotes.
    case text(String)
    /// `𝟏`, the all-ones vector.
    case ones
    case infinity
    /// `. . .` inside a list or a counting range.
    case ellipsis
    /// `:` alone in an index: the whole row or column (`W_e[:, v]`).
    case all
    case binary(BinaryOperator, Expr, Expr)
    case unary(UnaryOperator, Expr)
    case transpose(Expr)
    /// Scripts on something other than a name: `(e[i] − m)²`, `{x_n}_{n=1}^{N_data}`.
    case scripted(Expr, [Script])
    /// `Σ_{i=1}^{d_e} body`, `Σ_u body`, `Σ_{t∈T̃} body`.
    case sum(Sum)
    /// `f(args | params)`, and `exp x` (a known function applied without parentheses).
    case call(Call)
    /// `A[i, j]` (no space before `[`).
    case index(Expr, [Expr])
    /// `a : b` in an index or a script; either side may be missing.
    case slice(Expr?, Expr?)
    /// `[a, b, . . . c]` (side by side) or `[a; b; . . . ; c]` (on top of each other).
    case list([Expr], ListSeparator)
    /// `[[t ≤ t′]]`: 1 if the condition holds, else 0.
    case iverson(Expr)
    /// `(a, b)`.
    case tuple([Expr])
    /// `{a, b}`.
    case set([Expr])
    /// `{t ∈ [ℓ] : condition}`.
    case setBuilder(variable: Name, domain: TypeExpr, condition: Expr)
    /// `t ∈ T̃` inside a script (`Σ_{t∈T̃}`).
    case membership(Expr, TypeExpr)
    /// `a or b randomly with probability p or q`.
    case randomChoice(options: [Expr], probabilities: [Expr])
    /// Nothing where an expression was expected (the error was reported).
    case missing
}

/// How the elements of a bracket list are separated.
public enum ListSeparator: String, Sendable, Equatable {
    /// `,` or a single element: side by side / append.
    case comma = ","
    /// `;`: on top of each other.
    case semicolon = ";"
}

/// `Σ` with its scripts and the product/quotient chain it sums.
public struct Sum: Sendable, Equatable {
    /// The subscript: `i=1`, `t∈T̃`, or the index alone (`u`).
    public var lower: Script?
    /// The superscript: the upper bound, if any.
    public var upper: Script?
    /// The product/quotient chain summed.
    public var body: Expr
}

/// A call `f(args | params)`.
public struct Call: Sendable, Equatable {
    /// The function called.
    public var callee: Name
    /// The arguments before `|`.
    public var arguments: [Expr]
    /// Whether `|` was written (parameters may still be empty).
    public var hasBar: Bool
    /// The parameters after `|`.
    public var parameters: [CallParameter]
}

/// A parameter after `|`: positional (`𝓦_l`) or a binding (`Mask ≡ 1`, `Mask[t, t′] = [[t ≤ t′]]`).
public struct CallParameter: Sendable, Equatable {
    /// The hyperparameter bound (`Mask`, `Mask[t, t′]`), for a binding.
    public var target: Expr?
    /// `≡` or `=` for a binding.
    public var op: BinaryOperator?
    /// The value (the whole parameter when positional).
    public var value: Expr
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
}

// MARK: - Types

/// A type or set in a declaration, a loop domain or a claim.
public struct TypeExpr: Sendable, Equatable {
    /// What the type is.
    public var kind: TypeKind
    /// Where it is in the source (UTF-8 offsets).
    public var span: Span
    /// Creates the node.
    public init(_ kind: TypeKind, _ span: Span) { self.kind = kind; self.span = span }
}

/// The kinds of types.
public indirect enum TypeKind: Sendable, Equatable {
    /// `ℝ`.
    case reals
    /// `ℕ`.
    case naturals
    /// A named set: `V`, `T̃`.
    case named(Name)
    /// `base^{d_1×d_2}`: vectors and matrices over `base`; `dims` are the factors of `×`.
    case power(TypeExpr, dims: [Expr], script: Script)
    /// `V*`: finite sequences over V.
    case sequences(TypeExpr)
    /// `[N]`: {1, …, N}.
    case range(Expr)
    /// `{0,1}`.
    case finiteSet([Expr])
    /// `(0, 1)`, `(0, ∞)`: an open interval of reals.
    case interval(Expr, Expr)
    /// `Δ(V)`: a named type constructor applied to types.
    case applied(Name, [TypeExpr])
    /// `V ≅ [N_V]`.
    case congruent(TypeExpr, TypeExpr)
    /// Nothing where a type was expected (the error was reported).
    case missing
}
