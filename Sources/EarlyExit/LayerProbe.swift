import Foundation
import Kernels
import Model

/// A policy's view of the current token after one layer. Signals are computed on first
/// request, recorded for the trace, and their FLOPs counted.
public final class LayerProbe: @unchecked Sendable {
    // @unchecked: owned by one decoder, used on its thread.
    /// Layer just computed, 1-based.
    public internal(set) var layer: Int = 0
    public let layerCount: Int
    /// The reference next token, when teacher forcing (the oracle).
    public internal(set) var target: Int?

    let heads: ExitHeads?
    let controllerModel: StopExitController?
    let network: any Transformer
    let workspace: Workspace
    let previous: FloatBuffer
    /// Head logits at `layer`, valid when `headLayer == layer`.
    let headBuffer: FloatBuffer
    var headLayer = -1
    /// The head at this layer was computed for the trace only, so its cost is not yet counted.
    var inspectorComputedHead = false
    var signals = LayerSignals(layer: 0)
    var cost = FlopBreakdown()

    init(network: any Transformer, workspace: Workspace, heads: ExitHeads?, controller: StopExitController?) {
        self.network = network
        self.workspace = workspace
        self.heads = heads
        self.controllerModel = controller
        layerCount = network.shape.layerCount
        previous = FloatBuffer(count: network.shape.embeddingSize)
        headBuffer = FloatBuffer(count: network.shape.vocabularySize)
    }

    /// Token position being decided (for the cost of attention).
    private(set) var position = 0
    private var blockCost = FlopBreakdown()

    /// Resets the per-token state: the cost starts with the embedding.
    func startToken(position: Int, target: Int?) {
        self.position = position
        self.target = target
        headLayer = -1
        cost = FlopBreakdown()
        cost.embedding = CostModel.embedding(shape: network.shape)
        blockCost = CostModel.block(shape: network.shape, position: position)
    }

    func rememberPrevious() {
        previous.pointer.update(from: workspace.residual.pointer, count: network.shape.embeddingSize)
    }

    func countBlock() { cost += blockCost }

    func countStateCopy(blocks: Int) { cost.stateCopy += Double(blocks) * CostModel.stateCopy(shape: network.shape) }

    func countFinalHead() { cost.head += CostModel.finalHead(shape: network.shape) }

    /// The head at this layer produces the token: copies its logits (computing them if the policy
    /// did not) and counts it once, as the output head rather than a decision head.
    func useHeadAsOutput(into out: UnsafeMutablePointer<Float>) {
        let paidByInspector = inspectorComputedHead
        if let logits = headLogits(), let base = logits.baseAddress {
            out.update(from: base, count: logits.count)
        }
        let headCost = heads?.flops(at: layer, shape: network.shape) ?? 0
        if !paidByInspector { cost.decisionHeads -= headCost }
        cost.head += headCost
    }

    func begin(layer: Int) {
        self.layer = layer
        signals = LayerSignals(layer: layer)
        inspectorComputedHead = false
    }

    /// The raw residual stream after `layer`.
    public var hidden: UnsafePointer<Float> { UnsafePointer(workspace.residual.pointer) }

    /// Whether a head exists at this layer (the token can leave here).
    public var hasHead: Bool { heads?.canExit(at: layer, layerCount: layerCount) ?? (layer == layerCount) }

    /// The deepest layer at or below `k` with a head (L when k ≥ L), or nil when there is none.
    public func nearestExit(atOrBelow k: Int) -> Int? {
        heads?.nearestExit(atOrBelow: k, layerCount: layerCount) ?? (k >= layerCount ? layerCount : nil)
    }

    /// The Stop&Exit Controller's probabilities, or nil without a controller.
    public func controller() -> ControllerProbabilities? {
        if let p = signals.controller { return p }
        guard let controllerModel else { return nil }
        let p = controllerModel.probabilities(hidden)
        signals.controller = p
        cost.controller += StopExitController.flops(width: network.shape.embeddingSize)
        return p
    }

    /// This layer's head logits (computed once per layer), or nil without a head here.
    public func headLogits() -> UnsafeBufferPointer<Float>? {
        guard hasHead else { return nil }
        if headLayer != layer {
            heads?.logits(layer: layer, hidden: hidden, into: headBuffer.pointer, network: network, workspace: workspace)
            if heads == nil { network.finalLogits(hidden, into: headBuffer.pointer, workspace: workspace) }
            headLayer = layer
            cost.decisionHeads += heads?.flops(at: layer, shape: network.shape) ?? CostModel.finalHead(shape: network.shape)
        }
        return UnsafeBufferPointer(start: headBuffer.pointer, count: network.shape.vocabularySize)
    }

    /// Top-1 minus top-2 probability of this layer's head (CALM's softmax confidence).
    public func topMargin() -> Float? {
        if let m = signals.margin { return m }
        guard let logits = headLogits() else { return nil }
        var first = -Float.infinity, second = -Float.infinity
        for v in logits {
            if v > first { second = first; first = v } else if v > second { second = v }
        }
        var sum: Float = 0
        for v in logits { sum += Foundation.exp(v - first) }
        let margin = (1 - Foundation.exp(second - first)) / sum
        signals.margin = margin
        cost.signals += 4 * Double(logits.count)
        return margin
    }

    /// Cosine similarity between this layer's and the previous layer's hidden state.
    public func cosineToPrevious() -> Float {
        if let c = signals.cosine { return c }
        let d = network.shape.embeddingSize
        let c = cosineSimilarity(hidden, previous.pointer, d)
        signals.cosine = c
        cost.signals += 6 * Double(d)
        return c
    }
}
