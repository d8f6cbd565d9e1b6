import Dispatch
import Foundation
import Kernels
import Model

/// What one early-exit step produced.
public enum StepOutcome {
    /// Next-token logits (valid until the next step) and the trace of the step.
    case logits(UnsafeBufferPointer<Float>, TokenTrace)
    /// The controller stopped the completion; nothing is emitted.
    case stopped(TokenTrace)
}

/// Runs one token through the network block by block, asking an `ExitPolicy` after each
/// block whether to exit, stop or continue — the paper's dynamic inference.
///
/// On exit at layer ℓ the exit head runs once and `copyState` fills the KV cache of every
/// skipped layer, so later tokens that go deeper attend over a complete cache.
public final class EarlyExitDecoder: @unchecked Sendable {
    // @unchecked: a decoder and its cache serve one completion at a time.
    public let model: EarlyExitModel
    public let policy: any ExitPolicy
    /// Record the top-k tokens of every visited layer's head in the trace (0: off, the cheap default).
    public var traceTopK: Int
    let workspace: Workspace
    let probe: LayerProbe
    let exitLogits: FloatBuffer

    public init(model: EarlyExitModel, policy: any ExitPolicy, traceTopK: Int = 0) {
        self.model = model
        self.policy = policy
        self.traceTopK = traceTopK
        workspace = model.network.makeWorkspace()
        probe = LayerProbe(network: model.network, workspace: workspace, heads: model.heads, controller: model.controller)
        exitLogits = FloatBuffer(count: model.network.config.vocabularySize)
    }

    /// Feeds `token` at position `cache.length` and decides layer by layer.
    /// `target` is the reference next token, for the oracle policy.
    /// `isCancelled` is polled between blocks, so a keystroke abandons the step within one layer's time.
    public func step(_ token: Int, cache: KVCache, target: Int? = nil, cancellation isCancelled: (() -> Bool)? = nil) throws -> StepOutcome {
        let start = DispatchTime.now()
        let network = model.network, config = network.config
        let L = config.layerCount, position = cache.length
        try network.beginToken(token, workspace: workspace, cache: cache)
        probe.target = target
        probe.headLayer = -1
        probe.cost = FlopBreakdown()
        probe.cost.embedding = CostModel.embedding(config: config)
        let blockCost = CostModel.block(config: config, position: position)
        var trace = TokenTrace(token: nil, exitLayer: L)
        trace.fullFlops = CostModel.fullToken(config: config, position: position).total

        for layer in 0..<L {
            if let isCancelled, isCancelled() { throw StepCancelled() }
            if policy.needsPreviousHidden {
                probe.previous.pointer.update(from: workspace.residual.pointer, count: config.embeddingSize)
            }
            network.runBlock(layer, workspace: workspace, cache: cache)
            probe.cost += blockCost
            let l = layer + 1
            if l == L { break }
            probe.begin(layer: l)
            let decision = policy.decide(probe)
            if traceTopK > 0 { probe.signals.topTokens = inspectTopTokens() }
            trace.layers.append(probe.signals)
            switch decision {
            case .continue:
                continue
            case .stop:
                trace.stopped = true
                trace.exitLayer = l
                trace.stopProbability = probe.signals.controller?.stop
                trace.flops = probe.cost
                trace.seconds = elapsedSeconds(since: start)
                return .stopped(trace)
            case .exit:
                // The head runs once: reuse the policy's logits if it already computed them here.
                let paidByInspector = probe.inspectorComputedHead
                if let logits = probe.headLogits(), let base = logits.baseAddress {
                    exitLogits.pointer.update(from: base, count: logits.count)
                }
                // One head evaluation, counted once, as the output head.
                let headCost = model.heads?.flops(at: l, config: config) ?? 0
                if !paidByInspector { probe.cost.decisionHeads -= headCost }
                probe.cost.head += headCost
                copyState(from: UnsafePointer(workspace.residual.pointer), exitLayer: l, position: position, cache: cache)
                probe.cost.stateCopy += Double(L - l) * CostModel.stateCopy(config: config)
                network.commitToken(cache: cache)
                trace.exitLayer = l
                trace.flops = probe.cost
                trace.seconds = elapsedSeconds(since: start)
                return .logits(UnsafeBufferPointer(start: exitLogits.pointer, count: config.vocabularySize), trace)
            }
        }
        network.finalLogits(workspace.residual.pointer, into: exitLogits.pointer, workspace: workspace)
        probe.cost.head += CostModel.finalHead(config: config)
        if traceTopK > 0 {
            probe.begin(layer: L)
            probe.signals.topTokens = topTokens(UnsafeBufferPointer(start: exitLogits.pointer, count: config.vocabularySize))
            trace.layers.append(probe.signals)
        }
        network.commitToken(cache: cache)
        trace.flops = probe.cost
        trace.seconds = elapsedSeconds(since: start)
        return .logits(UnsafeBufferPointer(start: exitLogits.pointer, count: config.vocabularySize), trace)
    }

    /// State copying: for every skipped layer j > ℓ, the exit hidden state `h` goes through
    /// layer j's own `ln_1` and key/value projections, and the result is stored at `position`.
    /// No queries, attention or MLP run for those layers.
    public func copyState(from h: UnsafePointer<Float>, exitLayer l: Int, position: Int, cache: KVCache) {
        let network = model.network, config = network.config, d = config.embeddingSize
        for j in l..<config.layerCount { // 0-based index j is the (j+1)-th block, i.e. every block after ℓ
            let b = network.weights.blocks[j]
            layerNorm(h, workspace.normed.pointer, d, gamma: b.ln1Gamma.pointer, beta: b.ln1Beta.pointer, eps: config.layerNormEpsilon)
            b.keyValue.gemv(workspace.normed.pointer, workspace.qkv.pointer, bias: b.keyValueBias.pointer, pool: network.pool)
            cache.store(layer: j, position: position, keys: workspace.qkv.pointer, values: workspace.qkv.pointer + d)
        }
    }

    /// Inspector-only head evaluation (not counted as policy cost).
    private func inspectTopTokens() -> [TokenProbability]? {
        let policyHadHead = probe.headLayer == probe.layer
        let saved = probe.cost
        guard let logits = probe.headLogits() else { return nil }
        if !policyHadHead {
            probe.cost = saved // the inspector's head is not the policy's cost
            probe.inspectorComputedHead = true
        }
        return topTokens(logits)
    }

    private func topTokens(_ logits: UnsafeBufferPointer<Float>) -> [TokenProbability] {
        let k = min(traceTopK, logits.count)
        let m = logits.max() ?? 0
        var sum: Float = 0
        for v in logits { sum += Foundation.exp(v - m) }
        var best: [(Int, Float)] = []
        for (i, v) in logits.enumerated() where best.count < k || v > best[best.count - 1].1 {
            best.append((i, v))
            best.sort { $0.1 > $1.1 }
            if best.count > k { best.removeLast() }
        }
        return best.map { TokenProbability(id: $0.0, probability: Foundation.exp($0.1 - m) / sum) }
    }
}

/// A step abandoned because its caller cancelled it; the cache is left uncommitted at that position.
public struct StepCancelled: Error, CustomStringConvertible {
    public var description: String { "step cancelled" }
}

/// Wall-clock seconds since `start` (shared by the decoders, completion and benchmarks).
@inline(__always)
public func elapsedSeconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
