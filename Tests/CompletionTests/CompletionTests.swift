import Completion
import EarlyExit
import Foundation
import Model
import TestSupport
import Testing

/// The early-exit paths as `exitlens complete` drives them.
@Suite struct CompletionPolicyTests {
    static func load(_ name: String) throws -> LanguageModel {
        try LanguageModel.load(directory: EarlyExitFixtures.directory(name))
    }

    @Test(arguments: EarlyExitFixtures.names)
    func stopNeverFiresOnTheFirstToken(name: String) throws {
        let completer = Completer(model: try Self.load(name))
        var stops = 0
        for prompt in try EarlyExitFixtures.expected(name).0.prompts {
            // τ_stop = 0: stop whenever the controller's argmax says so.
            let r = try completer.complete(CompletionRequest(prompt: prompt.text, maxTokens: 8, stopAtEndOfText: false,
                                                             policy: SECPolicy(tauExit: 2, tauStop: 0)))
            #expect(!r.tokens.isEmpty, "the first token must come from the full-depth prompt pass")
            if r.finishReason == .stopped {
                stops += 1
                let stop = try #require(r.stop)
                #expect(stop.stopped && stop.token == nil && stop.stopProbability != nil)
            }
        }
        #expect(stops > 0, "τ_stop = 0 should stop some completion on this fixture")
    }

    @Test func speculativeCompletionEqualsFull() throws {
        let completer = Completer(model: try Self.load("ee-shared"))
        for prompt in try EarlyExitFixtures.expected("ee-shared").0.prompts {
            let full = try completer.complete(CompletionRequest(prompt: prompt.text, maxTokens: 20, stopAtEndOfText: false))
            let spec = try completer.complete(CompletionRequest(
                prompt: prompt.text, maxTokens: 20, stopAtEndOfText: false,
                speculative: SpeculativeOptions(draftPolicy: FixedLayerPolicy(layer: 2), draftLength: 3)))
            #expect(spec.text == full.text && spec.tokens.map(\.id) == full.tokens.map(\.id))
            #expect(spec.draftAcceptance != nil)
        }
    }

    /// `--max-tokens 0` asks for nothing: no token, whatever the policy (it used to print one).
    @Test(arguments: ["full", "sec", "fixed", "speculative"])
    func zeroMaxTokensGivesNoToken(spec: String) throws {
        let model = try Self.load("ee-shared")
        let request = try CompletionRequest(prompt: "def get_value(self", maxTokens: 0,
                                            configuration: PolicyConfiguration(parsing: spec), layerCount: model.network.shape.layerCount)
        let r = try Completer(model: model).complete(request)
        #expect(r.tokens.isEmpty && r.text.isEmpty && r.finishReason == .maxTokens, "\(spec): \(r.tokens.map(\.id))")
    }

    /// With top-k tracing (the playground's inspector) the first token, which comes from the
    /// prefill, gets per-layer top-k too: every layer, the last one's top-1 being the token itself,
    /// and the completion is the same as without tracing.
    @Test func firstTokenHasPerLayerTopTokensWhenTraced() throws {
        let model = try Self.load("ee-shared")
        let L = model.network.shape.layerCount
        let completer = Completer(model: model)
        let plain = try completer.complete(CompletionRequest(prompt: "def get_value(self", maxTokens: 6, stopAtEndOfText: false))
        let traced = try completer.complete(CompletionRequest(prompt: "def get_value(self", maxTokens: 6, stopAtEndOfText: false, traceTopK: 3))
        #expect(traced.tokens.map(\.id) == plain.tokens.map(\.id))
        let first = try #require(traced.tokens.first)
        #expect(first.trace.layers.map(\.layer) == Array(1...L))
        #expect(first.trace.layers.last?.topTokens?.first?.id == first.id)
        #expect(plain.tokens.first?.trace.layers.isEmpty == true)
    }

    @Test func impossiblePoliciesAreRefused() throws {
        let completer = Completer(model: try Self.load("ee-shared"))
        #expect(throws: ModelError.self) {
            try completer.complete(CompletionRequest(prompt: "x", policy: FixedLayerPolicy(layer: 0)))
        }
    }
}

/// Speculative decoding on the shipped default model, when the repository has one.
@Suite struct DefaultModelSpeculativeTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/default")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: directory.appendingPathComponent("exits.safetensors").path)))
    func speculativeEqualsFullGreedyOnTheDefaultModel() throws {
        let model = try LanguageModel.load(directory: Self.directory, threads: 2)
        let network = model.network, L = network.shape.layerCount
        var rng = SeededRandom(seed: 11)
        var firstRejected = 0, allAccepted = 0
        for index in 0..<200 {
            let n = 4 + Int(rng.next() % 60)
            let prompt = (0..<n).map { _ in Int(rng.next() % UInt64(network.shape.vocabularySize)) }
            let reference = try EarlyExitFixtures.fullGreedy(network, prompt: prompt, count: 8)
            let spec = Generator(model: model.earlyExit, strategy: .speculative(draft: .earlyExit(FixedLayerPolicy(layer: [2, L / 2, L - 2][index % 3])), draftLength: 4))
            let out = try spec.generate(prompt: prompt, cache: network.makeCache(), maxTokens: 8, stopToken: nil) { _, _ in }
            #expect(out.tokens == reference, "prompt \(index)")
            firstRejected += (out.acceptedLengths ?? []).filter { $0 == 0 }.count
            allAccepted += (out.acceptedLengths ?? []).filter { $0 == 4 }.count
        }
        #expect(firstRejected > 0 && allAccepted > 0)
    }
}

/// The prefix KV cache: reuse must never change a completion.
@Suite struct PrefixCacheTests {
    @Test func reusedPrefixGivesTheSameCompletionAsAFreshCache() throws {
        let model = try CompletionPolicyTests.load("ee-shared")
        let warm = Completer(model: model)
        let base = "def get_value(self, key):\n    return self"
        let edits = [base, base, base + ".value", "def get_total(self, key):\n    return self", base + " or None"]
        for (i, prompt) in edits.enumerated() {
            for policy in [FullDepthPolicy() as any ExitPolicy, FixedLayerPolicy(layer: 3)] {
                let request = CompletionRequest(prompt: prompt, maxTokens: 8, stopAtEndOfText: false, policy: policy)
                let reused = try warm.complete(request)
                let fresh = try Completer(model: model).complete(request)
                #expect(reused.tokens.map(\.id) == fresh.tokens.map(\.id), "edit \(i) \(policy.label)")
                if i == 1 { #expect(reused.reusedPromptTokens == reused.promptTokenCount - 1) }
            }
        }
        // An edit early in the prompt keeps only the tokens before it.
        let r = try warm.complete(CompletionRequest(prompt: "class X:\n" + base, maxTokens: 2))
        #expect(r.reusedPromptTokens == 0)
    }

    @Test func cancellationStopsAnInFlightCompletion() throws {
        let completer = Completer(model: try CompletionPolicyTests.load("ee-shared"))
        let flag = CancellationFlag()
        flag.cancel()
        var request = CompletionRequest(prompt: "for index in", maxTokens: 20, stopAtEndOfText: false)
        request.cancellation = flag
        #expect(throws: CompletionCancelled.self) { try completer.complete(request) }
        // The completer stays usable afterwards.
        #expect(try completer.complete(CompletionRequest(prompt: "for index in", maxTokens: 3, stopAtEndOfText: false)).tokens.count == 3)
    }
}

/// Speculative completions reuse the prompt prefix too, without changing their output.
@Suite struct SpeculativePrefixCacheTests {
    @Test func speculativeReusesThePrefixAndStaysLossless() throws {
        let model = try CompletionPolicyTests.load("ee-separate")
        let warm = Completer(model: model)
        let spec = SpeculativeOptions(draftPolicy: FixedLayerPolicy(layer: 3), draftLength: 3)
        let base = "for index in range(10):\n    total += index"
        for (i, prompt) in [base, base + "\n", base + "\n    count"].enumerated() {
            let r = try warm.complete(CompletionRequest(prompt: prompt, maxTokens: 10, stopAtEndOfText: false, speculative: spec))
            let full = try Completer(model: model).complete(CompletionRequest(prompt: prompt, maxTokens: 10, stopAtEndOfText: false))
            #expect(r.tokens.map(\.id) == full.tokens.map(\.id), "prompt \(i)")
            if i > 0 { #expect(r.reusedPromptTokens > 0) }
        }
    }
}
