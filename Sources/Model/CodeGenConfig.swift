import Foundation

/// The fields of a Hugging Face `CodeGenConfig` (`config.json`, `model_type` `codegen`) that the
/// engine uses: Salesforce CodeGen (codegen-350M-mono/-multi: 20 layers, d 1024, 16 heads,
/// rotary_dim 32, vocabulary 51,200).
public struct CodeGenConfig: Sendable, Equatable {
    public var layerCount: Int
    public var embeddingSize: Int
    public var headCount: Int
    /// `rotary_dim`: the leading dimensions of each head that rotary embeddings turn.
    public var rotaryDimensions: Int
    /// `n_inner`, or 4d when absent.
    public var innerSize: Int
    public var vocabularySize: Int
    /// `n_positions`: the rotary table's length, so the most positions the model attends over.
    public var contextLength: Int
    public var layerNormEpsilon: Float
    /// Whether the LM head is the token embedding (CodeGen checkpoints are untied; the bias is kept either way).
    public var tiedEmbeddings: Bool
    public var bosTokenID: Int?
    public var eosTokenID: Int?

    /// HF's CodeGen projects queries, values and keys in one matrix whose outputs are interleaved
    /// across the 4 model-parallel shards it was trained with (`CodeGenAttention.mp_num`).
    public static let modelParallelShards = 4

    public var headSize: Int { embeddingSize / headCount }

    public init(layerCount: Int, embeddingSize: Int, headCount: Int, rotaryDimensions: Int, innerSize: Int? = nil,
                vocabularySize: Int, contextLength: Int, layerNormEpsilon: Float = 1e-5, tiedEmbeddings: Bool = false,
                bosTokenID: Int? = nil, eosTokenID: Int? = nil) {
        self.layerCount = layerCount
        self.embeddingSize = embeddingSize
        self.headCount = headCount
        self.rotaryDimensions = rotaryDimensions
        self.innerSize = innerSize ?? GPT2Config.defaultInnerSize(embeddingSize)
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layerNormEpsilon = layerNormEpsilon
        self.tiedEmbeddings = tiedEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
    }

    public var shape: ModelShape {
        ModelShape(architecture: .codegen, layerCount: layerCount, embeddingSize: embeddingSize, headCount: headCount,
                   kvHeadCount: headCount, headSize: headSize, innerSize: innerSize, vocabularySize: vocabularySize,
                   contextLength: contextLength, normEpsilon: layerNormEpsilon, bosTokenID: bosTokenID,
                   eosTokenID: eosTokenID, rotaryDimensions: rotaryDimensions)
    }

    /// Reads and validates a Hugging Face `config.json` whose `model_type` is `codegen`.
    public static func load(from url: URL) throws -> CodeGenConfig {
        let file = url.lastPathComponent
        let json = try ConfigJSON(url: url)
        guard try json.string("model_type") == "codegen" else { throw ModelError.file(file, "field 'model_type' must be 'codegen'") }
        if let act = try json.string("activation_function"), !["gelu_new", "gelu_pytorch_tanh"].contains(act) {
            throw ModelError.file(file, "field 'activation_function' is '\(act)'; only gelu_new is supported")
        }
        // HF writes the n_* names; its attribute map also accepts the generic ones.
        func required(_ key: String, _ alias: String) throws -> Int {
            guard let value = try json.int(key) ?? json.int(alias) else { throw ModelError.file(file, "missing field '\(key)'") }
            return value
        }
        // Without rotary_dim HF builds a table as wide as the whole model, which only fits a
        // one-head model; no released CodeGen omits it, so it is required rather than guessed.
        guard let rotary = try json.int("rotary_dim") else {
            throw ModelError.file(file, "missing field 'rotary_dim' (the rotated dimensions of each head)")
        }
        let config = CodeGenConfig(
            layerCount: try required("n_layer", "num_hidden_layers"),
            embeddingSize: try required("n_embd", "hidden_size"),
            headCount: try required("n_head", "num_attention_heads"),
            rotaryDimensions: rotary,
            innerSize: try json.int("n_inner"),
            vocabularySize: try json.requiredInt("vocab_size"),
            contextLength: try json.int("n_positions") ?? json.int("max_position_embeddings") ?? json.int("n_ctx") ?? 2048,
            layerNormEpsilon: Float(try json.number("layer_norm_epsilon") ?? 1e-5),
            tiedEmbeddings: try json.bool("tie_word_embeddings") ?? false,
            bosTokenID: try json.tokenID("bos_token_id"),
            eosTokenID: try json.tokenID("eos_token_id"))
        try config.validate(file: file)
        return config
    }

    /// Checks that the numbers describe a model this engine can run, before any size is derived from them.
    public func validate(file: String = "config.json") throws {
        func fail(_ why: String) -> ModelError { .file(file, why) }
        guard (1...1024).contains(layerCount) else { throw fail("n_layer = \(layerCount) is out of range 1...1024") }
        guard (1...65536).contains(embeddingSize) else { throw fail("n_embd = \(embeddingSize) is out of range 1...65536") }
        guard (1...1024).contains(headCount), embeddingSize % headCount == 0 else {
            throw fail("n_head = \(headCount) must be in 1...1024 and divide n_embd = \(embeddingSize)")
        }
        guard embeddingSize % Self.modelParallelShards == 0 else {
            throw fail("n_embd = \(embeddingSize) must be a multiple of 4: qkv_proj is split into mp_num = 4 shards")
        }
        guard rotaryDimensions >= 2, rotaryDimensions <= headSize, rotaryDimensions % 2 == 0 else {
            throw fail("rotary_dim = \(rotaryDimensions) must be even and in 2...\(headSize) (the head size)")
        }
        guard (1...(1 << 20)).contains(innerSize) else { throw fail("n_inner = \(innerSize) is out of range") }
        guard (1...(1 << 22)).contains(vocabularySize) else { throw fail("vocab_size = \(vocabularySize) is out of range") }
        guard (1...(1 << 20)).contains(contextLength) else { throw fail("n_positions = \(contextLength) is out of range") }
        guard layerNormEpsilon > 0, layerNormEpsilon <= 0.1 else {
            throw fail("layer_norm_epsilon = \(layerNormEpsilon) is out of range (0, 0.1]")
        }
        for (name, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID)] {
            if let id, !(0..<vocabularySize).contains(id) { throw fail("\(name) = \(id) is outside the vocabulary") }
        }
    }
}
