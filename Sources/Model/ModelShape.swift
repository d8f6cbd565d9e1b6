/// The transformer families the engine runs.
public enum Architecture: String, Sendable, Codable, CaseIterable {
    /// GPT-2: learned positions, LayerNorm, GELU MLP, fused QKV with biases.
    case gpt2
    /// Llama: RoPE, RMSNorm, SwiGLU, grouped-query attention, no biases.
    case llama
    /// Qwen2: Llama with biases on the query, key and value projections.
    case qwen2
}

/// What every caller above the forward pass needs to know about a network, whatever its
/// architecture: sizes for buffers and the cost model, and the special token ids.
public struct ModelShape: Sendable, Equatable {
    public var architecture: Architecture
    /// Number of transformer blocks, L.
    public var layerCount: Int
    /// Width of the residual stream, d.
    public var embeddingSize: Int
    /// Query heads.
    public var headCount: Int
    /// Key/value heads (fewer than `headCount` under grouped-query attention).
    public var kvHeadCount: Int
    /// Width of one attention head.
    public var headSize: Int
    /// Width of the MLP's hidden layer.
    public var innerSize: Int
    /// Vocabulary size, V (the logits' width).
    public var vocabularySize: Int
    /// Positions the model can attend over.
    public var contextLength: Int
    /// Epsilon of the model's norms (LayerNorm or RMSNorm).
    public var normEpsilon: Float
    public var bosTokenID: Int?
    public var eosTokenID: Int?

    public init(architecture: Architecture, layerCount: Int, embeddingSize: Int, headCount: Int, kvHeadCount: Int,
                headSize: Int, innerSize: Int, vocabularySize: Int, contextLength: Int, normEpsilon: Float,
                bosTokenID: Int? = nil, eosTokenID: Int? = nil) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.embeddingSize = embeddingSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headSize = headSize
        self.innerSize = innerSize
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.normEpsilon = normEpsilon
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
    }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headSize }
    /// Width of the keys (or the values) of one position, all KV heads together.
    public var kvWidth: Int { kvHeadCount * headSize }
    /// Outputs of the fused query/key/value projection: queries, then keys, then values.
    public var qkvWidth: Int { queryWidth + 2 * kvWidth }
    /// Whether the MLP is gated (SwiGLU: gate and up projections, then down).
    public var gatedMLP: Bool { architecture != .gpt2 }
    /// Whether norms are RMSNorm (no mean, no bias) rather than LayerNorm.
    public var usesRMSNorm: Bool { architecture != .gpt2 }
    /// Whether positions enter through rotary embeddings of queries and keys.
    public var usesRotary: Bool { architecture != .gpt2 }
}
