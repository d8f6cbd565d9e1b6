import Foundation

/// The fields of a Hugging Face `GPT2Config` (`config.json`) that the engine uses.
public struct GPT2Config: Sendable, Equatable, Codable {
    /// Number of transformer blocks, L.
    public var layerCount: Int
    /// Number of attention heads.
    public var headCount: Int
    /// Width of the residual stream, d.
    public var embeddingSize: Int
    /// Maximum sequence length (learned position embeddings).
    public var contextLength: Int
    /// Vocabulary size, V.
    public var vocabularySize: Int
    /// LayerNorm epsilon.
    public var layerNormEpsilon: Float
    /// Activation of the MLP; only the tanh-approximated GELU is supported.
    public var activation: String
    /// Beginning-of-sequence token id, if set.
    public var bosTokenID: Int?
    /// End-of-sequence token id, if set.
    public var eosTokenID: Int?

    /// Width of one attention head.
    public var headSize: Int { embeddingSize / headCount }
    /// Width of the MLP's hidden layer (GPT-2 uses 4d unless `n_inner` says otherwise).
    public var innerSize: Int

    enum CodingKeys: String, CodingKey {
        case layerCount = "n_layer", headCount = "n_head", embeddingSize = "n_embd"
        case contextLength = "n_positions", nCtx = "n_ctx", vocabularySize = "vocab_size"
        case layerNormEpsilon = "layer_norm_epsilon", activation = "activation_function"
        case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id", innerSize = "n_inner"
        case scaleByLayer = "scale_attn_by_inverse_layer_idx", reorderAndUpcast = "reorder_and_upcast_attn"
        case scaleAttnWeights = "scale_attn_weights"
    }

    /// Creates a configuration directly (tests, benchmarks).
    public init(layerCount: Int, headCount: Int, embeddingSize: Int, contextLength: Int, vocabularySize: Int,
                layerNormEpsilon: Float = 1e-5, activation: String = "gelu_new",
                bosTokenID: Int? = nil, eosTokenID: Int? = nil, innerSize: Int? = nil) {
        self.layerCount = layerCount
        self.headCount = headCount
        self.embeddingSize = embeddingSize
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.innerSize = innerSize ?? Self.defaultInnerSize(embeddingSize)
    }

    /// GPT-2's MLP width, 4d; `Int.max` (refused by `validate`) when 4d overflows, so a huge
    /// `n_embd` is reported as out of range instead of trapping.
    static func defaultInnerSize(_ embeddingSize: Int) -> Int {
        let (product, overflow) = embeddingSize.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : product
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        embeddingSize = try c.decode(Int.self, forKey: .embeddingSize)
        if let n = try c.decodeIfPresent(Int.self, forKey: .contextLength) {
            contextLength = n
        } else {
            contextLength = try c.decode(Int.self, forKey: .nCtx)
        }
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        // Absent means GPT-2's default; an explicit null is a broken file, not a request for it.
        if c.contains(.layerNormEpsilon), try c.decodeNil(forKey: .layerNormEpsilon) {
            throw ModelError.invalidInput("layer_norm_epsilon is null")
        }
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_new"
        bosTokenID = try c.decodeIfPresent(Int.self, forKey: .bosTokenID)
        eosTokenID = try c.decodeIfPresent(Int.self, forKey: .eosTokenID)
        innerSize = try c.decodeIfPresent(Int.self, forKey: .innerSize) ?? Self.defaultInnerSize(embeddingSize)
        // Variants of attention this engine does not implement must not load silently.
        if try c.decodeIfPresent(Bool.self, forKey: .scaleByLayer) == true {
            throw ModelError.unsupported("scale_attn_by_inverse_layer_idx = true")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .reorderAndUpcast) == true {
            throw ModelError.unsupported("reorder_and_upcast_attn = true")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) == false {
            throw ModelError.unsupported("scale_attn_weights = false")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(headCount, forKey: .headCount)
        try c.encode(embeddingSize, forKey: .embeddingSize)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(contextLength, forKey: .nCtx)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(activation, forKey: .activation)
        try c.encodeIfPresent(bosTokenID, forKey: .bosTokenID)
        try c.encodeIfPresent(eosTokenID, forKey: .eosTokenID)
        try c.encode(innerSize, forKey: .innerSize)
    }

    /// Reads and validates `config.json`.
    public static func load(from url: URL) throws -> GPT2Config {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.file(url.lastPathComponent, "cannot be read (\(error.localizedDescription))")
        }
        let config: GPT2Config
        do { config = try JSONDecoder().decode(GPT2Config.self, from: data) } catch let error as ModelError {
            throw ModelError.file(url.lastPathComponent, error.description)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError.file(url.lastPathComponent, "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ModelError.file(url.lastPathComponent, "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ModelError.file(url.lastPathComponent, "is not a valid GPT-2 config (\(error.localizedDescription))")
        }
        try config.validate(file: url.lastPathComponent)
        return config
    }

    /// Checks that the numbers describe a model this engine can run.
    public func validate(file: String = "config.json") throws {
        func fail(_ why: String) -> ModelError { .file(file, why) }
        guard layerCount >= 1, layerCount <= 1024 else { throw fail("n_layer = \(layerCount) is out of range") }
        guard headCount >= 1 else { throw fail("n_head = \(headCount) must be positive") }
        guard embeddingSize >= 1, embeddingSize <= 65536 else { throw fail("n_embd = \(embeddingSize) is out of range") }
        guard embeddingSize % headCount == 0 else {
            throw fail("n_embd = \(embeddingSize) is not divisible by n_head = \(headCount)")
        }
        guard contextLength >= 1, contextLength <= 1 << 20 else { throw fail("n_positions = \(contextLength) is out of range") }
        guard vocabularySize >= 1, vocabularySize <= 1 << 22 else { throw fail("vocab_size = \(vocabularySize) is out of range") }
        guard innerSize >= 1, innerSize <= 1 << 20 else { throw fail("n_inner = \(innerSize) is out of range") }
        // Real models use 1e-12 … 1e-5; an epsilon near the activations' variance would flatten every LayerNorm.
        guard layerNormEpsilon > 0, layerNormEpsilon <= 0.1 else {
            throw fail("layer_norm_epsilon = \(layerNormEpsilon) is out of range (0, 0.1]")
        }
        for (field, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID)] {
            if let id, !(0..<vocabularySize).contains(id) {
                throw fail("\(field) = \(id) is not a token id (vocab_size = \(vocabularySize))")
            }
        }
        guard ["gelu_new", "gelu_pytorch_tanh"].contains(activation) else {
            throw fail("activation_function '\(activation)' is not supported (only gelu_new)")
        }
    }
}
