import Dispatch
import Foundation
import Kernels
import Model

/// Lossless self-speculative decoding: draft up to k tokens cheaply with early exit,
/// verify them all with one full-depth pass over the k+1 positions (matrix-matrix),
/// keep the longest prefix equal to full-depth greedy, roll the KV cache back past the
/// rest, continue. The output is identical to `full` greedy decoding by construction:
/// every emitted token is the argmax of full-depth logits computed by the same kernels
/// in the same summation order.
public final class SpeculativeDecoder: @unchecked Sendable {
    // @unchecked: one generation at a time.
    public let model: EarlyExitModel
    public let drafter: EarlyExitDecoder
    /// Drafts per verification.
    public let draftLength: Int

    /// Counters since this decoder was made (one per generation).
    public private(set) var drafted = 0
    public private(set) var accepted = 0
    public private(set) var verifications = 0
    /// Accepted drafts of each verification round.
    public private(set) var acceptedLengths: [Int] = []

    public init(model: EarlyExitModel, draftPolicy: any ExitPolicy, draftLength: Int = 4) {
        self.model = model
        drafter = EarlyExitDecoder(model: model, policy: draftPolicy)
        self.draftLength = max(1, draftLength)
    }

    /// Share of drafted tokens the verification accepted.
    public var acceptanceRate: Double { drafted == 0 ? 0 : Double(accepted) / Double(drafted) }
    /// Mean accepted drafts per verification pass.
    public var meanAcceptedLength: Double { verifications == 0 ? 0 : Double(accepted) / Double(verifications) }

    /// One round after `pending`, the last emitted token (at position `cache.length`, not yet in the
    /// cache): draft up to `draftLength` tokens by early exit, verify them in one full-depth pass over
    /// the k+1 positions, keep the agreeing prefix, and return it plus the full pass's own next token
    /// (1…k+1 tokens). The cache then holds full-depth K/V of `pending` and the accepted drafts.
    public func round(pending: Int, cache: KVCache, remaining: Int) throws -> [(Int, TokenTrace)] {
        let network = model.network, shape = network.shape, L = shape.layerCount
        let start = DispatchTime.now()
        let p = cache.length // `pending` goes at position p
        let k = min(draftLength, remaining, cache.capacity - p - 1)
        // Draft k tokens with early exit (stop decisions are ignored: drafts are only guesses).
        var drafts: [Int] = []
        var draftTraces: [TokenTrace] = []
        var feed = pending
        drafting: for _ in 0..<max(0, k) {
            switch try drafter.step(feed, cache: cache) {
            case .logits(let l, let t):
                feed = Sampler.argmax(l)
                drafts.append(feed)
                draftTraces.append(t)
            case .stopped:
                break drafting
            }
        }
        drafted += drafts.count
        // Verify: one full-depth pass over [pending, d1, …, dk] gives k+1 next-token predictions.
        cache.truncate(to: p)
        let verify = try network.prefill([pending] + drafts, cache: cache, allLogits: true)
        if !drafts.isEmpty { verifications += 1 }
        let V = shape.vocabularySize
        let predictions = (0...drafts.count).map { r in
            verify.logits.withUnsafeBufferPointer { Sampler.argmax(UnsafeBufferPointer(rebasing: $0[(r * V)..<((r + 1) * V)])) }
        }
        var m = 0
        while m < drafts.count && drafts[m] == predictions[m] { m += 1 }
        accepted += m
        if !drafts.isEmpty { acceptedLengths.append(m) }
        let elapsed = elapsedSeconds(since: start)
        // Keep the full-depth K/V of pending and the accepted drafts; forget the rest.
        cache.truncate(to: p + 1 + m)
        // Cost of this round, spread over the tokens it emitted.
        var roundCost = FlopBreakdown()
        for t in draftTraces { roundCost += t.flops }
        for r in 0...drafts.count { roundCost += CostModel.fullToken(shape: shape, position: p + r) }
        let emitted = Array(drafts.prefix(m)) + [predictions[m]]
        return emitted.enumerated().map { i, token in
            var t = i < m ? draftTraces[i] : TokenTrace(token: token, exitLayer: L)
            t.token = token
            if i == m { t.exitLayer = L }
            t.draft = i < m ? .accepted : .verified
            t.seconds = elapsed / Double(emitted.count)
            t.flops = roundCost.scaled(by: 1 / Double(emitted.count))
            t.fullFlops = CostModel.fullToken(shape: shape, position: p + i).total
            return (token, t)
        }
    }
}

extension FlopBreakdown {
    /// Every component multiplied by `factor`.
    public func scaled(by factor: Double) -> FlopBreakdown {
        var f = self
        f.embedding *= factor; f.qkv *= factor; f.attention *= factor; f.projection *= factor; f.mlp *= factor
        f.norms *= factor; f.head *= factor; f.decisionHeads *= factor; f.controller *= factor
        f.signals *= factor; f.stateCopy *= factor
        return f
    }
}
