import Foundation
import Kernels
import SafeTensors

/// The weights of one Llama block, in the engine's layouts.
public struct LlamaBlockWeights: Sendable {
    /// `input_layernorm` (GGUF `attn_norm`), RMSNorm gain.
    public let attentionNorm: FloatBuffer
    /// `q_proj`, `k_proj`, `v_proj` as one d → (H + 2·H_kv)·head_size product: queries, keys, values.
    public let qkv: any LinearWeights
    /// Qwen2's q/k/v biases, in the same order.
    public let qkvBias: FloatBuffer?
    /// `o_proj` (GGUF `attn_output`).
    public let output: any LinearWeights
    /// `post_attention_layernorm` (GGUF `ffn_norm`).
    public let mlpNorm: FloatBuffer
    /// `gate_proj` and `up_proj` as one d → 2·inner product: gates, then ups.
    public let gateUp: any LinearWeights
    /// `down_proj`.
    public let down: any LinearWeights

    public init(attentionNorm: FloatBuffer, qkv: any LinearWeights, qkvBias: FloatBuffer?, output: any LinearWeights,
                mlpNorm: FloatBuffer, gateUp: any LinearWeights, down: any LinearWeights) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qkvBias = qkvBias
        self.output = output
        self.mlpNorm = mlpNorm
        self.gateUp = gateUp
        self.down = down
    }

    var matrixBytes: Int { qkv.byteCount + output.byteCount + gateUp.byteCount + down.byteCount }
}

/// All weights of a Llama or Qwen2 model.
public struct LlamaWeights: Sendable {
    public let config: LlamaConfig
    public let tokenEmbedding: any EmbeddingTable
    public let blocks: [LlamaBlockWeights]
    public let finalNorm: FloatBuffer
    /// The LM head d → V: `lm_head`, or the token embedding when tied.
    public let head: any LinearWeights

    public init(config: LlamaConfig, tokenEmbedding: any EmbeddingTable, blocks: [LlamaBlockWeights],
                finalNorm: FloatBuffer, head: any LinearWeights) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.head = head
    }

    /// Bytes of weights read for one decoded token (every block matrix and norm, the head, one embedding row).
    public var bytesPerToken: Int {
        let d = config.embeddingSize
        return head.byteCount + d * 4 * (2 + 2 * blocks.count) + blocks.reduce(0) { $0 + $1.matrixBytes }
    }

    /// Loads a Hugging Face checkpoint (`model.safetensors`, torch `Linear` layout `[out, in]`).
    ///
    /// - Parameter precision: how matrices are kept in memory; `nil` keeps F16 as F16, else F32.
    public init(file: SafeTensorsFile, config: LlamaConfig, precision: WeightPrecision? = nil) throws {
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        let d = config.embeddingSize, V = config.vocabularySize, inner = config.innerSize
        let q = config.headCount * config.headSize, kv = config.kvHeadCount * config.headSize
        let embeddingName = "model.embed_tokens.weight"
        guard let embeddingEntry = file.entry(embeddingName) else {
            throw ModelError.tensor(file: name, name: embeddingName, "missing (the file has \(file.names.count) tensors; is this a Llama checkpoint?)")
        }
        let keep: WeightPrecision = precision ?? (embeddingEntry.dtype == .F16 ? .float16 : .float32)

        func read(_ tensor: String, _ shape: [Int]) throws -> [Float] {
            guard file.entry(tensor) != nil else {
                throw ModelError.tensor(file: name, name: tensor, "missing (expected shape \(shape))")
            }
            return try file.floats(tensor, shape: shape)
        }
        /// torch `Linear` weights `[out, in]`, stacked along outputs, packed for `y = W·x`.
        func linear(_ parts: [(String, Int)], inputs: Int) throws -> PackedMatrix {
            var rows: [Float] = []
            for (tensor, outputs) in parts { rows += try read(tensor, [outputs, inputs]) }
            let outputs = parts.reduce(0) { $0 + $1.1 }
            return PackedMatrix(rowMajor: GPT2Weights.transposed(rows, rows: outputs, cols: inputs),
                                inCount: inputs, outCount: outputs, precision: keep)
        }

        let embedding = try read(embeddingName, [V, d])
        var blocks: [LlamaBlockWeights] = []
        for b in 0..<config.layerCount {
            let p = "model.layers.\(b)."
            var bias: FloatBuffer?
            if config.attentionBias {
                bias = FloatBuffer(try read(p + "self_attn.q_proj.bias", [q]) + read(p + "self_attn.k_proj.bias", [kv])
                                   + read(p + "self_attn.v_proj.bias", [kv]))
            }
            blocks.append(LlamaBlockWeights(
                attentionNorm: FloatBuffer(try read(p + "input_layernorm.weight", [d])),
                qkv: try linear([(p + "self_attn.q_proj.weight", q), (p + "self_attn.k_proj.weight", kv),
                                 (p + "self_attn.v_proj.weight", kv)], inputs: d),
                qkvBias: bias,
                output: try linear([(p + "self_attn.o_proj.weight", d)], inputs: q),
                mlpNorm: FloatBuffer(try read(p + "post_attention_layernorm.weight", [d])),
                gateUp: try linear([(p + "mlp.gate_proj.weight", inner), (p + "mlp.up_proj.weight", inner)], inputs: d),
                down: try linear([(p + "mlp.down_proj.weight", d)], inputs: inner)))
        }
        let headName = config.tiedEmbeddings || file.entry("lm_head.weight") == nil ? embeddingName : "lm_head.weight"
        self.init(config: config,
                  tokenEmbedding: RowMatrix(embedding, rows: V, cols: d, precision: keep),
                  blocks: blocks,
                  finalNorm: FloatBuffer(try read("model.norm.weight", [d])),
                  head: try linear([(headName, V)], inputs: d))
    }
}

extension Llama {
    /// Loads `config.json` (model_type llama or qwen2) and `model.safetensors` from a Hugging Face directory.
    public static func load(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> Llama {
        let config = try LlamaConfig.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        return Llama(weights: try LlamaWeights(file: file, config: config, precision: precision), threads: threads)
    }
}
