// Splitting one SGEMM between threads: by blocks of C, never along k.
import Synchronization

extension GEMM {
    /// Computes `problem` on `threads` threads in one dispatch to the pool. C is cut along N, or
    /// along M where `cutsRows` says so, into parts of whole tiles (`split`). The operand every part
    /// needs in full (A when cutting N, B when cutting M) is packed whole by each thread into its own
    /// buffer; then the threads claim parts of C from an atomic counter until none is left (a
    /// thread slowed by another process simply takes fewer). Packing per thread repeats a cheap
    /// copy but keeps each thread's packed operand in its own core's cache: packed once and
    /// shared, half of it was written by the other core and crossed between the caches on every
    /// call (measured interleaved on Zen 3: 4–7 points of the two-core peak slower on 256³, 384³,
    /// 384×384·384×256, 256×64·64×256 and 65×384·384×256; the same on 1024² and
    /// 1152×384·384×256; on Zen 4, 2026-12-07, 1024² with B packed once in chunks claimed by
    /// either thread: packing took each thread 1.4 ms instead of 0.55 ms for the whole of B, since
    /// every line it wrote had been read by the other core in the previous call). No thread waits
    /// for another, so this is correct even when `Parallel.forEach` runs the bodies one after
    /// another. Every element of C is computed by the same arithmetic as on one thread, so the
    /// result is bit-identical for every thread count.
    static func runParallel(_ problem: Problem, m: Int, n: Int, threads: Int) {
        var problem = problem
        let k = problem.k, kc = min(problem.blocking.kc, k)
        let byRows = cutsRows(m: m, n: n, k: k, threads: threads)
        if byRows { problem.nPad = (n + nr - 1) / nr * nr } else { problem.mPad = problem.edgeFrom }
        let parts = split(m: m, n: n, byRows: byRows, threads: threads, blocking: problem.blocking,
                          pairs: problem.unit == .bits512)
        let nextPart = Progress()
        let final = problem
        Parallel.forEach(threads) { slot in
            var own = final
            let packed = Scratch.floats(k * (byRows ? final.nPad : final.mPad), slot: 1)
            var pc = 0
            while pc < k {
                let depth = min(kc, k - pc)
                if byRows {
                    packB(trans: final.transB, b: final.b, ldb: final.ldb, p0: pc, depth: depth, j0: 0, cols: n,
                          dst: packed + pc * final.nPad)
                } else {
                    packA(trans: final.transA, a: final.a, lda: final.lda, i0: 0, rows: final.edgeFrom, p0: pc, depth: depth,
                          dst: packed + pc * final.mPad)
                }
                pc += depth
            }
            if byRows { own.sharedB = UnsafePointer(packed) } else { own.sharedA = UnsafePointer(packed) }
            // Slot 0 (the caller, which claims the pool's items from the front) takes parts from the
            // front, slot 1 (the first helper) from the back: on two threads each computes one end
            // of C, the same end as in the element-wise passes around it (`Parallel.forEach`).
            while let p = nextPart.claim(of: parts.count, fromBack: slot % 2 == 1) {
                own.run(rows: parts[p].rows, cols: parts[p].cols)
            }
        }
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
