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
        // The completer stays usable afterwards, and the cancelled request's prompt (prefilled before
        // the cancellation was seen) is reused.
        let again = try completer.complete(CompletionRequest(prompt: "for index in", maxTokens: 3, stopAtEndOfText: false))
        #expect(again.tokens.count == 3)
        #expect(again.reusedPromptTokens == again.promptTokenCount - 1)
    }
}

/// `Completer.prefill`: a file put into the prefix cache ahead of the requests.
@Suite struct PrefixPrefillTests {
    static let file = "def get_value(self, key):\n    return self.values[key]\n\n\ndef set_value(self, key, value):\n    self.values[key] = value\n"

    @Test func aPrefilledFileIsReusedAndChangesNothing() throws {
        let model = try CompletionPolicyTests.load("ee-shared")
        let warm = Completer(model: model)
        var reports: [(Int, Int)] = []
        let fill = try warm.prefill(Self.file, reservingTokens: 8) { reports.append(($0, $1)) }
        #expect(fill.reused == 0 && fill.tokens > 20)
        #expect(reports.last.map { $0 == (fill.tokens, fill.tokens) } == true)
        #expect(reports.map(\.0) == reports.map(\.0).sorted())
        // Prompts that are prefixes of the file ending at a line break (the cursor at the start of a
        // line) run only their last token or two (the break may merge with what follows it).
        let lines = Self.file.split(separator: "\n", omittingEmptySubsequences: false)
        for cut in [1, 2, 5] {
            let prompt = lines.prefix(cut).joined(separator: "\n") + "\n"
            let request = CompletionRequest(prompt: prompt, maxTokens: 6, stopAtEndOfText: false)
            let fresh = try Completer(model: model).complete(request)
            let reused = try warm.complete(request)
            #expect(reused.tokens.map(\.id) == fresh.tokens.map(\.id), "cut \(cut)")
            #expect(reused.reusedPromptTokens >= reused.promptTokenCount - 2, "cut \(cut): \(reused.reusedPromptTokens)/\(reused.promptTokenCount)")
            // Filling again reuses what the request left (its prompt) and only adds the rest.
            let refill = try warm.prefill(Self.file, reservingTokens: 8)
            #expect(refill.reused >= reused.promptTokenCount - 2 && refill.tokens == fill.tokens)
        }
    }

    @Test func aCancelledPrefillKeepsWhatItFilled() throws {
        let model = try CompletionPolicyTests.load("ee-shared")
        let completer = Completer(model: model)
        let flag = CancellationFlag()
        #expect(throws: CompletionCancelled.self) {
            try completer.prefill(Self.file, reservingTokens: 8, chunkSize: 4, cancellation: flag) { done, _ in
                if done >= 16 { flag.cancel() }
            }
        }
        let r = try completer.complete(CompletionRequest(prompt: Self.file, maxTokens: 2, stopAtEndOfText: false))
        #expect(r.reusedPromptTokens >= 16 && r.reusedPromptTokens < r.promptTokenCount - 1, "\(r.reusedPromptTokens)")
    }

    @Test func aTextLongerThanTheContextKeepsItsStart() throws {
        let model = try CompletionPolicyTests.load("ee-shared")
        let long = String(repeating: Self.file, count: 6)
        let context = model.network.shape.contextLength
        let fill = try Completer(model: model).prefill(long, reservingTokens: 10)
        #expect(fill.tokens == context - 10)
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

/// A CodeGen directory (`ee-codegen`: heads at layers 1, 4, 7; model vocabulary 400 over a
/// 384-token tokenizer, as CodeGen pads 50,295 to 51,200) as `exitlens complete --model` loads it.
@Suite struct CodeGenCompletionTests {
    /// Every `--policy` spelling runs, exits only where a head exists, and speculative decoding
    /// equals full depth.
    @Test func everyPolicySettingCompletes() throws {
        let model = try LanguageModel.load(directory: EarlyExitFixtures.directory("ee-codegen"))
        let L = model.network.shape.layerCount
        #expect(model.network.shape.architecture == .codegen && model.tokenizer.vocabularySize < model.network.shape.vocabularySize)
        let completer = Completer(model: model)
        let prompt = "for value in items:\n    value"
        let full = try completer.complete(CompletionRequest(prompt: prompt, maxTokens: 12, stopAtEndOfText: false))
        // Bare `speculative` drafts by skipping layers (the default draft), which needs no head: its
        // tokens are checked against full depth only.
        let skipDrafts: Set<String> = ["speculative", "speculative:skip:2,3:3"]
        for spec in ["full", "sec:0:2", "softmax:0.1", "saturation:0.5", "fixed", "fixed:5", "speculative", "speculative:2:3",
                     "speculative:sec:0:2:3", "speculative:softmax:0.1", "speculative:skip:2,3:3"] {
            let request = try CompletionRequest(prompt: prompt, maxTokens: 12, configuration: PolicyConfiguration(parsing: spec), layerCount: L)
            var r = request
            r.stopAtEndOfText = false
            let out = try completer.complete(r)
            #expect(out.tokens.count == 12, "\(spec)")
            if !skipDrafts.contains(spec) {
                #expect(out.tokens.allSatisfy { [1, 4, 7, L].contains($0.trace.exitLayer) }, "\(spec): \(out.tokens.map(\.trace.exitLayer))")
            }
            if spec.hasPrefix("speculative") || spec == "full" { #expect(out.tokens.map(\.id) == full.tokens.map(\.id), "\(spec)") }
        }
    }

    /// Ids past the tokenizer (CodeGen's padding) are emitted as the model chooses them, as
    /// transformers would, and decode to no text, as on the GPT-2 path: never a crash, never garbage.
    @Test func paddedIdsDecodeToNothing() throws {
        let model = try LanguageModel.load(directory: EarlyExitFixtures.directory("ee-codegen"))
        let out = try Completer(model: model).complete(CompletionRequest(prompt: "def", maxTokens: 16, stopAtEndOfText: false))
        let padded = out.tokens.filter { $0.id >= model.tokenizer.vocabularySize }
        #expect(!padded.isEmpty, "the fixture's greedy continuation reaches padded ids")
        #expect(padded.allSatisfy { $0.text.isEmpty })
        #expect(out.text == model.tokenizer.decodeText(out.tokens.map(\.id)))
    }
}

/// Token healing (`healsPartialWord`): a prompt ending inside a word gives up its last token and
/// the first new token must re-spell it, as editors' completion engines do for `with open(pa`.
@Suite struct TokenHealingTests {
    static let model = Result { try LanguageModel.load(directory: EarlyExitFixtures.directory("ee-shared")) }

    func complete(_ prompt: String, heal: Bool, policy: any ExitPolicy = FullDepthPolicy(),
                  speculative: SpeculativeOptions? = nil) throws -> CompletionResult {
        var request = CompletionRequest(prompt: prompt, maxTokens: 6, stopAtEndOfText: false, policy: policy, speculative: speculative)
        request.healsPartialWord = heal
        return try Completer(model: try Self.model.get()).complete(request)
    }

    @Test(arguments: ["def read_file(pa", "x = valu", "for i in rang", "count_2"])
    func theFirstTokenReSpellsTheWordsEnd(prompt: String) throws {
        let tokenizer = try Self.model.get().tokenizer
        let ids = tokenizer.encode(prompt)
        let last = try #require(ids.last)
        let removed = try #require(tokenizer.tokenBytes(last))
        let r = try complete(prompt, heal: true)
        #expect(r.promptTokenIDs == Array(ids.dropLast()), "the prompt loses its last token")
        let first = try #require(r.tokens.first)
        let firstBytes = try #require(tokenizer.tokenBytes(first.id))
        #expect(firstBytes.starts(with: removed), "first token \(first.id) does not start with the removed \(removed)")
        // The text shown after the cursor is what the tokens spell, minus the bytes already typed.
        let spelled = tokenizer.decode(r.tokens.map(\.id))
        #expect(r.text == String(decoding: spelled.dropFirst(removed.count), as: UTF8.self))
        // The same holds for an early-exit policy and for speculative decoding (the first token
        // always comes from the prompt's full-depth pass).
        for (policy, spec) in [(FixedLayerPolicy(layer: 2) as any ExitPolicy, nil as SpeculativeOptions?),
                               (FullDepthPolicy(), SpeculativeOptions(draftPolicy: FixedLayerPolicy(layer: 3), draftLength: 3))] {
            let other = try complete(prompt, heal: true, policy: policy, speculative: spec)
            #expect(other.tokens.first?.id == first.id)
            #expect(tokenizer.tokenBytes(other.tokens[0].id).map { $0.starts(with: removed) } == true)
        }
    }

    @Test(arguments: ["def read_file(path):\n    ", "x = (", "print(\"hi\") "])
    func noHealingAfterSpaceOrPunctuation(prompt: String) throws {
        let tokenizer = try Self.model.get().tokenizer
        let r = try complete(prompt, heal: true)
        #expect(r.promptTokenIDs == tokenizer.encode(prompt))
        #expect(r.tokens.map(\.id) == (try complete(prompt, heal: false)).tokens.map(\.id))
    }

    @Test func offByDefault() throws {
        let tokenizer = try Self.model.get().tokenizer
        let r = try complete("def read_file(pa", heal: false)
        #expect(r.promptTokenIDs == tokenizer.encode("def read_file(pa"))
        #expect(r.text == tokenizer.decodeText(r.tokens.map(\.id)))
    }
}
