import Dispatch
import Model

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    case maxTokens = "max_tokens"
    case endOfText = "end_of_text"
    case contextFull = "context_full"
    /// The Stop&Exit Controller stopped the completion.
    case stopped
}

/// How tokens after the first are produced: one layer-by-layer early-exit step at a time, or
/// speculative rounds of drafts and one verification.
public enum DecodingStrategy: Sendable {
    /// Each token goes as deep as `policy` decides (`FullDepthPolicy` is plain decoding).
    case layerwise(any ExitPolicy)
    /// Lossless self-speculative decoding (greedy only): drafts by `draft`, `draftLength` per round.
    case speculative(draft: SpeculativeDraft, draftLength: Int)
}

/// What `Generator.generate` returns besides the streamed tokens.
public struct GenerationOutcome: Sendable {
    public var tokens: [Int] = []
    public var finishReason: FinishReason = .maxTokens
    /// The step that stopped the completion, if the controller did.
    public var stop: TokenTrace?
    /// Seconds from the call to the prompt's logits (prefill of the non-reused part).
    public var prefillSeconds: Double = 0
    /// Speculative decoding's counters (nil otherwise).
    public var drafted: Int?
    public var accepted: Int?
    public var acceptedLengths: [Int]?
}

/// The one generation loop: prefill the prompt (reusing a cached prefix), take the first token from
/// its full-depth logits, then let the strategy produce tokens until a stop token, the token limit,
/// a full context, a stop decision or cancellation.
public final class Generator: @unchecked Sendable {
    // @unchecked: one generation at a time.
    public let model: EarlyExitModel
    public let strategy: DecodingStrategy
    /// Top-k tokens per visited layer in the trace (0: off).
    public var traceTopK: Int

    public init(model: EarlyExitModel, strategy: DecodingStrategy, traceTopK: Int = 0) {
        self.model = model
        self.strategy = strategy
        self.traceTopK = traceTopK
    }

    /// Generates up to `maxTokens` after `prompt` (token ids), calling `onToken` for each.
    /// `reusingPrefix` leading positions of `cache` already hold full-depth keys and values of the
    /// prompt's first tokens. On return the cache holds the prompt (its K/V are full-depth) and
    /// nothing generated: early exit gave generated tokens copied, not computed, K/V.
    public func generate(prompt: [Int], cache: KVCache, reusingPrefix: Int = 0, maxTokens: Int, stopToken: Int?,
                         sampling: SamplingParameters = .greedy, cancellation isCancelled: (() -> Bool)? = nil,
                         allowedFirstTokens: [Int]? = nil,
                         onToken: (Int, TokenTrace) -> Void) throws -> GenerationOutcome {
        let network = model.network, L = network.shape.layerCount
        if case .speculative = strategy, !sampling.isGreedy {
            throw ModelError.invalidInput("speculative decoding is lossless against greedy decoding only; use temperature 0")
        }
        let start = DispatchTime.now()
        var outcome = GenerationOutcome()
        let reused = max(0, min(reusingPrefix, prompt.count - 1, cache.length))
        cache.truncate(to: reused)
        defer { cache.truncate(to: prompt.count) }
        let logits = try network.prefill(Array(prompt[reused...]), cache: cache).logits
        outcome.prefillSeconds = elapsedSeconds(since: start)
        if maxTokens <= 0 { return outcome }

        var sampler = Sampler(sampling)
        var context = prompt
        // The first token comes from the prompt's full-depth pass: no decision, no stop.
        // Token healing: the first token may be restricted to those that re-spell a removed prompt end.
        var firstLogits = logits
        if let allowed = allowedFirstTokens, !allowed.isEmpty {
            firstLogits = [Float](repeating: -.infinity, count: logits.count)
            for id in allowed where id >= 0 && id < logits.count { firstLogits[id] = logits[id] }
        }
        let first = firstLogits.withUnsafeBufferPointer { sampler.next($0, context: context) }
        var firstTrace = TokenTrace(token: first, exitLayer: L)
        firstTrace.flops = CostModel.fullToken(shape: network.shape, position: prompt.count - 1)
        firstTrace.fullFlops = firstTrace.flops.total
        firstTrace.seconds = elapsedSeconds(since: start)
        if traceTopK > 0 { firstTrace.layers = try promptLayerTrace(prompt, cache: cache) }
        var batch = [(first, firstTrace)]

        let producer = TokenProducer(model: model, strategy: strategy, traceTopK: traceTopK)
        generation: while true {
            for (token, trace) in batch {
                if token == stopToken { outcome.finishReason = .endOfText; break generation }
                outcome.tokens.append(token)
                context.append(token)
                onToken(token, trace)
                if outcome.tokens.count >= maxTokens { outcome.finishReason = .maxTokens; break generation }
            }
            if cache.length >= cache.capacity { outcome.finishReason = .contextFull; break }
            if let isCancelled, isCancelled() { throw StepCancelled() }
            switch try producer.next(after: context, cache: cache, sampler: &sampler,
                                     remaining: maxTokens - outcome.tokens.count, cancellation: isCancelled) {
            case .tokens(let next):
                batch = next
            case .stopped(let trace):
                outcome.stop = trace
                outcome.finishReason = .stopped
                break generation
            }
        }
        if let speculative = producer.speculative {
            outcome.drafted = speculative.drafted
            outcome.accepted = speculative.accepted
            outcome.acceptedLengths = speculative.acceptedLengths
        }
        return outcome
    }
}

extension Generator {
    /// For the inspector only (traceTopK > 0): the prompt's last position again through every
    /// layer's head, so the first token, which comes from the prefill, has per-layer top-k like the
    /// others. The position's keys and values are recomputed at full depth, as the prefill stored
    /// them; the cost is one more full-depth step, and it is not counted in the first token's trace.
    func promptLayerTrace(_ prompt: [Int], cache: KVCache) throws -> [LayerSignals] {
        guard let last = prompt.last, cache.length == prompt.count else { return [] }
        cache.truncate(to: prompt.count - 1)
        let decoder = EarlyExitDecoder(model: model, policy: FullDepthPolicy(), traceTopK: traceTopK)
        switch try decoder.step(last, cache: cache) {
        case .logits(_, let trace): return trace.layers
        case .stopped: return []
        }
    }
}

/// The strategy's side of the loop: the next token(s) after `context`, whose last token is not yet
/// in the cache.
final class TokenProducer {
    let early: EarlyExitDecoder?
    let speculative: SpeculativeDecoder?

    init(model: EarlyExitModel, strategy: DecodingStrategy, traceTopK: Int) {
        switch strategy {
        case .layerwise(let policy):
            early = EarlyExitDecoder(model: model, policy: policy, traceTopK: traceTopK)
            speculative = nil
        case .speculative(let draft, let draftLength):
            early = nil
            speculative = SpeculativeDecoder(model: model, draft: draft, draftLength: draftLength)
        }
    }

    enum Output {
        case tokens([(Int, TokenTrace)])
        case stopped(TokenTrace)
    }

    func next(after context: [Int], cache: KVCache, sampler: inout Sampler, remaining: Int,
              cancellation: (() -> Bool)?) throws -> Output {
        guard let last = context.last else { preconditionFailure("generation always has a token to feed") }
        if let speculative {
            return .tokens(try speculative.round(pending: last, cache: cache, remaining: remaining, context: context))
        }
        guard let early else { preconditionFailure("a producer has a strategy") }
        switch try early.step(last, cache: cache, cancellation: cancellation) {
        case .logits(let logits, var trace):
            let token = sampler.next(logits, context: context)
            trace.token = token
            return .tokens([(token, trace)])
        case .stopped(let trace):
            return .stopped(trace)
        }
    }
}
