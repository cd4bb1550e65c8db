import Synchronization

/// A process-wide pool of raw buffers, reused by size class so that a training step does not ask
/// the system allocator for fresh memory for every intermediate.
///
/// Size classes are powers of two of bytes up to 4 KiB (minimum 64 B), quarter octaves above
/// (`sizeClass`); buffers are 64-byte aligned. A `Storage` takes a
/// buffer on creation and gives it back in `deinit`; after one warm-up step the same shapes find
/// their buffers in the pool. Thread-safe (one mutex). Counters let tests measure reuse.
public final class BufferPool: Sendable {
    /// The default pool.
    public static let shared = BufferPool()

    /// The pool new tensors take their memory from: `shared` unless a task overrides it
    /// (`BufferPool.$current.withValue(pool) { … }`, e.g. to count allocations in a test).
    @TaskLocal public static var current: BufferPool = shared

    struct State {
        var free: [Int: [UInt]] = [:]  // addresses (Sendable) by size class
        var freshAllocations = 0
        var reuses = 0
        var pooledBytes = 0
        var liveBytes = 0
        var peakLiveBytes = 0
        var peakHeldBytes = 0
    }
    private let state = Mutex(State())

    /// Free bytes kept at most; beyond that, returned buffers are freed. Pooled memory never exceeds
    /// what was live at once before, so the default only guards against pathological growth.
    public let maxPooledBytes: Int

    /// A pool that keeps at most `maxPooledBytes` in free buffers (default 2 GiB).
    public init(maxPooledBytes: Int = 2 << 30) { self.maxPooledBytes = maxPooledBytes }

    /// The size class of a request: below 4 KiB the smallest power of two ≥ `bytes` (at least 64);
    /// above, the smallest of 2ᵏ·{1, 1.25, 1.5, 1.75} ≥ `bytes`, so a buffer wastes < 25 % (powers
    /// of two alone wasted up to 50 %: a 384×1536 f32 matrix, 2.25 MiB, took 4 MiB).
    static func sizeClass(_ bytes: Int) -> Int {
        var c = 64
        while c < bytes { c <<= 1 }
        guard c > 4096 else { return c }
        var s = c / 2
        while s < bytes { s += c / 8 }
        return s
    }

    /// A buffer of at least `bytes` bytes, 64-byte aligned, contents undefined; and its size class.
    func take(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let c = BufferPool.sizeClass(bytes)
        let reused: UInt? = state.withLock { s in
            s.liveBytes += c
            s.peakLiveBytes = max(s.peakLiveBytes, s.liveBytes)
            if let p = s.free[c]?.popLast() {
                s.reuses += 1
                s.pooledBytes -= c
                return p
            }
            s.freshAllocations += 1
            s.peakHeldBytes = max(s.peakHeldBytes, s.liveBytes + s.pooledBytes)
            return nil
        }
        if let p = reused, let ptr = UnsafeMutableRawPointer(bitPattern: p) { return (ptr, c) }
        return (UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 64), c)
    }

    /// Returns a buffer obtained from `take` (with its size class).
    func give(_ p: UnsafeMutableRawPointer, sizeClass c: Int) {
        let address = UInt(bitPattern: p)
        let limit = maxPooledBytes
        let keep: Bool = state.withLock { s in
            s.liveBytes -= c
            if s.pooledBytes + c <= limit {
                s.free[c, default: []].append(address)
                s.pooledBytes += c
                return true
            }
            return false
        }
        if !keep { p.deallocate() }
    }

    /// Buffers that had to be allocated from the system since the pool was created (or `resetCounters`).
    public var freshAllocations: Int { state.withLock { $0.freshAllocations } }
    /// Requests served from the pool.
    public var reuses: Int { state.withLock { $0.reuses } }
    /// Bytes held in free buffers.
    public var pooledBytes: Int { state.withLock { $0.pooledBytes } }

    /// Bytes (by size class) of buffers taken and not yet given back: the live tensors' memory.
    public var liveBytes: Int { state.withLock { $0.liveBytes } }
    /// `liveBytes + pooledBytes` in one look: all the memory the pool has from the system now.
    public var heldBytes: Int { state.withLock { $0.liveBytes + $0.pooledBytes } }
    /// Highest `liveBytes` since the pool was created (or `resetCounters`).
    public var peakLiveBytes: Int { state.withLock { $0.peakLiveBytes } }
    /// Highest live + pooled bytes since the pool was created (or `resetCounters`): all the memory
    /// the pool has had from the system at once.
    public var peakHeldBytes: Int { state.withLock { $0.peakHeldBytes } }

    /// Zeroes the counters (not the pool); the peaks restart from the current live (and held) bytes.
    public func resetCounters() {
        state.withLock { s in
            s.freshAllocations = 0; s.reuses = 0
            s.peakLiveBytes = s.liveBytes; s.peakHeldBytes = s.liveBytes + s.pooledBytes
        }
    }

    /// Frees every pooled buffer.
    public func drain() {
        let all: [UInt] = state.withLock { s in
            let ps = s.free.values.flatMap { $0 }
            s.free = [:]
            s.pooledBytes = 0
            return ps
        }
        for p in all { UnsafeMutableRawPointer(bitPattern: p)?.deallocate() }
    }
}

/// The memory behind one or more tensors (views share it). Taken from `BufferPool.current` and returned to the same pool.
public final class Storage: @unchecked Sendable {
    /// Start of the buffer.
    public let raw: UnsafeMutableRawPointer
    /// Usable elements.
    public let count: Int
    /// Element type.
    public let dtype: DType
    private let sizeClass: Int
    private let pool: BufferPool

    /// Uninitialised storage for `count` elements of `dtype`, from `BufferPool.current`.
    public init(count: Int, dtype: DType) {
        pool = BufferPool.current
        let (p, c) = pool.take(bytes: max(1, count) * dtype.byteSize)
        raw = p
        sizeClass = c
        self.count = count
        self.dtype = dtype
        switch dtype {
        case .f32: p.bindMemory(to: Float.self, capacity: max(1, count))
        case .f64: p.bindMemory(to: Double.self, capacity: max(1, count))
        }
    }

    deinit { pool.give(raw, sizeClass: sizeClass) }

    /// The buffer as `Float` (dtype must be f32).
    @inline(__always) public var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    /// The buffer as `Double` (dtype must be f64).
    @inline(__always) public var doubles: UnsafeMutablePointer<Double> { raw.assumingMemoryBound(to: Double.self) }
}

