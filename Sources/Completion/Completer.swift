import EarlyExit
import Foundation
import Model
import Synchronization
import Tokenizer

/// One completion request.
public struct CompletionRequest: Sendable {
    /// Text before the cursor.
    public var prompt: String
    /// Maximum number of new tokens.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// End the completion at `<|endoftext|>` (not emitted).
    public var stopAtEndOfText: Bool
    /// How deep each token goes (`FullDepthPolicy` is plain decoding).
    public var policy: any ExitPolicy
    /// Lossless speculative decoding instead of `policy` (greedy only).
    public var speculative: SpeculativeOptions?
    /// Top-k tokens per visited layer in the trace (0: off).
    public var traceTopK: Int
    /// Set from another thread to abandon the request; checked between blocks.
    public var cancellation: CancellationFlag?
    /// Token ids to use instead of tokenizing `prompt` (evaluation works on ids).
    public var promptIDs: [Int]?
    /// Token healing for a prompt that ends inside a word (`with open(pa`): the last prompt token is
    /// removed and the first new token must start with its bytes, so the model picks the word's real
    /// tokenization (`path`) instead of continuing after a token it rarely saw there. The result's
    /// text leaves out the re-spelled bytes. Off by default (evaluation and parity compare raw
    /// greedy ids); the playground turns it on.
    public var healsPartialWord = false

    public init(prompt: String, maxTokens: Int = 32, sampling: SamplingParameters = .greedy, stopAtEndOfText: Bool = true,
                policy: any ExitPolicy = FullDepthPolicy(), speculative: SpeculativeOptions? = nil, traceTopK: Int = 0) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopAtEndOfText = stopAtEndOfText
        self.policy = policy
        self.speculative = speculative
        self.traceTopK = traceTopK
    }
}

/// A thread-safe "stop now" flag for an in-flight completion (a keystroke in the editor).
public final class CancellationFlag: Sendable {
    private let flag = Mutex(false)
    public init() {}
    public func cancel() { flag.withLock { $0 = true } }
    public var isCancelled: Bool { flag.withLock { $0 } }
}

/// Thrown when a request's `CancellationFlag` was set.
public struct CompletionCancelled: Error, CustomStringConvertible {
    public var description: String { "completion cancelled" }
}

/// A generated token as it streams out.
public struct GeneratedToken: Sendable, Codable {
    /// Token id.
    public var id: Int
    /// Text that became complete with this token (may be empty mid-character).
    public var text: String
    /// Wall time to produce this token, seconds (for the first token: prefill + first step).
    public var seconds: Double
    /// Exit layer, signals, FLOPs.
    public var trace: TokenTrace
}

/// The outcome of one completion.
public struct CompletionResult: Sendable, Codable {
    public var text: String
    public var tokens: [GeneratedToken]
    public var promptTokenCount: Int
    /// The prompt's token ids as fed to the model (after any truncation).
    public var promptTokenIDs: [Int]
    /// Prompt tokens dropped from the front because prompt + completion exceed the context.
    public var truncatedPromptTokens: Int
    /// Prompt tokens whose keys and values were reused from the previous request (prefix cache).
    public var reusedPromptTokens: Int = 0
    public var prefillSeconds: Double
    public var totalSeconds: Double
    public var finishReason: FinishReason
    /// The step that stopped the completion (its layer and p(stop)), if one did.
    public var stop: TokenTrace?
    /// The policy's label.
    public var policy: String
    /// FLOPs spent on the generated tokens, and what full depth would have spent.
    public var flops: Double
    public var fullFlops: Double
    /// Speculative decoding: share of drafts accepted and mean accepted drafts per verification.
    public var draftAcceptance: Double?
    public var meanAcceptedLength: Double?

    /// Mean exit layer over generated tokens (L for full depth).
    public var meanExitLayer: Double {
        tokens.isEmpty ? 0 : Double(tokens.map(\.trace.exitLayer).reduce(0, +)) / Double(tokens.count)
    }

    /// Mean exit layer as reports show it: an empty completion is charged the layer where its work
    /// ended (the stop decision's, else full depth `layers`) rather than 0.
    public func reportedExitLayer(layers: Int) -> Double {
        tokens.isEmpty ? Double(stop?.exitLayer ?? layers) : meanExitLayer
    }
}

/// What `Completer.prefill` did.
public struct PrefixFill: Sendable, Equatable {
    /// Tokens of the text now in the prefix cache.
    public var tokens: Int
    /// Of those, already cached before the call.
    public var reused: Int
    public var seconds: Double
    public init(tokens: Int, reused: Int, seconds: Double) {
        self.tokens = tokens
        self.reused = reused
        self.seconds = seconds
    }
}

/// Runs completions on a `LanguageModel`: tokenize, prefill, then decode token by token
/// through the early-exit decoder (or speculatively).
///
/// Each completer owns its KV cache and scratch memory, so it serves one request at a
/// time; create one per concurrent user.
public final class Completer: @unchecked Sendable {
    // @unchecked: the cache is used by one `complete` call at a time.
    public let model: LanguageModel
    private let cache: KVCache
    /// Token ids whose full-depth keys and values are in `cache` (the last prompt).
    private var cachedPrompt: [Int] = []
    /// Token healing's last candidate list (the same word is healed on every keystroke in it).
    private var healingCandidates: (bytes: [UInt8], candidates: [Int])?

    public init(model: LanguageModel) {
        self.model = model
        cache = model.network.makeCache()
    }

    /// How many leading tokens of `ids` have reusable K/V in the cache (always leaving at least
    /// the last token to run, since its logits are needed).
    private func commonPrefix(_ ids: [Int]) -> Int {
        var common = 0
        while common < min(ids.count - 1, cachedPrompt.count, cache.length) && ids[common] == cachedPrompt[common] { common += 1 }
        return common
    }

    /// Pre-fills the prefix cache with `text`'s tokens (a file just opened), so a later request whose
    /// prompt starts the same way runs only its new suffix. The first `contextLength − reservingTokens`
    /// tokens are kept (a prompt longer than that loses its start, so a longer prefix would not be
    /// reused). Runs in chunks of `chunkSize` tokens, polling `cancellation` between them; what was
    /// filled before a cancellation stays usable. `progress` hears (tokens cached, tokens wanted).
    @discardableResult
    public func prefill(_ text: String, reservingTokens: Int = 32, chunkSize: Int = 8, cancellation: CancellationFlag? = nil,
                        progress: (Int, Int) -> Void = { _, _ in }) throws -> PrefixFill {
        let start = DispatchTime.now()
        let shape = model.network.shape
        let limit = max(0, min(shape.contextLength, cache.capacity) - max(0, reservingTokens))
        let ids = Array(model.tokenizer.encode(text).prefix(limit))
        var fill = PrefixFill(tokens: ids.count, reused: 0, seconds: 0)
        guard !ids.isEmpty else { return fill }
        // Reuse what is cached; a prompt's last token is always run again by `complete`, so the
        // whole text can be kept here.
        var common = 0
        while common < min(ids.count, cachedPrompt.count, cache.length) && ids[common] == cachedPrompt[common] { common += 1 }
        cache.truncate(to: common)
        cachedPrompt = Array(ids[..<common])
        fill.reused = common
        progress(common, ids.count)
        var next = common
        while next < ids.count {
            if let cancellation, cancellation.isCancelled { throw CompletionCancelled() }
            let chunk = Array(ids[next..<min(ids.count, next + max(1, chunkSize))])
            _ = try model.network.prefill(chunk, cache: cache, chunkSize: chunk.count)
            cachedPrompt += chunk
            next += chunk.count
            progress(next, ids.count)
        }
        fill.seconds = elapsedSeconds(since: start)
        return fill
    }

    /// The last token of `ids` and the tokens that start with its bytes, when healing applies: the
    /// prompt ends in a letter, digit or `_` (a word being typed), the token is not special, and one
    /// token stays to condition on. Candidates are cached for the next keystroke's same word.
    private func healing(_ ids: [Int]) -> (bytes: [UInt8], candidates: [Int])? {
        let tokenizer = model.tokenizer
        guard ids.count >= 2, let last = ids.last, !tokenizer.specialTokens.values.contains(last),
              let bytes = tokenizer.tokenBytes(last), let end = bytes.last,
              end == UInt8(ascii: "_") || (end < 0x80 && Character(Unicode.Scalar(end)).isLetter) || (end >= 0x30 && end <= 0x39),
              String(validating: bytes, as: UTF8.self) != nil
        else { return nil }
        if let cached = healingCandidates, cached.bytes == bytes { return cached }
        let limit = min(tokenizer.vocabularySize, model.network.shape.vocabularySize)
        let candidates = (0..<limit).filter { id in
            guard let b = tokenizer.tokenBytes(id), b.count >= bytes.count, !tokenizer.specialTokens.values.contains(id) else { return false }
            return b.starts(with: bytes)
        }
        healingCandidates = (bytes, candidates)
        return (bytes, candidates)
    }

    /// `piece` without the healed bytes still owed at the start of the output.
    private static func strip(_ healed: inout [UInt8], from piece: String) -> String {
        let utf8 = Array(piece.utf8)
        let n = min(utf8.count, healed.count)
        guard utf8.prefix(n).elementsEqual(healed.prefix(n)) else { healed = []; return piece }
        healed.removeFirst(n)
        return String(decoding: utf8.dropFirst(n), as: UTF8.self)
    }

    /// Completes `request.prompt`, calling `onToken` as each token is produced.
    public func complete(_ request: CompletionRequest, onToken: (GeneratedToken) -> Void = { _ in }) throws -> CompletionResult {
        let shape = model.network.shape
        try model.earlyExit.check(request.policy)
        if let speculative = request.speculative { try model.earlyExit.check(speculative.draft) }
        let start = DispatchTime.now()
        var ids = request.promptIDs ?? model.tokenizer.encode(request.prompt)
        if ids.isEmpty, let bos = shape.bosTokenID ?? model.tokenizer.endOfTextID {
            ids = [bos] // A model needs at least one token to condition on.
        }
        guard !ids.isEmpty else { throw ModelError.invalidInput("the prompt is empty and the model has no <|endoftext|> token") }
        var healed: [UInt8] = []
        var allowedFirst: [Int]?
        if request.healsPartialWord, request.promptIDs == nil, let (bytes, candidates) = healing(ids) {
            ids.removeLast()
            healed = bytes
            allowedFirst = candidates
        }
        // Keep the end of the prompt: that is what a completion continues.
        let maxNew = max(0, min(request.maxTokens, shape.contextLength - 1))
        let dropped = max(0, ids.count - (shape.contextLength - maxNew))
        if dropped > 0 { ids.removeFirst(dropped) }
        let stopToken = request.stopAtEndOfText ? (model.tokenizer.endOfTextID ?? shape.eosTokenID) : nil

        let strategy: DecodingStrategy
        var label = request.policy.label
        if let speculative = request.speculative {
            var draft = speculative.draft
            if case .skipLayers(nil) = draft { draft = .skipLayers(model.earlyExit.resolvedSkipLayers(nil)) } // name the set used
            strategy = .speculative(draft: draft, draftLength: speculative.draftLength)
            label = "speculative(\(draft.label), k=\(speculative.draftLength))"
        } else {
            strategy = .layerwise(request.policy)
        }
        var decoder = StreamingDecoder(tokenizer: model.tokenizer)
        var result = CompletionResult(text: "", tokens: [], promptTokenCount: ids.count, promptTokenIDs: ids,
                                      truncatedPromptTokens: dropped, prefillSeconds: 0, totalSeconds: 0,
                                      finishReason: .maxTokens, stop: nil, policy: label, flops: 0, fullFlops: 0)
        // Prefix cache: reuse the keys and values of the longest common prefix with the last prompt.
        // Generated tokens are never reused (the generator leaves only the prompt in the cache).
        let common = commonPrefix(ids)
        result.reusedPromptTokens = common
        cachedPrompt = []
        let generator = Generator(model: model.earlyExit, strategy: strategy, traceTopK: request.traceTopK)
        let outcome: GenerationOutcome
        do {
            outcome = try generator.generate(
                prompt: ids, cache: cache, reusingPrefix: common, maxTokens: maxNew, stopToken: stopToken,
                sampling: request.sampling, cancellation: request.cancellation.map { flag in { flag.isCancelled } },
                allowedFirstTokens: allowedFirst
            ) { id, trace in
                var piece = decoder.push(id)
                if !healed.isEmpty { piece = Self.strip(&healed, from: piece) }
                result.text += piece
                result.flops += trace.flops.total
                result.fullFlops += trace.fullFlops
                let token = GeneratedToken(id: id, text: piece, seconds: trace.seconds, trace: trace)
                result.tokens.append(token)
                onToken(token)
            }
        } catch is StepCancelled {
            // Cancellation is polled after the prompt's prefill: its K/V are in the cache and stay
            // reusable (the keystroke that cancelled this request usually asks for a similar one).
            if cache.length >= ids.count { cachedPrompt = ids }
            throw CompletionCancelled()
        }
        cachedPrompt = ids
        result.prefillSeconds = outcome.prefillSeconds
        result.finishReason = outcome.finishReason
        if let stop = outcome.stop {
            result.stop = stop
            result.flops += stop.flops.total
        }
        if let drafted = outcome.drafted, let accepted = outcome.accepted, let lengths = outcome.acceptedLengths {
            result.draftAcceptance = drafted == 0 ? 0 : Double(accepted) / Double(drafted)
            result.meanAcceptedLength = lengths.isEmpty ? 0 : Double(accepted) / Double(lengths.count)
        }
        let tail = decoder.finish()
        result.text += tail
        if !tail.isEmpty, var last = result.tokens.popLast() {
            last.text += tail
            result.tokens.append(last)
        }
        result.totalSeconds = elapsedSeconds(since: start)
        return result
    }
}
