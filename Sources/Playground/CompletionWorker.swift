import Completion
import Foundation

/// Something that completes a request token by token: `Completer` in production, a scripted
/// fake in tests.
public protocol CompletionEngine: AnyObject, Sendable {
    func complete(_ request: CompletionRequest, onToken: (GeneratedToken) -> Void) throws -> CompletionResult
    /// Every head's top-1 for a fixed continuation of a prompt (the layer × token grid, F9).
    func layerGrid(_ request: LayerGridRequest, cancellation: CancellationFlag?) throws -> LayerGrid
    /// Fills the prefix cache with `text` ahead of requests (`Completer.prefill`).
    func prefill(_ text: String, reservingTokens: Int, chunkSize: Int, cancellation: CancellationFlag?,
                 progress: (Int, Int) -> Void) throws -> PrefixFill
}

extension CompletionEngine {
    public func layerGrid(_ request: LayerGridRequest, cancellation: CancellationFlag?) throws -> LayerGrid {
        throw LayerGridUnavailable()
    }

    /// An engine without a prefix cache has nothing to fill.
    public func prefill(_ text: String, reservingTokens: Int, chunkSize: Int, cancellation: CancellationFlag?,
                        progress: (Int, Int) -> Void) throws -> PrefixFill {
        PrefixFill(tokens: 0, reused: 0, seconds: 0)
    }
}

/// An engine that cannot run the teacher-forced pass (a test double) says so on the grid.
public struct LayerGridUnavailable: Error, CustomStringConvertible {
    public var description: String { "this engine computes no layer grid" }
}

extension Completer: CompletionEngine {}

/// What the worker runs: a completion, or the full-depth pass behind the layer grid.
public enum WorkerJob: Sendable {
    case completion(CompletionRequest)
    case layerGrid(LayerGridRequest)
    /// A prefill of text into the prefix cache (a file just opened), keeping `reservingTokens`
    /// of the context for the completion.
    case prefill(text: String, reservingTokens: Int)
}

/// What the worker reports back to the UI loop, tagged with the job it belongs to.
public enum WorkerEvent: Sendable {
    case token(job: Int, GeneratedToken)
    case finished(job: Int, CompletionResult)
    case failed(job: Int, String)
    case cancelled(job: Int)
    case grid(job: Int, LayerGrid)
    /// A background prefill's progress: tokens cached of those wanted.
    case prefillProgress(job: Int, done: Int, total: Int)
    /// A background prefill finished (a cancelled one posts `cancelled`).
    case prefilled(job: Int, PrefixFill)

    public var job: Int {
        switch self {
        case .token(let j, _), .finished(let j, _), .failed(let j, _), .cancelled(let j), .grid(let j, _),
             .prefillProgress(let j, _, _), .prefilled(let j, _): return j
        }
    }
}

/// The one background thread that runs completions, so the UI never waits on the model.
///
/// Submitting a job cancels the one in flight (through its `CancellationFlag`, polled between
/// blocks) and replaces any queued one: only the newest request matters to an editor. A job
/// queued behind (`cancelRunning: false`) lets the one in flight finish first: the comparison's
/// `full` run must not cut the ghost it is compared with short. Events
/// are queued and `wake` is called so the UI loop's `poll` returns. Background prefills (a file
/// just opened) are jobs too: a request cancels one at its next chunk and reuses what it filled.
public final class CompletionWorker: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition`.
    private let engine: any CompletionEngine
    private let wake: @Sendable () -> Void
    private let condition = NSCondition()
    private var queued: (job: Int, work: WorkerJob)?
    private var inFlight: (job: Int, flag: CancellationFlag)?
    private var events: [WorkerEvent] = []
    private var shuttingDown = false
    private var thread: Thread?

    public init(engine: any CompletionEngine, wake: @escaping @Sendable () -> Void) {
        self.engine = engine
        self.wake = wake
        let thread = Thread { [weak self] in self?.run() }
        thread.name = "exitlens-completion"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queue `request` as `job`, cancelling whatever is running.
    public func submit(job: Int, request: CompletionRequest) {
        submit(job: job, work: .completion(request))
    }

    /// Queue `work` as `job`, replacing any queued job; the one running is cancelled unless
    /// `cancelRunning` is false, when `work` waits for it to end.
    public func submit(job: Int, work: WorkerJob, cancelRunning: Bool = true) {
        condition.lock()
        if cancelRunning { inFlight?.flag.cancel() }
        queued = (job, work)
        condition.signal()
        condition.unlock()
    }

    /// Queue a prefill of `text` into the engine's prefix cache as `job` (keeping `reservingTokens`
    /// of the context for the completion), cancelling whatever is running.
    public func submitPrefill(job: Int, text: String, reservingTokens: Int) {
        submit(job: job, work: .prefill(text: text, reservingTokens: reservingTokens))
    }

    /// Cancel `job` alone, running or queued (closing the comparison leaves the ghost streaming).
    public func cancel(job: Int) {
        condition.lock()
        if inFlight?.job == job { inFlight?.flag.cancel() }
        if queued?.job == job { queued = nil }
        condition.unlock()
    }

    /// Cancel the running job and drop the queued one (a keystroke that invalidates them).
    public func cancelAll() {
        condition.lock()
        inFlight?.flag.cancel()
        queued = nil
        condition.unlock()
    }

    /// True while a job runs or waits.
    public var isBusy: Bool {
        condition.lock(); defer { condition.unlock() }
        return inFlight != nil || queued != nil
    }

    /// Take the events that arrived since the last call.
    public func drain() -> [WorkerEvent] {
        condition.lock(); defer { condition.unlock() }
        let out = events
        events.removeAll()
        return out
    }

    /// Blocks until no job is running or queued and returns the events (for `--script`'s waits).
    public func waitUntilIdle(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while inFlight != nil || queued != nil {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    public func shutdown() {
        condition.lock()
        shuttingDown = true
        inFlight?.flag.cancel()
        queued = nil
        condition.broadcast()
        condition.unlock()
    }

    private func post(_ event: WorkerEvent) {
        condition.lock()
        events.append(event)
        condition.unlock()
        wake()
    }

    private func run() {
        while true {
            condition.lock()
            while queued == nil && !shuttingDown { condition.wait() }
            if shuttingDown { condition.unlock(); return }
            guard let (job, work) = queued else { condition.unlock(); continue }
            queued = nil
            let flag = CancellationFlag()
            inFlight = (job, flag)
            condition.unlock()

            do {
                switch work {
                case .completion(var request):
                    request.cancellation = flag
                    let result = try engine.complete(request) { token in
                        if !flag.isCancelled { self.post(.token(job: job, token)) }
                    }
                    post(flag.isCancelled ? .cancelled(job: job) : .finished(job: job, result))
                case .layerGrid(let request):
                    let grid = try engine.layerGrid(request, cancellation: flag)
                    post(flag.isCancelled ? .cancelled(job: job) : .grid(job: job, grid))
                case .prefill(let text, let reserving):
                    // Chunks of 8 tokens: a request waits at most one chunk for the cancellation to
                    // take; progress is posted every 64 tokens, so the screen is not redrawn per chunk.
                    var posted = -64
                    let fill = try engine.prefill(text, reservingTokens: reserving, chunkSize: 8, cancellation: flag) { done, total in
                        guard !flag.isCancelled, done - posted >= 64 || done == total else { return }
                        posted = done
                        self.post(.prefillProgress(job: job, done: done, total: total))
                    }
                    post(flag.isCancelled ? .cancelled(job: job) : .prefilled(job: job, fill))
                }
            } catch is CompletionCancelled {
                post(.cancelled(job: job))
            } catch {
                // An engine may report cancellation with its own error.
                post(flag.isCancelled ? .cancelled(job: job) : .failed(job: job, "\(error)"))
            }
            condition.lock()
            inFlight = nil
            condition.broadcast()
            condition.unlock()
        }
    }
}
