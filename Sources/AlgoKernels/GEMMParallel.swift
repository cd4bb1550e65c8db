// Splitting one SGEMM between threads: by blocks of C, never along k.

extension GEMM {
    /// Computes `problem` on `threads` threads. C is cut along M when M ≥ N (else along N) into
    /// about four parts per thread, on tile boundaries, handed out dynamically (a thread slowed by
    /// another process simply takes fewer parts). The operand every part needs in full (B when
    /// cutting M, A when cutting N) is packed once, by all threads, before the parts run; each
    /// part packs only its own blocks of the other. Every element of C is computed by the same
    /// arithmetic as on one thread, so the result is bit-identical for every thread count.
    static func runParallel(_ problem: Problem, m: Int, n: Int, threads: Int) {
        var problem = problem
        let blocking = problem.blocking, k = problem.k
        let byRows = m >= n
        let kc = min(blocking.kc, k)
        let slices = (k + kc - 1) / kc
        if byRows {
            problem.nPad = (n + nr - 1) / nr * nr
            let shared = Scratch.floats(k * problem.nPad, slot: 1)
            packShared(panels: problem.nPad / nr, slices: slices) { slice, first, end in
                let pc = slice * kc, depth = min(kc, k - pc)
                packB(trans: problem.transB, b: problem.b, ldb: problem.ldb, p0: pc, depth: depth, j0: first * nr,
                      cols: min(end * nr, n) - first * nr, dst: shared + pc * problem.nPad + first * nr * depth)
            }
            problem.sharedB = UnsafePointer(shared)
        } else {
            problem.mPad = (m + mr - 1) / mr * mr
            let shared = Scratch.floats(k * problem.mPad, slot: 1)
            packShared(panels: problem.mPad / mr, slices: slices) { slice, first, end in
                let pc = slice * kc, depth = min(kc, k - pc)
                packA(trans: problem.transA, a: problem.a, lda: problem.lda, i0: first * mr,
                      rows: min(end * mr, m) - first * mr, p0: pc, depth: depth,
                      dst: shared + pc * problem.mPad + first * mr * depth)
            }
            problem.sharedA = UnsafePointer(shared)
        }
        let parts = split(m: m, n: n, byRows: byRows, threads: threads, blocking: blocking)
        let final = problem
        Parallel.forEach(parts.count) { t in final.run(rows: parts[t].rows, cols: parts[t].cols) }
    }

    /// Packs a shared operand in parallel: `pack(slice, firstPanel, endPanel)` for every k-slice
    /// and every group of 8 panels (disjoint regions of the buffer).
    static func packShared(panels: Int, slices: Int, _ pack: (Int, Int, Int) -> Void) {
        let group = 8
        let groups = (panels + group - 1) / group
        Parallel.forEach(slices * groups) { job in
            let slice = job / groups, first = job % groups * group
            pack(slice, first, min(first + group, panels))
        }
    }

    /// How many parts of C per thread `split` aims for: more balance the load better at the end
    /// of a call (a thread idles at most one part) but repeat more B-panel loads.
    static let partsPerThread = 4

    /// One block of C a thread computes on its own.
    struct Part: Sendable { var rows: Range<Int>; var cols: Range<Int> }

    /// Cuts C along M (parts a multiple of 16 rows, at most `mc`) or along N (a multiple of 6
    /// columns, at most `nc`) into about `4 · threads` parts.
    static func split(m: Int, n: Int, byRows: Bool, threads: Int, blocking: Blocking) -> [Part] {
        let (extent, tile, cap) = byRows ? (m, mr, blocking.mc) : (n, nr, blocking.nc)
        let wanted = (extent + partsPerThread * threads - 1) / (partsPerThread * threads)
        let size = min(max(tile, (wanted + tile - 1) / tile * tile), cap)
        return stride(from: 0, to: extent, by: size).map { lo in
            let hi = min(lo + size, extent)
            return byRows ? Part(rows: lo..<hi, cols: 0..<n) : Part(rows: 0..<m, cols: lo..<hi)
        }
    }
}
