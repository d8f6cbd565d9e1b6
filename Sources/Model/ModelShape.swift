/// The transformer families the engine runs.
public enum Architecture: String, Sendable, Codable, CaseIterable {
    /// GPT-2: learned positions, LayerNorm, GELU MLP, fused QKV with biases.
    case gpt2
    /// Llama: RoPE, RMSNorm, SwiGLU, grouped-query attention, no biases.
    case llama
    /// Qwen2: Llama with biases on the query, key and value projections.
    case qwen2
    /// Salesforce CodeGen: one LayerNorm feeding attention and MLP in parallel, partial GPT-J-style
    /// rotary embeddings, fused QKV without bias, GELU MLP, untied LM head with a bias.
    case codegen
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
    /// Leading dimensions of each query/key head that rotary embeddings turn: the whole head for
    /// Llama, CodeGen's `rotary_dim` (a part of it), none for GPT-2.
    public var rotaryDimensions: Int

    public init(architecture: Architecture, layerCount: Int, embeddingSize: Int, headCount: Int, kvHeadCount: Int,
                headSize: Int, innerSize: Int, vocabularySize: Int, contextLength: Int, normEpsilon: Float,
                bosTokenID: Int? = nil, eosTokenID: Int? = nil, rotaryDimensions: Int? = nil) {
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
        self.rotaryDimensions = rotaryDimensions ?? (architecture == .gpt2 ? 0 : headSize)
    }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headSize }
    /// Width of the keys (or the values) of one position, all KV heads together.
    public var kvWidth: Int { kvHeadCount * headSize }
    /// Outputs of the fused query/key/value projection: queries, then keys, then values.
    public var qkvWidth: Int { queryWidth + 2 * kvWidth }
    /// Whether the MLP is gated (SwiGLU: gate and up projections, then down).
    public var gatedMLP: Bool { architecture == .llama || architecture == .qwen2 }
    /// Whether norms are RMSNorm (no mean, no bias) rather than LayerNorm.
    public var usesRMSNorm: Bool { architecture == .llama || architecture == .qwen2 }
    /// Whether positions enter through rotary embeddings of queries and keys.
    public var usesRotary: Bool { rotaryDimensions > 0 }
    /// Whether attention and MLP read the same norm of the block's input side by side (CodeGen,
    /// GPT-J) instead of one after the other: one norm per block instead of two.
    public var parallelBlock: Bool { architecture == .codegen }
    /// Whether the fused query/key/value projection has a bias.
    public var qkvBias: Bool { architecture == .gpt2 || architecture == .qwen2 }
    /// Whether the attention output projection has a bias (GPT-2's `attn.c_proj`).
    public var projectionBias: Bool { architecture == .gpt2 }
    /// Whether the MLP's two matrices have biases (GPT-2, CodeGen).
    public var mlpBias: Bool { architecture == .gpt2 || architecture == .codegen }
    /// Whether the LM head adds a bias to the logits (CodeGen's untied `lm_head`).
    public var headBias: Bool { architecture == .codegen }
    /// Whether a learned position embedding is added to each token's input.
    public var learnedPositions: Bool { architecture == .gpt2 }
}
