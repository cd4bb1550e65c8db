import Foundation

extension GEMM {
    /// Per-thread packing buffers, 64-byte aligned (so packed panels never straddle cache lines),
    /// kept for the life of the thread: a GEMM call allocates nothing once its threads have
    /// run one of the same size, so small products pay no `malloc`, `mmap` or page faults.
    enum Scratch {
        /// At least `count` floats owned by the calling thread in buffer `slot` (0: a thread's
        /// own packing, 1: operands packed once and shared by all threads of a call), valid until
        /// its next call with that slot. GEMM is not re-entrant on one thread (it calls no user
        /// code), so one buffer per slot suffices.
        static func floats(_ count: Int, slot: Int = 0) -> UnsafeMutablePointer<Float> {
            let key = keys[slot]
            if let raw = pthread_getspecific(key) {
                let header = raw.assumingMemoryBound(to: Int.self)
                if header[0] >= count { return (raw + 64).assumingMemoryBound(to: Float.self) }
                free(raw)
            }
            let capacity = max(count, 1 << 16)
            var raw: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&raw, 64, 64 + capacity * MemoryLayout<Float>.stride) == 0, let raw else {
                fatalError("GEMM: out of memory for \(capacity) floats of packing buffer")
            }
            raw.assumingMemoryBound(to: Int.self)[0] = capacity
            pthread_setspecific(key, raw)
            return (raw + 64).assumingMemoryBound(to: Float.self)
        }

        /// Frees the calling thread's buffers (the next call allocates anew): a benchmark's warm-up
        /// run on one thread gives its packing memory back before a baseline is taken.
        static func releaseCallingThread() {
            for key in keys {
                free(pthread_getspecific(key))
                pthread_setspecific(key, nil)
            }
        }

        /// The thread-specific slots; their destructor frees a thread's buffers when the thread ends.
        static let keys: [pthread_key_t] = (0..<2).map { _ in
            var key = pthread_key_t()
            pthread_key_create(&key) { raw in free(raw) }
            return key
        }
    }

    /// Frees the calling thread's packing buffers (`Scratch`); other threads keep theirs. Call it
    /// between GEMM calls, not during one.
    public static func releaseScratch() { Scratch.releaseCallingThread() }
}
