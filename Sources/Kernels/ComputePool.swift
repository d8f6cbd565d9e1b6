import Dispatch
import Foundation
import Synchronization

/// A tiny fork-join pool for splitting one kernel call across cores.
///
/// Decoding one token issues ~50 kernel calls of ~10–50 µs each, so a
/// per-call dispatch cost of several microseconds (as with
/// `DispatchQueue.concurrentPerform`) would eat much of the gain. Workers
/// here spin briefly on an atomic generation counter for the next job and
/// only then sleep, so back-to-back calls hand over in well under a
/// microsecond while an idle pool costs no CPU.
public final class ComputePool: Sendable {
    /// Number of threads that share a job, the caller included.
    public let threadCount: Int
    private let state: State
    private let runLock = Mutex<Void>(())

    /// A pool that runs everything on the calling thread.
    public static let serial = ComputePool(threads: 1)

    /// Creates a pool with `threads` participants (the caller plus `threads − 1` workers).
    public init(threads: Int) {
        threadCount = max(1, threads)
        state = State(workers: threadCount - 1)
        for index in 1..<max(1, threadCount) {
            let state = self.state
            let thread = Thread { state.workerLoop(index: index) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(i)` for every participant `i` in `0..<threadCount` and returns when all are done.
    /// The caller runs `body(0)` itself.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        runLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in state.run(escapable) }
        }
    }

    /// Splits `0..<count` into one contiguous chunk per participant (multiples of `granularity`)
    /// and runs `body` on each non-empty chunk.
    public func parallelFor(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let units = (count + granularity - 1) / granularity
        let parts = min(threadCount, units)
        if parts <= 1 { if count > 0 { body(0..<count) }; return }
        run { index in
            guard index < parts else { return }
            let lo = units * index / parts * granularity
            let hi = min(count, units * (index + 1) / parts * granularity)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Shared between the pool and its worker threads; outlives the pool until the workers exit.
private final class State: @unchecked Sendable {
    // @unchecked: `job` is written by the caller before it bumps `generation`
    // and read by workers after they observe the bump (sequentially consistent
    // atomics order the accesses); `run` is serialised by the pool's lock.
    let generation = Atomic<Int>(0)
    let remaining = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    var job: ((Int) -> Void)?
    let slots: [Slot]

    /// One worker's parking place.
    final class Slot: Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    init(workers: Int) {
        slots = (0..<workers).map { _ in Slot() }
    }

    func run(_ body: @escaping (Int) -> Void) {
        job = body
        remaining.store(slots.count, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        for slot in slots where slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            slot.wake.signal()
        }
        body(0)
        while remaining.load(ordering: .sequentiallyConsistent) > 0 {}
        job = nil
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        for slot in slots { slot.wake.signal() }
    }

    func workerLoop(index: Int) {
        let slot = slots[index - 1]
        // Generation 0 is "no job yet". Reading the counter here instead would race with
        // a `run` that starts before this thread does, and that job would never be seen.
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .sequentiallyConsistent)
            // Spin for roughly 100 µs before sleeping: long enough to bridge the gaps
            // between kernels of one token, short enough not to burn a core while
            // the user is typing.
            while current == seen {
                spins += 1
                if spins > 100_000 {
                    slot.sleeping.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen { slot.wake.wait() }
                    slot.sleeping.store(false, ordering: .sequentiallyConsistent)
                    spins = 0
                }
                current = generation.load(ordering: .sequentiallyConsistent)
            }
            seen = current
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            job?(index)
            remaining.subtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
