import Model

/// Analytic FLOP counts per component, so "saved %" compares like with like.
///
/// Conventions (a multiply-add is 2 FLOPs): LayerNorm 8·d (mean, centred squares,
/// normalise, scale, shift); GELU 8 per element; softmax 5 per element; bias and
/// residual adds 1 per element. Attention at position p (context n = p+1) is
/// 2·n·d for the scores, 5·n·H for the softmax and 2·n·d for the weighted sum.
public enum CostModel {
    public static func layerNormFlops(_ d: Double) -> Double { 8 * d }
    /// RMSNorm: squares and their sum, then scale and gain.
    public static func rmsNormFlops(_ d: Double) -> Double { 4 * d }

    static func normFlops(_ s: ModelShape) -> Double {
        s.usesRMSNorm ? rmsNormFlops(Double(s.embeddingSize)) : layerNormFlops(Double(s.embeddingSize))
    }

    /// RoPE turns each pair with 4 multiplies and 2 adds: 3 FLOPs per rotated element.
    static func rotaryFlops(_ elements: Int) -> Double { 3 * Double(elements) }

    /// One full block for the token at `position`, split by component.
    ///
    /// GPT-2 has biases everywhere and a GELU MLP (4 matrices in all); Llama has a gated SwiGLU MLP
    /// (gate, up, down; SiLU·up counted 6 per element) and rotary queries and keys; Qwen2 adds q/k/v
    /// biases. CodeGen runs attention and MLP in parallel off one LayerNorm (so one norm, and both
    /// results added to the residual), rotates only `rotaryDimensions` of each head, and has biases
    /// on the MLP alone.
    public static func block(shape s: ModelShape, position: Int) -> FlopBreakdown {
        let d = Double(s.embeddingSize), inner = Double(s.innerSize), n = Double(position + 1), h = Double(s.headCount)
        let qw = Double(s.queryWidth), qkvw = Double(s.qkvWidth)
        var f = FlopBreakdown()
        f.norms = Double(s.parallelBlock ? 1 : 2) * normFlops(s)
        f.qkv = 2 * d * qkvw + (s.qkvBias ? qkvw : 0) + rotaryFlops(s.rotaryDimensions * (s.headCount + s.kvHeadCount))
        f.attention = 2 * n * qw + 5 * n * h + 2 * n * qw
        f.projection = 2 * qw * d + (s.projectionBias ? d : 0) + d // + residual add
        if s.gatedMLP {
            f.mlp = 2 * d * 2 * inner + 6 * inner + 2 * inner * d + d
        } else {
            let biases = s.mlpBias ? inner + d : 0
            f.mlp = 2 * d * inner + 8 * inner + 2 * inner * d + biases + d
        }
        return f
    }

    /// State copying into one skipped block: its attention norm and the K/V projections (and the
    /// keys' rotation), nothing else.
    public static func stateCopy(shape s: ModelShape) -> Double {
        let d = Double(s.embeddingSize), kv = Double(s.kvWidth)
        return normFlops(s) + 2 * d * 2 * kv + (s.qkvBias ? 2 * kv : 0) + rotaryFlops(s.rotaryDimensions * s.kvHeadCount)
    }

    /// Embedding lookup and (GPT-2) position add.
    public static func embedding(shape s: ModelShape) -> Double { s.learnedPositions ? Double(s.embeddingSize) : 0 }

    /// The final norm + LM head (+ its bias, CodeGen's).
    public static func finalHead(shape s: ModelShape) -> Double {
        normFlops(s) + 2 * Double(s.embeddingSize) * Double(s.vocabularySize) + (s.headBias ? Double(s.vocabularySize) : 0)
    }

    /// A skip-layer draft token at `position`: the embedding, `keptBlocks` full blocks and the final
    /// head — skipped blocks cost nothing (no state copying: the verification writes their K/V).
    public static func skipDraftToken(shape s: ModelShape, position: Int, keptBlocks: Int) -> FlopBreakdown {
        var f = FlopBreakdown()
        f.embedding = embedding(shape: s)
        for _ in 0..<max(0, keptBlocks) { f += block(shape: s, position: position) }
        f.head = finalHead(shape: s)
        return f
    }

    /// The verification of a speculative round: one full-depth pass over the `rows` positions
    /// `firstPosition…` (the pending token and the drafts), each row at its own position.
    public static func verification(shape s: ModelShape, firstPosition: Int, rows: Int) -> FlopBreakdown {
        var f = FlopBreakdown()
        for r in 0..<max(0, rows) { f += fullToken(shape: s, position: firstPosition + r) }
        return f
    }

    /// Everything a full-depth token costs at `position`.
    public static func fullToken(shape s: ModelShape, position: Int) -> FlopBreakdown {
        var f = FlopBreakdown()
        f.embedding = embedding(shape: s)
        for _ in 0..<s.layerCount { f += block(shape: s, position: position) }
        f.head = finalHead(shape: s)
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
