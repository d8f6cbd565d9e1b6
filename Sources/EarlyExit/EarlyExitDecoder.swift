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
        exitLogits = FloatBuffer(count: model.network.shape.vocabularySize)
    }

    /// Feeds `token` at position `cache.length` and decides after each block — the paper's algorithm:
    /// run block ℓ, ask the policy; *continue* to the next block, *exit* (the head at ℓ gives the
    /// logits, skipped blocks get copied state), or *stop* the completion. Exit layers are 1-based:
    /// layer ℓ is the residual stream after block ℓ−1.
    /// `target` is the reference next token, for the oracle policy.
    /// `isCancelled` is polled between blocks, so a keystroke abandons the step within one block's time.
    public func step(_ token: Int, cache: KVCache, target: Int? = nil, cancellation isCancelled: (() -> Bool)? = nil) throws -> StepOutcome {
        let start = DispatchTime.now()
        let network = model.network, L = network.shape.layerCount, position = cache.length
        try network.beginToken(token, workspace: workspace, cache: cache)
        probe.startToken(position: position, target: target)
        var trace = TokenTrace(token: nil, exitLayer: L)

        for block in 0..<L {
            if let isCancelled, isCancelled() { throw StepCancelled() }
            if policy.needsPreviousHidden { probe.rememberPrevious() }
            network.runBlock(block, workspace: workspace, cache: cache)
            probe.countBlock()
            let layer = block + 1
            if layer == L { break }
            probe.begin(layer: layer)
            let decision = policy.decide(probe)
            if traceTopK > 0 { probe.signals.topTokens = inspectTopTokens() }
            trace.layers.append(probe.signals)
            switch decision {
            case .continue:
                continue
            case .stop:
                trace.stopped = true
                trace.exitLayer = layer
                trace.stopProbability = probe.signals.controller?.stop
                return .stopped(finish(trace, start))
            case .exit:
                probe.useHeadAsOutput(into: exitLogits.pointer)
                for skipped in layer..<L { // block indices of every block after ℓ
                    network.copyState(from: probe.hidden, block: skipped, position: position, workspace: workspace, cache: cache)
                }
                probe.countStateCopy(blocks: L - layer)
                network.commitToken(cache: cache)
                trace.exitLayer = layer
                return .logits(UnsafeBufferPointer(start: exitLogits.pointer, count: network.shape.vocabularySize), finish(trace, start))
            }
        }
        network.finalLogits(workspace.residual.pointer, into: exitLogits.pointer, workspace: workspace)
        probe.countFinalHead()
        let logits = UnsafeBufferPointer(start: exitLogits.pointer, count: network.shape.vocabularySize)
        if traceTopK > 0 {
            probe.begin(layer: L)
            probe.signals.topTokens = topTokens(logits)
            trace.layers.append(probe.signals)
        }
        network.commitToken(cache: cache)
        return .logits(logits, finish(trace, start))
    }

    /// The trace with this step's FLOPs and wall time filled in.
    private func finish(_ trace: TokenTrace, _ start: DispatchTime) -> TokenTrace {
        var trace = trace
        trace.flops = probe.cost
        trace.fullFlops = CostModel.fullToken(shape: model.network.shape, position: probe.position).total
        trace.seconds = elapsedSeconds(since: start)
        return trace
    }

    /// State copying for one token that exited at layer `l`: every later block gets the keys and
    /// values it would have stored, computed from `h` through that block's own norm and K/V projections.
    public func copyState(from h: UnsafePointer<Float>, exitLayer l: Int, position: Int, cache: KVCache) {
        for block in l..<model.network.shape.layerCount {
            model.network.copyState(from: h, block: block, position: position, workspace: workspace, cache: cache)
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
