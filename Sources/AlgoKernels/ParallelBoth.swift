import Foundation

extension Parallel {
    /// Runs `first` and `second`, two independent pieces of work, at the same time when there are
    /// two threads: `first` on the calling thread and `second` on a helper (the two ends of one
    /// `forEach`, so a helper another process keeps off its core leaves both to the caller), and
    /// `between`, if any, on whichever of them finishes its piece first. Inside each piece
    /// `threadsHere` is 1: a kernel it calls runs on its thread alone instead of splitting itself
    /// between threads that are both busy. On one thread, or inside another `both`, they run one
    /// after the other (`first`, `between`, `second`). Which thread runs a piece never changes its result.
    ///
    /// For the two products of a matrix product's gradient (`AlgoTensor`'s `MatmulRule`): dX on the
    /// calling thread, which reads it next, and dW on the helper. Each of them split in two parts
    /// costs a hand-off and a wait, and each part packs the operand it shares with the other part
    /// (`GEMM.runParallel`); the two side by side need neither.
    public static func both(_ first: () -> Void, between: () -> Void, _ second: () -> Void) {
        run(3, first, between, second)
    }

    /// `both` without a piece between.
    public static func both(_ first: () -> Void, _ second: () -> Void) {
        run(2, first, {}, second)
    }

    /// `both` with `count` pieces: `first`, `between` when `count` is 3, `second`.
    private static func run(_ count: Int, _ first: () -> Void, _ between: () -> Void, _ second: () -> Void) {
        if threads < 2 || insideBoth {
            first()
            if count == 3 { between() }
            second()
            return
        }
        forEach(count) { i in
            onOneThread {
                if i == 0 { first() } else if i == count - 1 { second() } else { between() }
            }
        }
    }

    /// The threads a kernel called here may split its work between: `threads`, or 1 inside `both`
    /// (where the other thread runs the other piece).
    public static var threadsHere: Int { insideBoth ? 1 : threads }

    /// Whether the current thread is running a piece of `both` (a thread-specific flag).
    static var insideBoth: Bool { pthread_getspecific(BothFlag.key) != nil }

    /// Runs `body` with `insideBoth` set on this thread, restoring it after.
    static func onOneThread(_ body: () -> Void) {
        let old = pthread_getspecific(BothFlag.key)
        pthread_setspecific(BothFlag.key, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(BothFlag.key, old)
    }
}

/// The thread-specific key behind `Parallel.insideBoth`, made once.
private enum BothFlag {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
