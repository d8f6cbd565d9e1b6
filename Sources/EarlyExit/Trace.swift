/// The policy's signals at one visited layer, as the trace records them.
public struct LayerSignals: Sendable, Codable, Equatable {
    /// 1-based layer.
    public var layer: Int
    public var controller: ControllerProbabilities?
    /// CALM softmax confidence: top-1 minus top-2 probability.
    public var margin: Float?
    /// Cosine to the previous layer's hidden state.
    public var cosine: Float?
    /// Most likely tokens of this layer's head (only when the trace asks for top-k).
    public var topTokens: [TokenProbability]?

    public init(layer: Int) { self.layer = layer }
}

/// A token id with its probability under one head.
public struct TokenProbability: Sendable, Codable, Equatable {
    public var id: Int
    public var probability: Float
}

/// How a speculative draft fared.
public enum DraftOutcome: String, Sendable, Codable {
    /// Drafted early and confirmed by the full-depth verification.
    case accepted
    /// Produced by the verification pass (a rejected draft's correction, or the bonus token).
    case verified
}

/// Everything known about one generated token — what the playground colours and the
/// evaluation aggregates.
public struct TokenTrace: Sendable, Codable {
    /// The token, nil when the step stopped the completion.
    public var token: Int?
    /// Layer (1-based) whose head produced the token; L means full depth.
    public var exitLayer: Int
    /// The step ended the completion (Stop): no token was emitted.
    public var stopped: Bool = false
    /// The controller's p(stop) when it stopped.
    public var stopProbability: Float?
    /// Signals at every visited layer (1…exit layer).
    public var layers: [LayerSignals] = []
    /// For speculative decoding: accepted draft or verified token.
    public var draft: DraftOutcome?
    /// Wall time of the step, seconds.
    public var seconds: Double = 0
    /// FLOPs the step spent, by component.
    public var flops = FlopBreakdown()
    /// FLOPs a full-depth step at the same position would have spent.
    public var fullFlops: Double = 0

    public init(token: Int?, exitLayer: Int) {
        self.token = token
        self.exitLayer = exitLayer
    }
}
