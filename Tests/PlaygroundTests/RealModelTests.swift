import Completion
import EarlyExit
import Foundation
import TestSupport
import Testing
@testable import Playground

/// The whole pipeline on the tiny random early-exit model (gibberish text, real plumbing):
/// the script runner types, waits for the background worker, and the suggestion carries exit
/// layers, FLOPs and prefix-cache reuse.
@Suite struct RealModelTests {
    static let modelDirectory = EarlyExitFixtures.directory("ee-shared")

    func session(policy: PolicyConfiguration) throws -> (PlaygroundSession, MemoryScreen) {
        let model = try LanguageModel.load(directory: Self.modelDirectory)
        let worker = CompletionWorker(engine: Completer(model: model)) {}
        var options = PlaygroundOptions()
        options.stableTimings = true
        options.maxTokens = 8
        let session = PlaygroundSession(buffer: EditorBuffer(text: "def add(a, b):\n"), path: nil, model: ModelInfo(model: model),
                                        worker: worker, options: options, policy: policy)
        return (session, MemoryScreen(width: 120, height: 30))
    }

    @Test func fixedPolicyGhostTokensExitAtK() throws {
        let (session, screen) = try session(policy: .fixed)
        defer { session.shutdown() }
        try ScriptRunner(session: session, screen: screen, dumpDirectory: nil).run("""
            key Down
            type     return
            wait model
            """)
        let s = try #require(session.suggestion)
        #expect(s.tokens.count == 8)
        // The first token comes from the full-depth prefill; the rest exit at k = L/2 = 3.
        #expect(s.tokens.map(\.trace.exitLayer) == [6] + Array(repeating: 3, count: 7))
        #expect(s.result?.flops ?? 0 < s.result?.fullFlops ?? 0)
        #expect(screen.text.contains("Exit layers"))
        // Asking again from the same place reuses the prompt's keys and values.
        _ = session.handle(.ctrlSpace, now: monotonicSeconds())
        _ = session.waitForModel(timeout: 60, now: monotonicSeconds)
        #expect((session.suggestion?.result?.reusedPromptTokens ?? 0) > 0)
    }

    /// Cancellation must reach the running completion, not just hide its tokens: the engine
    /// holds the first token until the key that cancels has been pressed, and the completion must
    /// then end with `CompletionCancelled` instead of running to `maxTokens`.
    @Test func cancellationStopsTheWorkerPromptly() throws {
        let model = try LanguageModel.load(directory: Self.modelDirectory)
        let engine = GatedEngine(Completer(model: model))
        defer { engine.release() }
        let worker = CompletionWorker(engine: engine) {}
        var options = PlaygroundOptions()
        options.maxTokens = 32
        let session = PlaygroundSession(buffer: EditorBuffer(text: "def add(a, b):\n"), path: nil, model: ModelInfo(model: model),
                                        worker: worker, options: options, policy: .full)
        defer { session.shutdown() }
        _ = session.handle(.ctrlSpace, now: monotonicSeconds())
        #expect(engine.waitForFirstToken(timeout: 60))
        // An unrelated key cancels; the completion is then let go.
        _ = session.handle(.character("Q"), now: monotonicSeconds())
        #expect(session.suggestion == nil)
        engine.release()
        #expect(worker.waitUntilIdle(timeout: 60))
        #expect(engine.outcome == .cancelled)
        #expect(engine.tokensProduced < options.maxTokens, "the completion ran on after it was cancelled")
        // The worker says so, and sends no token after the cancelling key.
        let events = worker.drain()
        #expect(events.count == 2, "\(events)")
        if case .token = events.first {} else { Issue.record("first event: \(String(describing: events.first))") }
        if case .cancelled = events.last {} else { Issue.record("last event: \(String(describing: events.last))") }
    }
}

/// A real `Completer` that records how each completion ended and holds its first token until
/// `release()`, so a test can act while a completion is certainly in flight.
final class GatedEngine: CompletionEngine, @unchecked Sendable {
    // @unchecked: the recorded state is guarded by `lock`; the semaphores are thread-safe.
    enum Outcome: Equatable { case finished, cancelled, failed }

    private let inner: Completer
    private let firstToken = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var produced = 0
    private var ended: Outcome?

    init(_ inner: Completer) { self.inner = inner }

    var tokensProduced: Int { lock.withLock { produced } }
    var outcome: Outcome? { lock.withLock { ended } }

    func waitForFirstToken(timeout: Double) -> Bool { firstToken.wait(timeout: .now() + timeout) == .success }
    /// Lets the held completion go on (idempotent enough for a `defer`: an extra signal is unused).
    func release() { gate.signal() }

    func complete(_ request: CompletionRequest, onToken: (GeneratedToken) -> Void) throws -> CompletionResult {
        do {
            let result = try inner.complete(request) { token in
                let n = lock.withLock { produced += 1; return produced }
                onToken(token)
                if n == 1 { firstToken.signal(); gate.wait() }
            }
            lock.withLock { ended = .finished }
            return result
        } catch let cancelled as CompletionCancelled {
            lock.withLock { ended = .cancelled }
            throw cancelled
        } catch {
            lock.withLock { ended = .failed }
            throw error
        }
    }
}

/// The layer grid's teacher-forced pass on the tiny early-exit model, against the per-layer top-1
/// that token-by-token full-depth decoding recorded for the same tokens (the inspector's trace):
/// a batched prefill and single steps must rank the same token first at every head.
@Suite struct LayerGridRealModelTests {
    @Test func teacherForcedGridEqualsTheDecodersTrace() throws {
        let model = try LanguageModel.load(directory: RealModelTests.modelDirectory)
        let completer = Completer(model: model)
        let L = model.network.shape.layerCount
        let result = try completer.complete(CompletionRequest(prompt: "def add(a, b):\n    return", maxTokens: 10, traceTopK: 1))
        #expect(result.tokens.count == 10)
        let recorded = try #require(LayerGrid.recorded(result.tokens, layerCount: L))
        let grid = try completer.layerGrid(LayerGridRequest(promptIDs: result.promptTokenIDs, tokens: result.tokens.map(\.id)),
                                           cancellation: nil)
        #expect(grid.source == .teacherForced)
        #expect(grid.layers == recorded.layers)
        #expect(grid.layers == Array(1...L), "ee-shared has a head after every layer")
        #expect(grid.top1 == recorded.top1)
        // Greedy full depth: the last layer's top-1 is the token itself.
        #expect(grid.top1.map { $0.last } == result.tokens.map(\.id))
    }

    /// Under an early-exit policy the grid still covers every layer, and its first column (the
    /// prompt pass, full depth) predicts the first token at the last layer.
    @Test func gridOfAnEarlyExitSuggestion() throws {
        let model = try LanguageModel.load(directory: RealModelTests.modelDirectory)
        let completer = Completer(model: model)
        let L = model.network.shape.layerCount
        let request = try CompletionRequest(prompt: "x = 1\n", maxTokens: 6, configuration: .fixed, layerCount: L)
        let result = try completer.complete(request)
        #expect(LayerGrid.recorded(result.tokens, layerCount: L) == nil)
        let grid = try completer.layerGrid(LayerGridRequest(promptIDs: result.promptTokenIDs, tokens: result.tokens.map(\.id)),
                                           cancellation: nil)
        #expect(grid.top1.count == result.tokens.count)
        #expect(grid.top1.allSatisfy { $0.count == L })
        #expect(grid.top1.first?.last == result.tokens.first?.id)
        let cancelled = CancellationFlag()
        cancelled.cancel()
        #expect(throws: (any Error).self) {
            try completer.layerGrid(LayerGridRequest(promptIDs: result.promptTokenIDs, tokens: result.tokens.map(\.id)), cancellation: cancelled)
        }
    }
}

/// The file goes into the prefix cache in the background when it opens.
@Suite struct BackgroundPrefillTests {
    func session(text: String, prefill: Bool = true) throws -> PlaygroundSession {
        let model = try LanguageModel.load(directory: RealModelTests.modelDirectory)
        let worker = CompletionWorker(engine: Completer(model: model)) {}
        var options = PlaygroundOptions()
        options.maxTokens = 4
        options.prefillInBackground = prefill
        return PlaygroundSession(buffer: EditorBuffer(text: text), path: nil, model: ModelInfo(model: model),
                                 worker: worker, options: options, policy: .full)
    }

    @Test func theFirstRequestReusesThePrefilledFile() throws {
        let text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
        let session = try session(text: text)
        defer { session.shutdown() }
        session.startBackgroundPrefill()
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        let p = try #require(session.prefill)
        #expect(p.finished && p.fill != nil && p.done == p.total && p.total > 10)
        // A request in the middle of the file runs only its last token again.
        _ = session.handle(.down, now: monotonicSeconds())
        _ = session.handle(.end, now: monotonicSeconds())
        session.requestNow(now: monotonicSeconds())
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        let result = try #require(session.suggestion?.result)
        #expect(result.reusedPromptTokens >= result.promptTokenCount - 2, "\(result.reusedPromptTokens)/\(result.promptTokenCount)")
        // Once the suggestion is done, the rest of the file is filled again.
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        #expect(session.prefill?.job != p.job && session.prefill?.finished == true)
    }

    @Test func anEditThatAsksForNothingIsFilledAfterThePause() throws {
        let text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
        let session = try session(text: text)
        defer { session.shutdown() }
        session.startBackgroundPrefill()
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        let first = try #require(session.prefill?.job)
        // Delete (forward) on the first line edits without asking for a suggestion.
        let t = monotonicSeconds()
        _ = session.handle(.delete, now: t)
        #expect(session.debounceDeadline == nil)
        let deadline = try #require(session.idlePrefillDeadline)
        #expect(session.nextDeadline == deadline)
        session.tick(now: deadline - 0.001)
        #expect(session.prefill?.job == first, "no refill before the pause is over")
        session.tick(now: deadline)
        #expect(session.idlePrefillDeadline == nil)
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        #expect(session.prefill?.job != first && session.prefill?.finished == true)
        // A request further down now runs only its last token or two again: without the refill,
        // everything after the edit on line 1 would be run again.
        _ = session.handle(.down, now: monotonicSeconds())
        _ = session.handle(.down, now: monotonicSeconds())
        _ = session.handle(.down, now: monotonicSeconds())
        _ = session.handle(.down, now: monotonicSeconds())
        _ = session.handle(.end, now: monotonicSeconds())
        session.requestNow(now: monotonicSeconds())
        #expect(session.waitForModel(timeout: 30, now: monotonicSeconds))
        let result = try #require(session.suggestion?.result)
        #expect(result.promptTokenCount > 12)
        #expect(result.reusedPromptTokens >= result.promptTokenCount - 2, "\(result.reusedPromptTokens)/\(result.promptTokenCount)")
    }

    @Test func progressShowsInTheStatusLineUntilDone() throws {
        let session = try session(text: "x = 1\n")
        defer { session.shutdown() }
        session.startBackgroundPrefill()
        let job = try #require(session.prefill?.job)
        session.receive([.prefillProgress(job: job, done: 64, total: 1000)], now: 0)
        #expect(session.suggestionStatus.hasPrefix("reading the file into the cache: 64/1000 tokens"))
        session.receive([.prefilled(job: job, PrefixFill(tokens: 1000, reused: 0, seconds: 1))], now: 0)
        #expect(session.suggestionStatus == "type, or Ctrl-Space to ask · F1 keys")
    }

    @Test func offUnlessAsked() throws {
        let session = try session(text: "x = 1\n", prefill: false)
        defer { session.shutdown() }
        session.startBackgroundPrefill()
        #expect(session.prefill == nil)
    }
}
