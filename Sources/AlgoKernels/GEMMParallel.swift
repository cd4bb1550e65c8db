// Splitting one SGEMM between threads: by blocks of C, never along k.
import Synchronization

extension GEMM {
    /// Computes `problem` on `threads` threads. C is cut along N, or along M where `cutsRows` or
    /// `readsSharedBInPlace` says so, into parts of whole tiles (`split`), which the threads claim
    /// from both ends of an atomic counter (`claimParts`) until none is left (a thread slowed by another process simply takes
    /// fewer). Every part needs one operand whole (A when cutting N, B when cutting M):
    /// - from `blocking.sharedPackingFloats` floats on (2 MB, on an L2 of 1 MB or more) it is packed
    ///   once into the caller's buffer, in pieces (k-slices, cut into ranges of panels when there are
    ///   fewer than two per thread) that the threads claim in a first dispatch; the parts follow in a
    ///   second. Measured on Zen 4 (README, "Long k, and packing shared between threads"): each thread
    ///   packing 384×1536 of A whole was 10 % of 384×1536·1536×256 on two threads.
    /// - below it, each thread packs it whole into its own buffer, then claims parts, in one
    ///   dispatch. This repeats a cheap copy but keeps each thread's packed operand in its own core's
    ///   cache: on Zen 3, packed once and shared, half of it was written by the other core and
    ///   crossed between the caches on every call (measured interleaved: 4–7 points of the two-core
    ///   peak slower on 256³, 384³, 384×384·384×256, 256×64·64×256 and 65×384·384×256).
    /// - where `blocking.readsSharedBInPlace` and `readsSharedBInPlace` say so, B is not packed at
    ///   all: C is cut along M and every part reads B in place (its rows are few, `Blocking.inPlaceRows`).
    /// No dispatch waits for another thread, so this is correct when `Parallel.forEach` runs the
    /// bodies one after another. Every element of C is computed by the same arithmetic as on one
    /// thread, so the result is bit-identical for every thread count.
    static func runParallel(_ problem: Problem, m: Int, n: Int, threads: Int) {
        var problem = problem
        let k = problem.k, kc = min(problem.blocking.kc, k)
        let inPlace = problem.blocking.readsSharedBInPlace && readsSharedBInPlace(m: m, n: n, k: k, transB: problem.transB, threads: threads)
        let byRows = inPlace || cutsRows(m: m, n: n, k: k, threads: threads)
        if byRows { problem.nPad = (n + nr - 1) / nr * nr } else { problem.mPad = problem.edgeFrom }
        let size = k * (byRows ? problem.nPad : problem.mPad)
        let sharing = size >= problem.blocking.sharedPackingFloats
        let parts = split(m: m, n: n, byRows: byRows, threads: threads, blocking: problem.blocking,
                          pairs: problem.unit == .bits512)
        let nextPart = Progress()
        /// Claims parts of C until none is left. Slot 0 (the caller, which claims the pool's items from
        /// the front) takes parts from the front, slot 1 (the first helper) from the back: on two
        /// threads each computes one end of C, the same end as in the element-wise passes around it
        /// (`Parallel.forEach`).
        func claimParts(_ own: Problem, slot: Int) {
            while let p = nextPart.claim(of: parts.count, fromBack: slot % 2 == 1) {
                own.run(rows: parts[p].rows, cols: parts[p].cols)
            }
        }
        if inPlace {
            let final = problem
            Parallel.forEach(threads) { claimParts(final, slot: $0) }
            return
        }
        // The shared operand in pieces: k-slice `piece / groups`, its panels' range `piece % groups`.
        let slices = (k + kc - 1) / kc
        let panels = byRows ? problem.nPad / nr : problem.mPad / mr
        let groups = max(1, min(panels, slices >= 2 * threads ? 1 : (2 * threads + slices - 1) / slices))
        let final = problem
        func pack(piece: Int, into packed: UnsafeMutablePointer<Float>) {
            let pc = piece / groups * kc, depth = min(kc, k - pc), g = piece % groups
            let lo = g * panels / groups, hi = (g + 1) * panels / groups
            if byRows {
                packB(trans: final.transB, b: final.b, ldb: final.ldb, p0: pc, depth: depth, j0: lo * nr,
                      cols: min(n, hi * nr) - lo * nr, dst: packed + pc * final.nPad + lo * nr * depth)
            } else {
                packA(trans: final.transA, a: final.a, lda: final.lda, i0: lo * mr, rows: (hi - lo) * mr, p0: pc,
                      depth: depth, dst: packed + pc * final.mPad + lo * mr * depth)
            }
        }
        func using(_ packed: UnsafeMutablePointer<Float>) -> Problem {
            var own = final
            if byRows { own.sharedB = UnsafePointer(packed) } else { own.sharedA = UnsafePointer(packed) }
            return own
        }
        if sharing {
            let packed = Scratch.floats(size, slot: 1)
            Parallel.forEach(slices * groups) { pack(piece: $0, into: packed) }
            let shared = using(packed)
            Parallel.forEach(threads) { claimParts(shared, slot: $0) }
        } else {
            Parallel.forEach(threads) { slot in
                let packed = Scratch.floats(size, slot: 1)
                for piece in 0..<(slices * groups) { pack(piece: piece, into: packed) }
                claimParts(using(packed), slot: slot)
            }
        }
    }

    /// Whether `runParallel` (with `Blocking.readsSharedBInPlace`) cuts C along M and lets every part
    /// read B in place, packing no shared operand: B not transposed (its columns contiguous along k,
    /// as the micro-kernel reads them), op(B) at most 2¹⁹ floats (2 MB: it stays in the L2 or the L3
    /// while every part reads it), M from 32·threads (two 16-row panels per thread) to 512 (parts of
    /// ≤ 64 rows, which read B in place; packing B, even once, is repaid by too few rows), and long
    /// k (> 512). Measured on Zen 4, 2 threads, % of the two-core peak against packing A once (README,
    /// "Long k, and packing shared between threads"): 384×1536·1536×256 C and its dB = Aᵀ·dC
    /// (m = 384, k = 1536, n = 256) and 384×1152·1152×256 dB gained 3–4 points; with k ≤ 384 it was
    /// mixed (384×384·384×256 C better in one run, worse in two), with k = 64 at half speed.
    static func readsSharedBInPlace(m: Int, n: Int, k: Int, transB: Bool, threads: Int) -> Bool {
        !transB && m >= 2 * mr * threads && m <= 512 && k > 512 && k * n <= 1 << 19
    }

    /// Whether `runParallel` cuts C along M (parts of whole 16-row panels, B packed whole by each
    /// thread) rather than along N (parts of 6-column panels, A packed whole by each thread): only
    /// when M ≥ N and N has fewer than `2 · partsPerThread` panels per thread (96 columns on 2
    /// threads: the parts would be 1–2 panels), or op(A) is more than 4 times op(B) (M > 4·N), or
    /// at least twice op(B) and 4 MB or more (M ≥ 2·N, M·k ≥ 2²⁰). Every part streams the whole
    /// packed operand it shares, and each thread packs all of it: when op(A) is much the larger,
    /// that should be op(B).
    ///
    /// Until 2026-12-07 every product with M ≥ N was cut along M. Along N is faster on the squares
    /// and most transformer products on Zen 4: a part's columns of C are contiguous, its packed B
    /// block stays in L2 and A's packed blocks stream past it, where a part of rows writes short
    /// pieces of every column of C (sharing a cache line with the neighbouring part at each end
    /// when C is not 64-byte aligned) and streams the whole packed B past its few rows; with k = 64
    /// the row parts sometimes ran at half speed. Measured on Zen 4 (256-bit kernels, 2 threads,
    /// GFLOP/s median / fastest call, along M → along N): the two cuts alternating call by call in
    /// one process, 1.5 s per shape: 512³ 198/205 → 203/209, 1024² 174/188 → 187/197, 2048² 175/179
    /// → 185/197, 384×256·256×384 dA 207/209 → 215/217, 1536×256·256×384 dA 163/181 → 186/208,
    /// 256×64·64×256 dB = Aᵀ·dC 112/125 → 165/176; narrow N, 256×256·256×64 dA, 153/181 → 148/162.
    /// In `algo bench gemm` runs (before and after alternating; `Sources/AlgoKernels/README.md`,
    /// "Two threads") along N lost 5–15 points of the peak on 1152×384·384×256 C, 1536×384·384×256
    /// C and 384×1536·1536×256 dB = Aᵀ·dC (M = 1152 or 1536 > 4·N), GPT-2's 2304×768·768×1024 and
    /// 1536×2048·2048×384 dA (M ≥ 2·N, op(A) 7 and 12 MB): these stay along M.
    static func cutsRows(m: Int, n: Int, k: Int, threads: Int) -> Bool {
        if m < n { return false }
        let panels = (n + nr - 1) / nr
        return panels < 2 * partsPerThread * threads || m > 4 * n || (m >= 2 * n && m * k >= 1 << 20)
    }

    /// The parts of C not claimed yet, shared by the threads of one parallel call: how many were
    /// taken from the front (low 32 bits) and from the back (high 32 bits).
    final class Progress: Sendable {
        let counter = Atomic<Int>(0)

        /// An unclaimed part of `count`, the first or with `fromBack` the last; nil when none is left.
        func claim(of count: Int, fromBack: Bool) -> Int? {
            var old = counter.load(ordering: .relaxed)
            while true {
                let front = old & 0xFFFF_FFFF, back = old >> 32
                if front + back >= count { return nil }
                let new = fromBack ? old + (1 << 32) : old + 1
                let (exchanged, current) = counter.compareExchange(expected: old, desired: new, ordering: .relaxed)
                if exchanged { return fromBack ? count - 1 - back : front }
                old = current
            }
        }
    }

    /// How many parts of C per thread `split` aims for at least: a thread that finishes early
    /// idles at most about one part. More parts cost little: cutting M, each part packs only its
    /// own rows of A (as one thread would) and reads the packed B once, as every `mc`-row block does.
    static let partsPerThread = 4

    /// One block of C a thread computes on its own.
    struct Part: Sendable { var rows: Range<Int>; var cols: Range<Int> }

    /// Cuts C along M (parts of whole 16-row panels, at most `mc` rows) or along N (whole 6-column
    /// panels, at most `nc` columns) into a multiple of `threads` parts (at least
    /// `partsPerThread · threads`, fewer only when there are fewer panels) whose panel counts
    /// differ by at most one, so that threads running at the same speed finish together. With
    /// `pairs` the tiles are pairs of panels (32 rows or 12 columns), the 512-bit kernels' tiles, so
    /// that only the last part can end in a lone panel (which runs the 16×6 or 16×12 tile).
    static func split(m: Int, n: Int, byRows: Bool, threads: Int, blocking: Blocking, pairs: Bool = false) -> [Part] {
        let (extent, panel, cap) = byRows ? (m, mr, blocking.mc) : (n, nr, blocking.nc)
        let tile = pairs ? 2 * panel : panel
        let tiles = (extent + tile - 1) / tile
        let capTiles = max(1, cap / tile)
        var count = partsPerThread * threads
        while (tiles + count - 1) / count > capTiles { count += threads }
        count = min(count, tiles)
        return (0..<count).map { p in
            let lo = p * tiles / count * tile, hi = min((p + 1) * tiles / count * tile, extent)
            return byRows ? Part(rows: lo..<hi, cols: 0..<n) : Part(rows: 0..<m, cols: lo..<hi)
        }
    }
}
