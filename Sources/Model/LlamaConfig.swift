import Foundation

/// The fields of a Hugging Face `LlamaConfig` / `Qwen2Config` (`config.json`), or of a GGUF file's
/// `llama.*` / `qwen2.*` metadata, that the engine uses.
public struct LlamaConfig: Sendable, Equatable {
    /// `llama` or `qwen2` (Qwen2 adds biases to the query, key and value projections).
    public var architecture: Architecture
    public var layerCount: Int
    public var embeddingSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headSize: Int
    public var innerSize: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    /// Whether the LM head is the token embedding (no `lm_head` / `output` tensor).
    public var tiedEmbeddings: Bool
    /// Whether q/k/v carry biases (always for Qwen2; `attention_bias` for Llama).
    public var attentionBias: Bool
    public var bosTokenID: Int?
    public var eosTokenID: Int?

    public init(architecture: Architecture, layerCount: Int, embeddingSize: Int, headCount: Int, kvHeadCount: Int,
                headSize: Int? = nil, innerSize: Int, vocabularySize: Int, contextLength: Int, rmsNormEpsilon: Float,
                ropeTheta: Float, tiedEmbeddings: Bool, attentionBias: Bool? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.embeddingSize = embeddingSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headSize = headSize ?? (headCount > 0 ? embeddingSize / headCount : 0)
        self.innerSize = innerSize
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias ?? (architecture == .qwen2)
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
    }

    public var shape: ModelShape {
        ModelShape(architecture: architecture, layerCount: layerCount, embeddingSize: embeddingSize, headCount: headCount,
                   kvHeadCount: kvHeadCount, headSize: headSize, innerSize: innerSize, vocabularySize: vocabularySize,
                   contextLength: contextLength, normEpsilon: rmsNormEpsilon, bosTokenID: bosTokenID, eosTokenID: eosTokenID)
    }

    /// Reads and validates a Hugging Face `config.json` whose `model_type` is `llama` or `qwen2`.
    public static func load(from url: URL) throws -> LlamaConfig {
        let file = url.lastPathComponent
        let json = try ConfigJSON(url: url)
        guard let type = try json.string("model_type"), let architecture = Architecture(rawValue: type), [.llama, .qwen2].contains(architecture) else {
            throw ModelError.file(file, "field 'model_type' must be 'llama' or 'qwen2'")
        }
        if let act = try json.string("hidden_act"), act != "silu" {
            throw ModelError.file(file, "field 'hidden_act' is '\(act)'; only silu (SwiGLU) is supported")
        }
        if json.hasNonNull("rope_scaling") { throw ModelError.file(file, "field 'rope_scaling' is not supported") }
        if try json.bool("mlp_bias") == true { throw ModelError.file(file, "field 'mlp_bias' = true is not supported") }
        // transformers ≥ 5 nests the base under `rope_parameters`; older files have `rope_theta`.
        let theta = try json.number("rope_theta") ?? json.nestedNumber("rope_parameters", "rope_theta") ?? 10000
        if let ropeType = try json.nestedString("rope_parameters", "rope_type"), ropeType != "default" {
            throw ModelError.file(file, "field 'rope_parameters.rope_type' is '\(ropeType)'; only default RoPE is supported")
        }
        let heads = try json.requiredInt("num_attention_heads")
        let config = LlamaConfig(
            architecture: architecture,
            layerCount: try json.requiredInt("num_hidden_layers"),
            embeddingSize: try json.requiredInt("hidden_size"),
            headCount: heads,
            kvHeadCount: try json.int("num_key_value_heads") ?? heads,
            headSize: try json.int("head_dim"),
            innerSize: try json.requiredInt("intermediate_size"),
            vocabularySize: try json.requiredInt("vocab_size"),
            contextLength: try json.int("max_position_embeddings") ?? 2048,
            rmsNormEpsilon: Float(try json.number("rms_norm_eps") ?? 1e-6),
            ropeTheta: Float(theta),
            tiedEmbeddings: try json.bool("tie_word_embeddings") ?? false,
            attentionBias: architecture == .qwen2 ? true : (try json.bool("attention_bias") ?? false),
            bosTokenID: try json.tokenID("bos_token_id"),
            eosTokenID: try json.tokenID("eos_token_id"))
        try config.validate(file: file)
        return config
    }

    /// Checks that the numbers describe a model this engine can run, before any size is derived from them.
    public func validate(file: String) throws {
        func fail(_ why: String) -> ModelError { .file(file, why) }
        guard (1...1024).contains(layerCount) else { throw fail("layer count \(layerCount) is out of range 1...1024") }
        guard (1...65536).contains(embeddingSize) else { throw fail("hidden size \(embeddingSize) is out of range 1...65536") }
        guard (1...1024).contains(headCount) else { throw fail("head count \(headCount) is out of range 1...1024") }
        guard (1...headCount).contains(kvHeadCount), headCount % kvHeadCount == 0 else {
            throw fail("key/value head count \(kvHeadCount) must divide the head count \(headCount)")
        }
        guard (2...1024).contains(headSize), headSize % 2 == 0 else { throw fail("head size \(headSize) must be even, 2...1024") }
        guard headCount * headSize <= 65536 else { throw fail("heads × head size = \(headCount * headSize) is out of range") }
        guard (1...(1 << 20)).contains(innerSize) else { throw fail("intermediate size \(innerSize) is out of range") }
        guard (1...(1 << 22)).contains(vocabularySize) else { throw fail("vocabulary size \(vocabularySize) is out of range") }
        guard (1...(1 << 20)).contains(contextLength) else { throw fail("context length \(contextLength) is out of range") }
        guard rmsNormEpsilon > 0, rmsNormEpsilon < 1, rmsNormEpsilon.isFinite else {
            throw fail("RMSNorm epsilon \(rmsNormEpsilon) must be in (0, 1)")
        }
        guard ropeTheta > 1, ropeTheta.isFinite else { throw fail("RoPE base \(ropeTheta) must be > 1") }
        for (name, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID)] {
            if let id, !(0..<vocabularySize).contains(id) { throw fail("\(name) \(id) is outside the vocabulary") }
        }
    }
}

/// A parsed `config.json` with typed, file-naming accessors.
struct ConfigJSON {
    let file: String
    let object: [String: Any]

    init(url: URL) throws {
        file = url.lastPathComponent
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.file(file, "cannot be read (\(error.localizedDescription))")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.file(file, "is not a JSON object")
        }
        self.object = object
    }

    func hasNonNull(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func string(_ key: String) throws -> String? {
        guard hasNonNull(key) else { return nil }
        guard let s = object[key] as? String else { throw ModelError.file(file, "field '\(key)' must be a string") }
        return s
    }

    func nestedString(_ key: String, _ inner: String) throws -> String? {
        (object[key] as? [String: Any])?[inner] as? String
    }

    func number(_ key: String) throws -> Double? {
        guard hasNonNull(key) else { return nil }
        guard let n = object[key] as? NSNumber, n.doubleValue.isFinite else {
            throw ModelError.file(file, "field '\(key)' must be a number")
        }
        return n.doubleValue
    }

    func nestedNumber(_ key: String, _ inner: String) throws -> Double? {
        guard let n = (object[key] as? [String: Any])?[inner] as? NSNumber else { return nil }
        guard n.doubleValue.isFinite else { throw ModelError.file(file, "field '\(key).\(inner)' must be a finite number") }
        return n.doubleValue
    }

    /// An integer field, range-checked before conversion so absurd values cannot overflow later arithmetic.
    func int(_ key: String) throws -> Int? {
        guard let value = try number(key) else { return nil }
        guard value == value.rounded(), abs(value) <= Double(1 << 40) else {
            throw ModelError.file(file, "field '\(key)' = \(value) is not an integer in range")
        }
        return Int(value)
    }

    func requiredInt(_ key: String) throws -> Int {
        guard let value = try int(key) else { throw ModelError.file(file, "missing field '\(key)'") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard hasNonNull(key) else { return nil }
        guard let b = object[key] as? Bool else { throw ModelError.file(file, "field '\(key)' must be true or false") }
        return b
    }

    /// A token id, or the first of a list of ids (Llama 3 lists several end tokens).
    func tokenID(_ key: String) throws -> Int? {
        if let list = object[key] as? [Any] {
            guard let first = list.first as? NSNumber else { return nil }
            return first.intValue
        }
        return try int(key)
    }
}

/// The `model_type` of a Hugging Face `config.json` (GPT-2 files written by old tools may lack it).
public func modelType(ofConfig url: URL) throws -> String? {
    try ConfigJSON(url: url).string("model_type")
}
