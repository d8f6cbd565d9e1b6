import Completion
import Foundation
import Testing
@testable import Playground

/// The whole pipeline on the tiny random early-exit model (gibberish text, real plumbing):
/// the script runner types, waits for the background worker, and the suggestion carries exit
/// layers, FLOPs and prefix-cache reuse.
@Suite struct RealModelTests {
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../EarlyExitTests/Resources/ee-shared").standardized

    func session(policy: PolicyKnobs.Kind) throws -> (PlaygroundSession, MemoryScreen) {
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

    @Test func cancellationStopsTheWorkerPromptly() throws {
        let (session, _) = try session(policy: .full)
        defer { session.shutdown() }
        _ = session.handle(.ctrlSpace, now: monotonicSeconds())
        // An unrelated key cancels at once; no stale tokens arrive afterwards.
        _ = session.handle(.character("Q"), now: monotonicSeconds())
        #expect(session.suggestion == nil)
        Thread.sleep(forTimeInterval: 0.2)
        session.receive(session.drainWorker(), now: monotonicSeconds())
        #expect(session.suggestion == nil)
    }
}
