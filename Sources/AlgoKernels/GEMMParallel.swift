// Splitting one SGEMM between threads: by blocks of C, never along k.
import Synchronization

extension GEMM {
    /// Computes `problem` on `threads` threads in one dispatch to the pool. C is cut along M when
    /// M ≥ N (else along N) into parts of whole tiles (`split`). The operand every part needs in
    /// full (B when cutting M, A when cutting N) is packed whole by each thread into its own
    /// buffer; then the threads claim parts of C from an atomic counter until none is left (a
    /// thread slowed by another process simply takes fewer). Packing per thread repeats a cheap
    /// copy but keeps each thread's packed operand in its own core's cache: packed once and
    /// shared, half of it was written by the other core and crossed between the caches on every
    /// call (measured interleaved: 4–7 points of the two-core peak slower on 256³, 384³,
    /// 384×384·384×256, 256×64·64×256 and 65×384·384×256; the same on 1024² and
    /// 1152×384·384×256). No thread waits for another, so this is correct
    /// even when `Parallel.forEach` runs the bodies one after another. Every element of C is
    /// computed by the same arithmetic as on one thread, so the result is bit-identical for every
    /// thread count.
    static func runParallel(_ problem: Problem, m: Int, n: Int, threads: Int) {
        var problem = problem
        let k = problem.k, kc = min(problem.blocking.kc, k)
        let byRows = m >= n
        if byRows { problem.nPad = (n + nr - 1) / nr * nr } else { problem.mPad = problem.edgeFrom }
        let parts = split(m: m, n: n, byRows: byRows, threads: threads, blocking: problem.blocking)
        let nextPart = Progress()
        let final = problem
        Parallel.forEach(threads) { _ in
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
            while true {
                let p = nextPart.counter.wrappingAdd(1, ordering: .relaxed).oldValue
                if p >= parts.count { break }
                own.run(rows: parts[p].rows, cols: parts[p].cols)
            }
        }
    }

    /// The next part of C to claim, shared by the threads of one parallel call.
    final class Progress: Sendable {
        let counter = Atomic<Int>(0)
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
    /// differ by at most one, so that threads running at the same speed finish together.
    static func split(m: Int, n: Int, byRows: Bool, threads: Int, blocking: Blocking) -> [Part] {
        let (extent, tile, cap) = byRows ? (m, mr, blocking.mc) : (n, nr, blocking.nc)
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
