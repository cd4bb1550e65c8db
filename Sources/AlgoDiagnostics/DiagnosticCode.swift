/// The one catalogue of diagnostic codes. Codes are stable: a code is never reused for another
/// meaning. Ranges: E00xx input files, E01xx lexical, E02xx syntax, E03xx names,
/// E04xx shapes and types, E05xx runtime. Every code has a golden test that triggers it.
public enum DiagnosticCode: String, Sendable, CaseIterable, Codable {
    // MARK: input files
    case fileNotFound = "E0001"
    case fileUnreadable = "E0002"
    case invalidUTF8 = "E0003"
    case emptyData = "E0004"
    case dataTooShort = "E0005"
    case malformedCheckpoint = "E0006"
    case outputUnwritable = "E0007"

    // MARK: lexical (the lexer never fails; the parser reports these where code is expected)
    case unknownCharacter = "E0101"
    case unknownCommand = "E0102"
    case unterminatedComment = "E0103"

    // MARK: syntax
    case expectedExpression = "E0201"
    case expectedToken = "E0202"
    case unclosedDelimiter = "E0203"
    case unexpectedToken = "E0204"
    case missingEnd = "E0205"
    case unexpectedEnd = "E0206"
    case expectedStatement = "E0207"
    case invalidTitle = "E0208"
    case expectedDeclaration = "E0209"
    case expectedType = "E0210"
    case outsideAlgorithm = "E0211"
    case headerAfterBody = "E0212"
    case invalidClaim = "E0213"
    case detachedScript = "E0214"
    case expectedName = "E0215"
    case nestingTooDeep = "E0216"
    case unknownHeader = "E0217"

    // MARK: names
    case unknownName = "E0301"
    case unboundIndex = "E0302"
    case unknownAlgorithm = "E0303"
    case undeclaredSignatureName = "E0304"
    case unboundHyperparameter = "E0305"
    case duplicateDeclaration = "E0306"
    case unknownParameter = "E0307"
    case unusedDeclaration = "E0308"

    // MARK: shapes and types
    case productMismatch = "E0401"
    case elementwiseMismatch = "E0402"
    case assignmentMismatch = "E0403"
    case claimMismatch = "E0404"
    case argumentMismatch = "E0405"
    case argumentCount = "E0406"
    case indexOutOfRange = "E0407"
    case indexDomainMismatch = "E0408"
    case stackMismatch = "E0409"
    case invalidOperand = "E0410"
    case returnMismatch = "E0411"
    case shapeChangeInLoop = "E0412"
    case concreteValue = "E0413"
    case headerValue = "E0414"

    // MARK: runtime (algo run)
    case notExecutable = "E0501"
    case runtimeIndexOutOfRange = "E0502"
    case nonFinite = "E0503"
    case stepLimit = "E0504"
    case missingValue = "E0505"
    case parameterMismatch = "E0506"
    case invalidInput = "E0507"
    case notTrainingCheckpoint = "E0510"
    case resumeSourceMismatch = "E0511"
    case resumeHyperparameterMismatch = "E0512"
    case resumeDatasetMismatch = "E0513"
    case resumeMismatch = "E0514"
    case sequenceTooLong = "E0515"
    case unknownToken = "E0516"
    case memoryBudget = "E0517"
    case degenerateDimension = "E0518"
    case integerOverflow = "E0519"

    // MARK: real models (tokenizer files, algo convert, --params)
    case tokenizerFile = "E0550"
    case conversionMismatch = "E0551"
    case unusedTensors = "E0552"

    // MARK: experiments (algo run of an `Experiment N:` file)
    case noHeldOutSet = "E0580"
    case resumeLineMismatch = "E0581"

    // MARK: gradient check (algo gradcheck)
    case noLoss = "E0530"
    case degenerateLoss = "E0531"
    case gradientSteps = "E0532"

    // MARK: export (algo export --jax)
    case notExportable = "E0560"
    case exportGradient = "E0561"
    case exportExperiment = "E0562"

    // MARK: rendering (algo render)
    case noLaTeXSpelling = "E0570"

    /// The severity a diagnostic with this code has unless the phase says otherwise.
    public var defaultSeverity: Diagnostic.Severity {
        switch self {
        case .fileNotFound, .fileUnreadable, .invalidUTF8, .emptyData, .dataTooShort, .malformedCheckpoint, .outputUnwritable: .error
        case .unknownCharacter, .unknownCommand, .unterminatedComment: .error
        case .expectedExpression, .expectedToken, .unclosedDelimiter, .unexpectedToken, .missingEnd,
             .unexpectedEnd, .expectedStatement, .invalidTitle, .expectedDeclaration, .expectedType,
             .outsideAlgorithm, .headerAfterBody, .invalidClaim, .detachedScript, .expectedName, .nestingTooDeep, .unknownHeader: .error
        case .unknownName, .unboundIndex, .unknownAlgorithm, .undeclaredSignatureName, .unboundHyperparameter,
             .duplicateDeclaration, .unknownParameter: .error
        case .unusedDeclaration: .warning
        case .productMismatch, .elementwiseMismatch, .assignmentMismatch, .claimMismatch, .argumentMismatch,
             .argumentCount, .indexOutOfRange, .indexDomainMismatch, .stackMismatch, .invalidOperand,
             .returnMismatch, .shapeChangeInLoop, .concreteValue, .headerValue: .error
        case .notExecutable, .runtimeIndexOutOfRange, .nonFinite, .missingValue, .parameterMismatch, .invalidInput,
             .notTrainingCheckpoint, .resumeSourceMismatch, .resumeHyperparameterMismatch, .resumeDatasetMismatch, .resumeMismatch,
             .sequenceTooLong, .unknownToken, .memoryBudget, .degenerateDimension, .integerOverflow: .error
        case .tokenizerFile, .conversionMismatch: .error
        case .unusedTensors: .warning
        case .noHeldOutSet, .resumeLineMismatch: .error
        case .stepLimit: .warning
        case .noLoss, .degenerateLoss, .gradientSteps: .error
        case .notExportable, .exportGradient, .exportExperiment: .error
        case .noLaTeXSpelling: .warning
        }
    }

    /// One line describing what the code means (for `algo explain` and the catalogue in docs).
    public var title: String {
        switch self {
        case .fileNotFound: "the named file does not exist"
        case .fileUnreadable: "the named file cannot be read"
        case .invalidUTF8: "the file is not valid UTF-8 text"
        case .emptyData: "an experiment's data file is empty (holds no token)"
        case .dataTooShort: "an experiment's data is too short for what the experiment asks (a chunk, a held-out part)"
        case .malformedCheckpoint: "a checkpoint is not a safetensors file of F32 or F64 tensors that `algo` reads"
        case .outputUnwritable: "an output file cannot be written (the previous file, if any, is left as it was)"
        case .unknownCharacter: "a character that is no part of the notation appears where code is expected"
        case .unknownCommand: "a backslash command that is no ASCII spelling of a symbol or letter"
        case .unterminatedComment: "a `/*` comment is not closed by `*/` on its line"
        case .expectedExpression: "an expression is missing"
        case .expectedToken: "a required symbol or keyword is missing"
        case .unclosedDelimiter: "a bracket, parenthesis or brace is not closed"
        case .unexpectedToken: "extra text after a complete statement or declaration"
        case .missingEnd: "a `do` or `then` block is not closed by `end`"
        case .unexpectedEnd: "an `end` line closes no block"
        case .expectedStatement: "a body line does not start a statement"
        case .invalidTitle: "an `Algorithm N:` title line is malformed"
        case .expectedDeclaration: "a header line does not start with a declaration"
        case .expectedType: "a type or set is missing after `∈`"
        case .outsideAlgorithm: "a line before the first `Algorithm N:` title"
        case .headerAfterBody: "a header line after the body has started"
        case .invalidClaim: "a `[[…]]` claim after a statement is not `[[Label ∈ type]]`"
        case .detachedScript: "a sub- or superscript separated from what it decorates"
        case .expectedName: "a name is missing"
        case .unknownHeader: "a header line's label is not `Input`, `Output`, `Parameters` or `Hyperparameters`"
        case .nestingTooDeep: "expressions, types or one-line statements nested deeper than the parser allows"
        case .unknownName: "a name that is not declared, bound or defined before its use"
        case .unboundIndex: "a family index (`l` in `γ^1_l`) that no enclosing loop, `∀` or sum binds"
        case .unknownAlgorithm: "a call to an algorithm that is neither a builtin nor defined in the file or its directory"
        case .undeclaredSignatureName: "an input or output of the title that no header line declares"
        case .unboundHyperparameter: "a callee's hyperparameter that no named argument, caller hyperparameter or argument shape binds"
        case .duplicateDeclaration: "a name declared twice in one algorithm"
        case .unknownParameter: "a named argument or parameter that the callee does not have"
        case .unusedDeclaration: "a parameter or input that the algorithm's body never uses (a warning)"
        case .productMismatch: "a matrix product whose inner dimensions differ"
        case .elementwiseMismatch: "an element-wise operation (`+`, `−`, `⊙`) on values of different shapes"
        case .assignmentMismatch: "an assignment whose value does not fit the target's shape"
        case .claimMismatch: "a `[[Label ∈ type]]` claim that the assigned value does not satisfy"
        case .argumentMismatch: "an argument whose shape does not fit the callee's declaration"
        case .argumentCount: "a call with the wrong number of inputs"
        case .indexOutOfRange: "an index that provably exceeds the dimension it indexes"
        case .indexDomainMismatch: "an index variable whose range is not the dimension it indexes"
        case .stackMismatch: "blocks stacked side by side or on top of each other whose shapes do not fit"
        case .invalidOperand: "an operation applied to a value of the wrong kind (indexing a scalar, softmax of a sequence)"
        case .returnMismatch: "a returned value that does not fit the declared output"
        case .shapeChangeInLoop: "a loop that changes the shape of a variable defined before it"
        case .concreteValue: "with `--set` values, a dimension that does not fit (a mismatch or an index beyond its range)"
        case .headerValue: "a header value `name = value` outside an experiment, or of the wrong kind (a number for a hyperparameter, a quoted path for a data file)"
        case .notExecutable: "a statement or construct that `algo run` does not execute yet (training: `∇`, functions of θ)"
        case .runtimeIndexOutOfRange: "an index outside its range at run time (a position beyond ℓ_max, erratum A10)"
        case .nonFinite: "a line produced NaN or an infinity (layer_norm of a constant vector divides by √0, erratum A3)"
        case .stepLimit: "a `while` loop was stopped by the step limit `--max-steps` (erratum A10)"
        case .missingValue: "a hyperparameter, dimension, input or parameter that the run needs has no value"
        case .parameterMismatch: "a parameter of a checkpoint is missing or has the wrong shape"
        case .invalidInput: "an `--input` value that does not fit the algorithm's declaration"
        case .notTrainingCheckpoint: "a `--resume` file that holds no training state (step, random generator, state variables)"
        case .resumeSourceMismatch: "a `--resume` checkpoint written from other `.algo` text (its SHA-256 differs)"
        case .resumeHyperparameterMismatch: "a `--resume` checkpoint written with other hyperparameter values"
        case .resumeDatasetMismatch: "a `--resume` checkpoint written for another dataset"
        case .resumeMismatch: "a `--resume` checkpoint of another algorithm or precision, or with a step this run never reaches"
        case .noLoss: "`algo gradcheck` of a file that defines no loss: not a training algorithm, nor a model that a training algorithm of its directory trains"
        case .degenerateLoss: "`algo gradcheck`: loss(θ) does not depend on θ at the fixed dataset element (ETraining's draw masked no position)"
        case .gradientSteps: "`algo gradcheck`: one epoch over one dataset element did not take exactly one `∇loss(θ)`"
        case .sequenceTooLong: "a run or an experiment would pass a sequence longer than ℓ_max to a transformer (its input grown by ℓ_gen generated tokens)"
        case .notExportable: "`algo export --jax`: a construct the JAX export does not translate yet (a `while`, an `if` outside `∀`, a set builder, a random choice)"
        case .exportGradient: "`algo export --jax`: a `∇` outside the form the export splits into loss and step (`∇loss(θ)` of a loss defined in the same training loop)"
        case .exportExperiment: "`algo export --jax` of an experiment file: only algorithms are exported"
        case .noLaTeXSpelling: "`algo render --latex`: a character of a box (in prose or a name) has no LaTeX spelling; it is written `?`"
        case .memoryBudget: "a size from the command line, a checkpoint or a file needs more memory than the machine has (or overflows a 64-bit integer)"
        case .degenerateDimension: "a dimension that shapes tensors is 0 or negative (`--set d_e=0`), or a step count is negative"
        case .integerOverflow: "natural-number arithmetic at run time overflows 64 bits (a step counter of 2⁶³−1 from a resume checkpoint)"
        case .conversionMismatch: "`algo convert`: the checkpoint does not fit the format or the shipped algorithm (a tensor missing or mis-shaped, a config value the algorithm does not compute, untied weights)"
        case .unusedTensors: "a checkpoint holds tensors the algorithm does not use (`--params`; an error with `--strict`), or that `algo convert` cannot place"
        case .tokenizerFile: "a tokenizer file (`algo`'s JSON, a HuggingFace tokenizer.json, GPT-2's vocab.json + merges.txt) that is malformed or uses a feature `algo` does not read"
        case .noHeldOutSet: "`--eval-every` for a training line of an experiment that no later line `evaluate(…, θ̂)` gives a held-out set"
        case .resumeLineMismatch: "an experiment's `--resume` checkpoint names a line that is no training line of this run"
        case .unknownToken: "a text holds a character or word outside the vocabulary the experiment's first `tokenize` learned"
        }
    }
}
