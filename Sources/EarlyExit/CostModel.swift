import Model

/// Analytic FLOP counts per component, so "saved %" compares like with like.
///
/// Conventions (a multiply-add is 2 FLOPs): LayerNorm 8·d (mean, centred squares,
/// normalise, scale, shift); GELU 8 per element; softmax 5 per element; bias and
/// residual adds 1 per element. Attention at position p (context n = p+1) is
/// 2·n·d for the scores, 5·n·H for the softmax and 2·n·d for the weighted sum.
public enum CostModel {
    public static func layerNormFlops(_ d: Double) -> Double { 8 * d }

    /// One full block for the token at `position`, split by component.
    public static func block(config c: GPT2Config, position: Int) -> FlopBreakdown {
        let d = Double(c.embeddingSize), inner = Double(c.innerSize), n = Double(position + 1), h = Double(c.headCount)
        var f = FlopBreakdown()
        f.norms = 2 * layerNormFlops(d)
        f.qkv = 2 * d * 3 * d + 3 * d
        f.attention = 2 * n * d + 5 * n * h + 2 * n * d
        f.projection = 2 * d * d + d + d // + residual add
        f.mlp = 2 * d * inner + inner + 8 * inner + 2 * inner * d + d + d
        return f
    }

    /// State copying into one skipped layer: `ln_1` and the K/V projections, nothing else.
    public static func stateCopy(config c: GPT2Config) -> Double {
        let d = Double(c.embeddingSize)
        return layerNormFlops(d) + 2 * d * 2 * d + 2 * d
    }

    /// Embedding lookup and position add.
    public static func embedding(config c: GPT2Config) -> Double { Double(c.embeddingSize) }

    /// The final `ln_f` + LM head.
    public static func finalHead(config c: GPT2Config) -> Double {
        layerNormFlops(Double(c.embeddingSize)) + 2 * Double(c.embeddingSize) * Double(c.vocabularySize)
    }

    /// Everything a full-depth token costs at `position`.
    public static func fullToken(config c: GPT2Config, position: Int) -> FlopBreakdown {
        var f = FlopBreakdown()
        f.embedding = embedding(config: c)
        for _ in 0..<c.layerCount { f += block(config: c, position: position) }
        f.head = finalHead(config: c)
        return f
    }
}

/// FLOPs of one token (or a whole completion) by component.
public struct FlopBreakdown: Sendable, Equatable, Codable {
    public var embedding: Double = 0
    public var qkv: Double = 0
    public var attention: Double = 0
    public var projection: Double = 0
    public var mlp: Double = 0
    public var norms: Double = 0
    /// The head that produced the token: `ln_f` + LM head, or an exit head.
    public var head: Double = 0
    /// Exit heads evaluated only to decide (CALM's softmax confidence, the oracle).
    public var decisionHeads: Double = 0
    public var controller: Double = 0
    /// Cosine similarity for the saturation policy.
    public var signals: Double = 0
    public var stateCopy: Double = 0

    public init() {}

    public var total: Double {
        embedding + qkv + attention + projection + mlp + norms + head + decisionHeads + controller + signals + stateCopy
    }

    public static func += (a: inout FlopBreakdown, b: FlopBreakdown) {
        a.embedding += b.embedding; a.qkv += b.qkv; a.attention += b.attention; a.projection += b.projection
        a.mlp += b.mlp; a.norms += b.norms; a.head += b.head; a.decisionHeads += b.decisionHeads
        a.controller += b.controller; a.signals += b.signals; a.stateCopy += b.stateCopy
    }
}
