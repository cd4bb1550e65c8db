import AlgoEval

/// What `algo run FILE` runs, and the flags that mean nothing for it: they are refused (exit 2)
/// rather than silently ignored (issue 15).
enum RunKind {
    /// An algorithm evaluated once (Algorithms 1–10, 14, 15 …).
    case forward
    /// A training algorithm (it assigns its parameter collection: Algorithms 11–13, 18, 19).
    case training
    /// An `Experiment N:` file.
    case experiment

    /// The flags of `algo run` this kind does not use, each with what to do instead.
    var inapplicable: [(flag: String, why: String)] {
        switch self {
        case .forward:
            let training = "applies to training algorithms (DTraining, DTrainingAdam, …)"
            return [("checkpoint", training), ("checkpoint-every", training), ("resume", training), ("loss-svg", training),
                    ("log-every", training), ("held-out", training), ("eval-every", training), ("data", "applies to experiment files")]
        case .training:
            let sampling = "applies to algorithms that sample (DInference, GPT2Inference, …): a training run draws no tokens"
            return [("text", "does not give a dataset: give it with `--input 'x_1=…;x_2=…'`"),
                    ("data", "applies to experiment files"), ("samples", sampling), ("top-k", sampling)]
        case .experiment:
            let header = "is not read by experiment files: an experiment's header names its data, values and output"
            return [("input", header), ("text", header), ("tokenizer", header), ("save-params", header),
                    ("held-out", "is not read by experiment files: an experiment's held-out set is the data of its `evaluate(…, θ̂)` line"),
                    ("samples", "applies to one sampling algorithm run alone: an experiment's lines say how many samples it draws")]
        }
    }

    /// A usage error for the first flag given that this kind does not use.
    func refusal(_ args: Arguments, _ name: String) -> UsageError? {
        guard let f = inapplicable.first(where: { args.has($0.flag) }) else { return nil }
        return UsageError("`--\(f.flag)` \(f.why); `\(name)` is \(self == .forward ? "not a training algorithm" : self == .training ? "a training algorithm" : "an experiment")")
    }
}
