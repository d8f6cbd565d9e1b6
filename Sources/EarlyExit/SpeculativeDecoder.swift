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

    /// Counters of the last `generate` call.
    public private(set) var drafted = 0
    public private(set) var accepted = 0
    public private(set) var verifications = 0
    /// Accepted drafts of each verification round of the last `generate` call.
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

    /// Greedy-decodes up to `maxTokens` after `prompt` (already tokenised), calling `onToken`
    /// for each emitted token. Ends early at `stopToken` (not emitted) or a full context.
    /// `reusingPrefix` positions of `cache` already hold full-depth keys and values of
    /// `prompt`'s first tokens (a prefix cache); only the rest of the prompt is prefilled.
    public func generate(prompt: [Int], maxTokens: Int, stopToken: Int?, cache: KVCache, reusingPrefix: Int = 0,
                         onToken: (Int, TokenTrace) -> Void) throws -> [Int] {
        drafted = 0; accepted = 0; verifications = 0; acceptedLengths = []
        let network = model.network, shape = network.shape, L = shape.layerCount
        let reused = max(0, min(reusingPrefix, prompt.count - 1, cache.length))
        cache.truncate(to: reused)
        var start = DispatchTime.now()
        var logits = try network.prefill(Array(prompt[reused...]), cache: cache).logits
        var output: [Int] = []
        // The first token comes from the prompt's full-depth pass.
        var pending = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        var trace = TokenTrace(token: pending, exitLayer: L)
        trace.draft = .verified
        trace.seconds = elapsedSeconds(since: start)
        trace.flops = CostModel.fullToken(shape: shape, position: prompt.count - 1)
        trace.fullFlops = trace.flops.total
        if pending == stopToken || maxTokens == 0 { return output }
        output.append(pending)
        onToken(pending, trace)

        while output.count < maxTokens {
            let p = cache.length // `pending` goes at position p
            let k = min(draftLength, maxTokens - output.count, cache.capacity - p - 1)
            if k < 1 {
                if p >= cache.capacity { break }
                // Room for one more full-depth step only.
                start = DispatchTime.now()
                logits = Array(try network.decode(pending, cache: cache, workspace: drafter.workspace))
                let next = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
                if next == stopToken { break }
                var t = TokenTrace(token: next, exitLayer: L)
                t.draft = .verified
                t.seconds = elapsedSeconds(since: start)
                t.fullFlops = CostModel.fullToken(shape: shape, position: p).total
                t.flops = CostModel.fullToken(shape: shape, position: p)
                output.append(next)
                onToken(next, t)
                pending = next
                continue
            }
            // Draft k tokens with early exit (stop decisions are ignored: drafts are only guesses).
            start = DispatchTime.now()
            var drafts: [Int] = []
            var draftTraces: [TokenTrace] = []
            var feed = pending
            for _ in 0..<k {
                switch try drafter.step(feed, cache: cache) {
                case .logits(let l, let t):
                    let d = Sampler.argmax(l)
                    drafts.append(d)
                    draftTraces.append(t)
                    feed = d
                case .stopped:
                    break
                }
                if drafts.count < draftTraces.count { break }
            }
            drafted += drafts.count
            // Verify: one full-depth pass over [pending, d1, …, dk] gives k+1 next-token predictions.
            cache.truncate(to: p)
            let verify = try network.prefill([pending] + drafts, cache: cache, allLogits: true)
            verifications += 1
            let V = shape.vocabularySize
            var predictions: [Int] = []
            for r in 0...drafts.count {
                predictions.append(verify.logits.withUnsafeBufferPointer {
                    Sampler.argmax(UnsafeBufferPointer(rebasing: $0[(r * V)..<((r + 1) * V)]))
                })
            }
            var m = 0
            while m < drafts.count && drafts[m] == predictions[m] { m += 1 }
            accepted += m
            acceptedLengths.append(m)
            let elapsed = elapsedSeconds(since: start)
            // Keep the full-depth K/V of pending and the accepted drafts; forget the rest.
            cache.truncate(to: p + 1 + m)
            // Cost of this round, spread over the tokens it emitted.
            var roundCost = FlopBreakdown()
            for t in draftTraces { roundCost += t.flops }
            for r in 0...drafts.count { roundCost += CostModel.fullToken(shape: shape, position: p + r) }
            let emitted = Array(drafts.prefix(m)) + [predictions[m]]
            for (i, token) in emitted.enumerated() {
                if token == stopToken || output.count >= maxTokens { return output }
                var t = i < m ? draftTraces[i] : TokenTrace(token: token, exitLayer: L)
                t.token = token
                if i == m { t.exitLayer = L }
                t.draft = i < m ? .accepted : .verified
                t.seconds = elapsed / Double(emitted.count)
                t.flops = roundCost.scaled(by: 1 / Double(emitted.count))
                t.fullFlops = CostModel.fullToken(shape: shape, position: p + i).total
                output.append(token)
                onToken(token, t)
            }
            pending = predictions[m]
        }
        return output
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
