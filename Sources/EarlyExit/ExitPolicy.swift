import Foundation
import Kernels
import Model

/// Decides, after each block, whether the current token exits, stops the completion, or goes on.
///
/// Policies see the layer through a `LayerProbe` and pay only for what they ask:
/// the controller, an exit head's logits, or the cosine to the previous layer.
/// The decoder then runs the head **once**, at the exit layer (reusing the logits
/// if the policy already computed them there).
public protocol ExitPolicy: Sendable {
    /// Short name with settings, e.g. `sec(τexit=0.9, τstop=0.8)`.
    var label: String { get }
    /// Whether the policy reads `probe.cosineToPrevious()` (the decoder then keeps the previous hidden state).
    var needsPreviousHidden: Bool { get }
    /// Called after block `probe.layer` (1-based, < L) for a generated token.
    func decide(_ probe: LayerProbe) -> ExitDecision
}

extension ExitPolicy {
    public var needsPreviousHidden: Bool { false }
}

/// Every layer: the reference.
public struct FullDepthPolicy: ExitPolicy {
    public init() {}
    public var label: String { "full" }
    public func decide(_ probe: LayerProbe) -> ExitDecision { .continue }
}

/// The paper's Stop&Exit Controller with thresholds τ_exit and τ_stop.
public struct SECPolicy: ExitPolicy {
    public var tauExit: Float
    public var tauStop: Float
    public init(tauExit: Float, tauStop: Float) { self.tauExit = tauExit; self.tauStop = tauStop }
    public var label: String { String(format: "sec(τexit=%g, τstop=%g)", tauExit, tauStop) }
    public func decide(_ probe: LayerProbe) -> ExitDecision {
        guard let p = probe.controller() else { return .continue }
        let decision = StopExitController.decide(p, tauExit: tauExit, tauStop: tauStop)
        // No head at this layer means the token cannot leave here; stop still can.
        if decision == .exit && !probe.hasHead { return .continue }
        return decision
    }
}

/// CALM's softmax-confidence baseline: exit when the layer head's top-1 minus top-2 probability ≥ λ.
/// Its head runs at every visited layer, and that cost is counted.
public struct SoftmaxConfidencePolicy: ExitPolicy {
    public var lambda: Float
    public init(lambda: Float) { self.lambda = lambda }
    public var label: String { String(format: "softmax(λ=%g)", lambda) }
    public func decide(_ probe: LayerProbe) -> ExitDecision {
        guard let margin = probe.topMargin() else { return .continue }
        return margin >= lambda ? .exit : .continue
    }
}

/// CALM's hidden-state saturation baseline: exit when cos(h_ℓ, h_{ℓ−1}) ≥ λ.
public struct SaturationPolicy: ExitPolicy {
    public var lambda: Float
    public init(lambda: Float) { self.lambda = lambda }
    public var label: String { String(format: "saturation(λ=%g)", lambda) }
    public var needsPreviousHidden: Bool { true }
    public func decide(_ probe: LayerProbe) -> ExitDecision {
        guard probe.hasHead else { return .continue }
        return probe.cosineToPrevious() >= lambda ? .exit : .continue
    }
}

/// Always exit at layer k (k ≥ L means full depth). When the exit heads cover some layers only
/// (CodeGen's every third layer), the token leaves at the deepest head at or below k: never deeper
/// than asked. `EarlyExitModel.check` refuses a k with no head at or below it.
public struct FixedLayerPolicy: ExitPolicy {
    public var layer: Int
    public init(layer: Int) { self.layer = layer }
    public var label: String { "fixed(k=\(layer))" }
    public func decide(_ probe: LayerProbe) -> ExitDecision {
        probe.layer == probe.nearestExit(atOrBelow: layer) ? .exit : .continue
    }
}

/// Teacher-forced oracle: exit at the first layer whose head predicts the reference token.
/// For studies only: it needs the answer (`LayerProbe.target`).
public struct OraclePolicy: ExitPolicy {
    public init() {}
    public var label: String { "oracle" }
    public func decide(_ probe: LayerProbe) -> ExitDecision {
        guard let target = probe.target, let logits = probe.headLogits() else { return .continue }
        return Sampler.argmax(logits) == target ? .exit : .continue
    }
}
