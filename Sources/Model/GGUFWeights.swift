import Foundation
import GGUF
import Kernels

/// Reading llama.cpp's GGUF files: the `llama` and `qwen2` architectures, weights kept in the
/// file's own precision (F16 stays F16; Q8_0/Q4_0/Q4_1/Q4_K/Q6_K stay block-quantised).
extension LlamaConfig {
    /// The configuration in a GGUF file's `{architecture}.*` metadata.
    public init(gguf file: GGUFFile, contextLimit: Int? = nil) throws {
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        let archName = try file.string("general.architecture")
        guard let architecture = Architecture(rawValue: archName), [.llama, .qwen2].contains(architecture) else {
            throw ModelError.file(name, "general.architecture '\(archName)' is not supported (llama, qwen2)")
        }
        let a = archName
        if let scaling = try file.optionalString("\(a).rope.scaling.type"), scaling != "none" {
            throw ModelError.file(name, "\(a).rope.scaling.type '\(scaling)' is not supported")
        }
        guard let embedding = file.tensor("token_embd.weight"), embedding.dims.count == 2 else {
            throw ModelError.tensor(file: name, name: "token_embd.weight", "missing or not 2-D")
        }
        let heads = try file.int("\(a).attention.head_count")
        let d = try file.int("\(a).embedding_length")
        let trained = try file.int("\(a).context_length")
        self.init(
            architecture: architecture,
            layerCount: try file.int("\(a).block_count"),
            embeddingSize: d,
            headCount: heads,
            kvHeadCount: try file.optionalInt("\(a).attention.head_count_kv") ?? heads,
            headSize: try file.optionalInt("\(a).attention.key_length") ?? (heads > 0 ? d / heads : 0),
            innerSize: try file.int("\(a).feed_forward_length"),
            vocabularySize: embedding.dims[1],
            contextLength: min(trained, contextLimit ?? trained),
            rmsNormEpsilon: try file.float("\(a).attention.layer_norm_rms_epsilon"),
            ropeTheta: try file.optionalFloat("\(a).rope.freq_base") ?? 10000,
            tiedEmbeddings: file.tensor("output.weight") == nil,
            attentionBias: file.tensor("blk.0.attn_q.bias") != nil,
            bosTokenID: try file.optionalInt("tokenizer.ggml.bos_token_id"),
            eosTokenID: try file.optionalInt("tokenizer.ggml.eos_token_id"))
        if let valueLength = try file.optionalInt("\(a).attention.value_length"), valueLength != headSize {
            throw ModelError.file(name, "\(a).attention.value_length \(valueLength) differs from key_length \(headSize)")
        }
        try validate(file: name)
    }
}

extension LlamaWeights {
    /// Loads the weights of a `llama` or `qwen2` GGUF file.
    public init(gguf file: GGUFFile, config: LlamaConfig) throws {
        let reader = GGUFTensorReader(file: file)
        let d = config.embeddingSize, inner = config.innerSize, V = config.vocabularySize
        let q = config.headCount * config.headSize, kv = config.kvHeadCount * config.headSize
        // llama.cpp's converter interleaves the two rotary halves of each `llama` Q/K head
        // (rows (h, half, i) → (h, i, half)); undoing it here keeps one RoPE, Hugging Face's.
        // The embedding first: it is the largest tensor, loaded while little else is resident.
        let embeddingRows = try reader.rows("token_embd.weight", rows: V, columns: d)
        let embeddingMatrix = try reader.matrix([embeddingRows])
        let embedding: any EmbeddingTable
        if let quantised = embeddingMatrix as? QuantizedMatrix {
            embedding = quantised // one copy serves the lookup and the tied head
        } else {
            embedding = RowMatrix(try reader.floats(embeddingRows), rows: V, cols: d, precision: embeddingRows.precision)
        }
        let permuted = config.architecture == .llama
        var blocks: [LlamaBlockWeights] = []
        for b in 0..<config.layerCount {
            let p = "blk.\(b)."
            var bias: FloatBuffer?
            if config.attentionBias {
                bias = FloatBuffer(try reader.vector(p + "attn_q.bias", q) + reader.vector(p + "attn_k.bias", kv)
                                   + reader.vector(p + "attn_v.bias", kv))
            }
            let qRows = try reader.rows(p + "attn_q.weight", rows: q, columns: d, unpermuteHeads: permuted ? config.headCount : nil)
            let kRows = try reader.rows(p + "attn_k.weight", rows: kv, columns: d, unpermuteHeads: permuted ? config.kvHeadCount : nil)
            let vRows = try reader.rows(p + "attn_v.weight", rows: kv, columns: d)
            blocks.append(LlamaBlockWeights(
                attentionNorm: FloatBuffer(try reader.vector(p + "attn_norm.weight", d)),
                qkv: try reader.matrix([qRows, kRows, vRows]),
                qkvBias: bias,
                output: try reader.matrix([reader.rows(p + "attn_output.weight", rows: d, columns: q)]),
                mlpNorm: FloatBuffer(try reader.vector(p + "ffn_norm.weight", d)),
                gateUp: try reader.matrix([reader.rows(p + "ffn_gate.weight", rows: inner, columns: d),
                                           reader.rows(p + "ffn_up.weight", rows: inner, columns: d)]),
                down: try reader.matrix([reader.rows(p + "ffn_down.weight", rows: d, columns: inner)])))
        }
        let head = config.tiedEmbeddings ? embeddingMatrix : try reader.matrix([reader.rows("output.weight", rows: V, columns: d)])
        self.init(config: config, tokenEmbedding: embedding, blocks: blocks,
                  finalNorm: FloatBuffer(try reader.vector("output_norm.weight", d)), head: head)
    }
}

extension QuantizedMatrix: EmbeddingTable {
    public func copyRow(_ row: Int, into out: UnsafeMutablePointer<Float>) { dequantizeRow(row, into: out) }
}

extension Llama {
    /// Loads a `llama` or `qwen2` GGUF file; `contextLimit` caps the KV cache's positions.
    public static func load(gguf file: GGUFFile, threads: Int = 1, contextLimit: Int? = nil) throws -> Llama {
        let config = try LlamaConfig(gguf: file, contextLimit: contextLimit)
        return Llama(weights: try LlamaWeights(gguf: file, config: config), threads: threads)
    }
}

/// Rows of a GGUF matrix (`[out][in]`, each row whole blocks), checked and optionally reordered.
struct TensorRows {
    let tensor: GGUFTensor
    let rows: Int
    let columns: Int
    /// The rows in engine order when they had to be reordered; otherwise the file's own bytes are used
    /// in place (no copy: a model's largest tensor, the embedding, would otherwise be resident 3×).
    let reordered: [UInt8]?

    var name: String { tensor.name }
    var type: GGMLType { tensor.type }
    var precision: WeightPrecision { type == .f16 ? .float16 : .float32 }

    func withBytes<R>(in file: GGUFFile, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let reordered { return try reordered.withUnsafeBytes(body) }
        return try body(file.bytes(of: tensor))
    }
}

/// Typed, validated access to a GGUF file's tensors, with errors naming the file and tensor.
struct GGUFTensorReader {
    let file: GGUFFile
    let name: String

    init(file: GGUFFile) {
        self.file = file
        self.name = URL(fileURLWithPath: file.path).lastPathComponent
    }

    func fail(_ tensor: String, _ why: String) -> ModelError { .tensor(file: name, name: tensor, why) }

    /// A 1-D F32 tensor of `count` values (norm gains, biases).
    func vector(_ tensor: String, _ count: Int) throws -> [Float] {
        guard let t = file.tensor(tensor) else { throw fail(tensor, "missing (expected [\(count)])") }
        guard t.dims == [count] else { throw fail(tensor, "has shape \(t.dims), expected [\(count)]") }
        var out = [Float](repeating: 0, count: count)
        let raw = file.bytes(of: t)
        switch t.type {
        case .f32:
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(count * 4))) }
        case .f16:
            out.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { convertHalf(raw, count: count, into: base) } }
        default:
            throw fail(tensor, "has type \(t.type.name); norms and biases must be F32 or F16")
        }
        return out
    }

    /// The rows of a 2-D matrix with `rows` outputs of `columns` inputs (GGUF ne = [columns, rows]).
    /// `unpermuteHeads` undoes llama.cpp's rotary interleave over that many heads.
    func rows(_ tensor: String, rows: Int, columns: Int, unpermuteHeads heads: Int? = nil) throws -> TensorRows {
        guard let t = file.tensor(tensor) else { throw fail(tensor, "missing (expected [\(columns), \(rows)])") }
        guard t.dims == [columns, rows] else { throw fail(tensor, "has shape \(t.dims), expected [\(columns), \(rows)]") }
        guard t.byteCount % rows == 0 else { throw fail(tensor, "\(t.byteCount) bytes do not split into \(rows) rows") }
        guard let heads, heads > 0 else { return TensorRows(tensor: t, rows: rows, columns: columns, reordered: nil) }
        let rowBytes = t.byteCount / rows, headSize = rows / heads, half = headSize / 2
        guard headSize * heads == rows, half * 2 == headSize else { throw fail(tensor, "rows do not split into \(heads) rotary heads") }
        let raw = file.bytes(of: t)
        var bytes = [UInt8](repeating: 0, count: t.byteCount)
        bytes.withUnsafeMutableBytes { out in
            guard let dst = out.baseAddress, let src = raw.baseAddress else { return }
            for h in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 { // file row (h, i, j) holds Hugging Face row (h, j, i)
                        let from = (h * headSize + 2 * i + j) * rowBytes, to = (h * headSize + j * half + i) * rowBytes
                        (dst + to).copyMemory(from: src + from, byteCount: rowBytes)
                    }
                }
            }
        }
        file.releasePages(of: t)
        return TensorRows(tensor: t, rows: rows, columns: columns, reordered: bytes)
    }

    /// Row-major floats of float-typed rows.
    func floats(_ m: TensorRows) throws -> [Float] {
        let count = m.rows * m.columns
        var out = [Float](repeating: 0, count: count)
        try m.withBytes(in: file) { raw in
            try out.withUnsafeMutableBufferPointer { dst in
                guard let base = dst.baseAddress else { return }
                switch m.type {
                case .f32: UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(count * 4)))
                case .f16: convertHalf(raw, count: count, into: base)
                case .bf16: convertBFloat16(raw, count: count, into: base)
                default: throw fail(m.name, "has type \(m.type.name), not a float type")
                }
            }
        }
        return out
    }

    /// One weight matrix from row groups stacked along the outputs (q, k, v → qkv; gate, up → gateUp):
    /// block-quantised types stay quantised, float types are panel-packed (F16 stays F16).
    func matrix(_ parts: [TensorRows]) throws -> any LinearWeights {
        guard let first = parts.first else { preconditionFailure("a matrix has at least one part") }
        let columns = first.columns, rows = parts.reduce(0) { $0 + $1.rows }
        for part in parts where part.type != first.type || part.columns != columns {
            throw fail(part.name, "has type \(part.type.name) but \(first.name) has \(first.type.name); fused matrices need one type")
        }
        // Once built, the file's pages of these tensors are no longer needed in memory.
        defer { for part in parts { file.releasePages(of: part.tensor) } }
        if let format = first.type.blockFormat {
            do {
                if parts.count == 1 {
                    return try first.withBytes(in: file) { try QuantizedMatrix(format: format, inCount: columns, outCount: rows, bytes: $0) }
                }
                var bytes: [UInt8] = []
                for part in parts { part.withBytes(in: file) { bytes += $0 } }
                return try bytes.withUnsafeBytes { try QuantizedMatrix(format: format, inCount: columns, outCount: rows, bytes: $0) }
            } catch {
                throw fail(first.name, "\(error)")
            }
        }
        guard [.f32, .f16, .bf16].contains(first.type) else {
            throw fail(first.name, "has type \(first.type.name), which this engine does not run (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K)")
        }
        var values: [Float] = []
        values.reserveCapacity(rows * columns)
        for part in parts { values += try floats(part) }
        return PackedMatrix(rowMajor: GPT2Weights.transposed(values, rows: rows, cols: columns),
                            inCount: columns, outCount: rows, precision: first.precision)
    }
}

extension GGMLType {
    /// The kernel format for block-quantised types the engine multiplies by directly.
    var blockFormat: BlockFormat? {
        switch self {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q4_K: .q4_K
        case .q6_K: .q6_K
        default: nil
        }
    }
}

// MARK: - GPT-2 from GGUF

extension GPT2Config {
    /// The configuration in a `gpt2` GGUF file's metadata.
    public init(gguf file: GGUFFile, contextLimit: Int? = nil) throws {
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        guard let embedding = file.tensor("token_embd.weight"), embedding.dims.count == 2 else {
            throw ModelError.tensor(file: name, name: "token_embd.weight", "missing or not 2-D")
        }
        let d = try file.int("gpt2.embedding_length")
        self.init(layerCount: try file.int("gpt2.block_count"), headCount: try file.int("gpt2.attention.head_count"),
                  embeddingSize: d, contextLength: try file.int("gpt2.context_length"), vocabularySize: embedding.dims[1],
                  layerNormEpsilon: try file.float("gpt2.attention.layer_norm_epsilon"),
                  bosTokenID: try file.optionalInt("tokenizer.ggml.bos_token_id"),
                  eosTokenID: try file.optionalInt("tokenizer.ggml.eos_token_id"),
                  innerSize: try file.optionalInt("gpt2.feed_forward_length") ?? 4 * min(d, 1 << 20))
        try validate(file: name)
        // Position embeddings cover the trained context; the cache may hold fewer positions.
        if let contextLimit { contextLength = min(contextLength, contextLimit) }
    }
}

extension GPT2Weights {
    /// Loads the weights of a `gpt2` GGUF file (llama.cpp's names; matrices `[out][in]`).
    public init(gguf file: GGUFFile, config: GPT2Config) throws {
        let reader = GGUFTensorReader(file: file)
        let d = config.embeddingSize, inner = config.innerSize, V = config.vocabularySize
        var blocks: [BlockWeights] = []
        for b in 0..<config.layerCount {
            let p = "blk.\(b)."
            blocks.append(BlockWeights(
                ln1Gamma: FloatBuffer(try reader.vector(p + "attn_norm.weight", d)), ln1Beta: FloatBuffer(try reader.vector(p + "attn_norm.bias", d)),
                qkv: try reader.matrix([reader.rows(p + "attn_qkv.weight", rows: 3 * d, columns: d)]),
                qkvBias: FloatBuffer(try reader.vector(p + "attn_qkv.bias", 3 * d)),
                attnProj: try reader.matrix([reader.rows(p + "attn_output.weight", rows: d, columns: d)]),
                attnProjBias: FloatBuffer(try reader.vector(p + "attn_output.bias", d)),
                ln2Gamma: FloatBuffer(try reader.vector(p + "ffn_norm.weight", d)), ln2Beta: FloatBuffer(try reader.vector(p + "ffn_norm.bias", d)),
                fc: try reader.matrix([reader.rows(p + "ffn_up.weight", rows: inner, columns: d)]),
                fcBias: FloatBuffer(try reader.vector(p + "ffn_up.bias", inner)),
                mlpProj: try reader.matrix([reader.rows(p + "ffn_down.weight", rows: d, columns: inner)]),
                mlpProjBias: FloatBuffer(try reader.vector(p + "ffn_down.bias", d))))
        }
        let embeddingRows = try reader.rows("token_embd.weight", rows: V, columns: d)
        let embeddingMatrix = try reader.matrix([embeddingRows])
        let embedding: any EmbeddingTable
        if let quantised = embeddingMatrix as? QuantizedMatrix {
            embedding = quantised
        } else {
            embedding = RowMatrix(try reader.floats(embeddingRows), rows: V, cols: d, precision: embeddingRows.precision)
        }
        let untied = file.tensor("output.weight") != nil
        let head = untied ? try reader.matrix([reader.rows("output.weight", rows: V, columns: d)]) : embeddingMatrix
        // The file holds every trained position; only the first `contextLength` are kept.
        let positions = try reader.rows("position_embd.weight", rows: file.tensor("position_embd.weight")?.dims.last ?? 0, columns: d)
        guard positions.rows >= config.contextLength else {
            throw reader.fail("position_embd.weight", "has \(positions.rows) positions, fewer than the context \(config.contextLength)")
        }
        let positionValues = try reader.floats(positions)
        self.init(config: config, tokenEmbedding: embedding, hasUntiedHead: untied,
                  positionEmbedding: FloatBuffer(Array(positionValues.prefix(config.contextLength * d))), blocks: blocks,
                  lnFGamma: FloatBuffer(try reader.vector("output_norm.weight", d)), lnFBeta: FloatBuffer(try reader.vector("output_norm.bias", d)),
                  head: head)
    }
}

/// The network in a GGUF file, by its `general.architecture` (`gpt2`, `llama`, `qwen2`).
public func loadNetwork(gguf file: GGUFFile, threads: Int = 1, contextLimit: Int? = nil) throws -> any Transformer {
    let name = URL(fileURLWithPath: file.path).lastPathComponent
    switch try file.string("general.architecture") {
    case "gpt2":
        let config = try GPT2Config(gguf: file, contextLimit: contextLimit)
        return GPT2(weights: try GPT2Weights(gguf: file, config: config), threads: threads)
    case "llama", "qwen2":
        return try Llama.load(gguf: file, threads: threads, contextLimit: contextLimit)
    case let other:
        throw ModelError.file(name, "general.architecture '\(other)' is not supported (gpt2, llama, qwen2)")
    }
}
