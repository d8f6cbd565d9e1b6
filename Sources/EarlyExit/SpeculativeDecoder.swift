import Dispatch
import Foundation
import Kernels
import Model

/// Lossless speculative decoding: draft up to k tokens cheaply — self-speculatively with early exit
/// or with the whole network minus some blocks (`SkipLayerDrafter`), or by copying from the context
/// (`lookupDrafts`) — verify them all with one full-depth pass over the k+1 positions (matrix-matrix),
/// keep the longest prefix equal to full-depth greedy, roll the KV cache back past the
/// rest, continue. The output is identical to `full` greedy decoding by construction:
/// every emitted token is the argmax of full-depth logits computed by the same kernels
/// in the same summation order.
public final class SpeculativeDecoder: @unchecked Sendable {
    // @unchecked: one generation at a time.
    public let model: EarlyExitModel
    let drafter: Drafter
    /// Drafts per verification.
    public let draftLength: Int

    enum Drafter {
        case earlyExit(EarlyExitDecoder)
        case skip(SkipLayerDrafter)
        case lookup
    }

    /// Counters since this decoder was made (one per generation).
    public private(set) var drafted = 0
    public private(set) var accepted = 0
    public private(set) var verifications = 0
    /// Accepted drafts of each verification round.
    public private(set) var acceptedLengths: [Int] = []

    public convenience init(model: EarlyExitModel, draftPolicy: any ExitPolicy, draftLength: Int = 4) {
        self.init(model: model, draft: .earlyExit(draftPolicy), draftLength: draftLength)
    }

    /// A skip-layer draft without layers named takes `model.resolvedSkipLayers`; on a one-layer model
    /// (nothing to skip) it drafts at full depth, which is still lossless.
    public init(model: EarlyExitModel, draft: SpeculativeDraft, draftLength: Int = 4) {
        self.model = model
        switch draft {
        case .earlyExit(let policy):
            drafter = .earlyExit(EarlyExitDecoder(model: model, policy: policy))
        case .skipLayers(let layers):
            let L = model.network.shape.layerCount
            let resolved = model.resolvedSkipLayers(layers)
            drafter = .skip(SkipLayerDrafter(network: model.network, keptBlocks: resolved?.keptBlocks(layerCount: L) ?? Array(0..<L)))
        case .lookup:
            drafter = .lookup
        }
        self.draftLength = max(1, draftLength)
    }

    /// Share of drafted tokens the verification accepted.
    public var acceptanceRate: Double { drafted == 0 ? 0 : Double(accepted) / Double(drafted) }
    /// Mean accepted drafts per verification pass.
    public var meanAcceptedLength: Double { verifications == 0 ? 0 : Double(accepted) / Double(verifications) }

    /// One round after `pending`, the last emitted token (at position `cache.length`, not yet in the
    /// cache): draft up to `draftLength` tokens, verify them in one full-depth pass over
    /// the k+1 positions, keep the agreeing prefix, and return it plus the full pass's own next token
    /// (1…k+1 tokens). The cache then holds full-depth K/V of `pending` and the accepted drafts.
    /// `context` (prompt and tokens so far, ending with `pending`) is what a lookup draft copies from.
    public func round(pending: Int, cache: KVCache, remaining: Int, context: [Int] = []) throws -> [(Int, TokenTrace)] {
        let network = model.network, shape = network.shape, L = shape.layerCount
        let start = DispatchTime.now()
        let p = cache.length // `pending` goes at position p
        let k = min(draftLength, remaining, cache.capacity - p - 1)
        // Draft k tokens (an early-exit draft's stop decisions are ignored: drafts are only guesses).
        // Drafting commits positions p… with whatever K/V the draft wrote (copied state, or none at all
        // for skipped blocks); the verification below rewrites every block's K/V from position p on.
        var drafts: [Int] = []
        var draftTraces: [TokenTrace] = []
        var feed = pending
        if case .lookup = drafter {
            let tail = context.last == pending ? context : context + [pending]
            drafts = Self.lookupDrafts(tail, count: max(0, k))
            // Nothing ran to make them: a lookup draft costs no arithmetic of the model.
            draftTraces = drafts.map { TokenTrace(token: $0, exitLayer: L) }
        }
        drafting: for _ in 0..<max(0, k) {
            switch drafter {
            case .lookup:
                break drafting
            case .earlyExit(let decoder):
                switch try decoder.step(feed, cache: cache) {
                case .logits(let l, let t):
                    feed = Sampler.argmax(l)
                    drafts.append(feed)
                    draftTraces.append(t)
                case .stopped:
                    break drafting
                }
            case .skip(let skipper):
                let (l, t) = try skipper.step(feed, cache: cache)
                feed = Sampler.argmax(l)
                drafts.append(feed)
                draftTraces.append(t)
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
        roundCost += CostModel.verification(shape: shape, firstPosition: p, rows: drafts.count + 1)
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

extension SpeculativeDecoder {
    /// Up to `count` tokens that followed the latest earlier occurrence of the last 3 tokens of
    /// `context` (else of its last 2); none when neither recurs.
    public static func lookupDrafts(_ context: [Int], count: Int) -> [Int] {
        guard count > 0 else { return [] }
        for n in stride(from: 3, through: 2, by: -1) where context.count > n {
            let tail = context[(context.count - n)...]
            var i = context.count - n - 1
            while i >= 0 {
                if context[i..<(i + n)].elementsEqual(tail) {
                    return Array(context[(i + n)..<min(context.count, i + n + count)])
                }
                i -= 1
            }
        }
        return []
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

/// The draft model of skip-layer self-speculative decoding: the same network, the same cache, with
/// some blocks left out — the residual stream passes them unchanged — and the model's own final norm
/// and head. Skipped blocks get no K/V for drafted positions; no later draft reads them (a draft
/// never runs those blocks), and the verification rewrites them.
final class SkipLayerDrafter {
    let network: any Transformer
    /// Block indices run, ascending.
    let keptBlocks: [Int]
    let workspace: Workspace
    let logits: FloatBuffer

    init(network: any Transformer, keptBlocks: [Int]) {
        self.network = network
        self.keptBlocks = keptBlocks
        workspace = network.makeWorkspace()
        logits = FloatBuffer(count: network.shape.vocabularySize)
    }

    /// Feeds `token` at position `cache.length` through the kept blocks and commits the position.
    /// The trace's exit layer is the number of blocks run (the depth the draft computed).
    func step(_ token: Int, cache: KVCache) throws -> (UnsafeBufferPointer<Float>, TokenTrace) {
        let start = DispatchTime.now()
        let shape = network.shape, position = cache.length
        try network.beginToken(token, workspace: workspace, cache: cache)
        for block in keptBlocks { network.runBlock(block, workspace: workspace, cache: cache) }
        network.finalLogits(workspace.residual.pointer, into: logits.pointer, workspace: workspace)
        network.commitToken(cache: cache)
        var trace = TokenTrace(token: nil, exitLayer: keptBlocks.count)
        trace.flops = CostModel.skipDraftToken(shape: shape, position: position, keptBlocks: keptBlocks.count)
        trace.fullFlops = CostModel.fullToken(shape: shape, position: position).total
        trace.seconds = elapsedSeconds(since: start)
        return (UnsafeBufferPointer(start: logits.pointer, count: shape.vocabularySize), trace)
    }
}
