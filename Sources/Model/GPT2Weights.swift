import Foundation
import Kernels
import SafeTensors

/// The weights of one transformer block, in the engine's layouts.
public struct BlockWeights: Sendable {
    public let ln1Gamma: FloatBuffer, ln1Beta: FloatBuffer
    /// `attn.c_attn`: d → 3d (queries, keys, values side by side).
    public let qkv: any LinearWeights, qkvBias: FloatBuffer
    /// `attn.c_proj`: d → d.
    public let attnProj: any LinearWeights, attnProjBias: FloatBuffer
    public let ln2Gamma: FloatBuffer, ln2Beta: FloatBuffer
    /// `mlp.c_fc`: d → 4d.
    public let fc: any LinearWeights, fcBias: FloatBuffer
    /// `mlp.c_proj`: 4d → d.
    public let mlpProj: any LinearWeights, mlpProjBias: FloatBuffer
}

extension GPT2Weights {
    /// `m[rows, cols]` transposed to `[cols, rows]` (row-major both).
    public static func transposed(_ m: [Float], rows: Int, cols: Int) -> [Float] {
        var t = [Float](repeating: 0, count: m.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = m[r * cols + c] } }
        return t
    }
}

/// All weights of a GPT-2 model, loaded from a Hugging Face `model.safetensors` or a GGUF file.
public struct GPT2Weights: Sendable {
    public let config: GPT2Config
    /// Token embeddings `wte[V, d]`, also the tied LM head.
    public let tokenEmbedding: any EmbeddingTable
    /// Whether the checkpoint has its own `lm_head.weight` (different from `wte`).
    public let hasUntiedHead: Bool
    /// Learned position embeddings `wpe[n_positions, d]`.
    public let positionEmbedding: FloatBuffer
    public let blocks: [BlockWeights]
    public let lnFGamma: FloatBuffer, lnFBeta: FloatBuffer

    /// The LM head (`lm_head` if untied, else `wte`) transposed to `[d, V]` and panel-packed,
    /// so logits come from the same streaming matrix-vector kernel as the blocks
    /// (about 2× faster per byte than row-by-row dot products).
    public let head: any LinearWeights

    /// Bytes of weights read for one decoded token (every block, the head, one embedding row).
    public var bytesPerToken: Int {
        let d = config.embeddingSize
        var total = head.byteCount + 2 * d * 4 /* wte row + wpe row */ + 2 * d * 4 /* ln_f */
        for b in blocks {
            total += b.qkv.byteCount + b.attnProj.byteCount + b.fc.byteCount + b.mlpProj.byteCount
            total += (4 * d + 3 * d + d + config.innerSize + d) * 4
        }
        return total
    }

    /// Loads and validates weights for `config`.
    ///
    /// - Parameter precision: how matrices are kept in memory; `nil` keeps the
    ///   checkpoint's own precision (F16 stays F16; F32 and BF16 become F32).
    /// Weights from parts already in the engine's layouts (the GGUF loader).
    init(config: GPT2Config, tokenEmbedding: any EmbeddingTable, hasUntiedHead: Bool, positionEmbedding: FloatBuffer,
         blocks: [BlockWeights], lnFGamma: FloatBuffer, lnFBeta: FloatBuffer, head: any LinearWeights) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.hasUntiedHead = hasUntiedHead
        self.positionEmbedding = positionEmbedding
        self.blocks = blocks
        self.lnFGamma = lnFGamma
        self.lnFBeta = lnFBeta
        self.head = head
    }

    public init(file: SafeTensorsFile, config: GPT2Config, precision: WeightPrecision? = nil) throws {
        self.config = config
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        // HF checkpoints name tensors either "transformer.h.0…" (GPT2LMHeadModel) or "h.0…" (GPT2Model).
        let prefix = file.entry("transformer.wte.weight") != nil ? "transformer." : ""
        let d = config.embeddingSize, inner = config.innerSize, V = config.vocabularySize
        let wteName = prefix + "wte.weight"
        guard file.entry(wteName) != nil else {
            throw ModelError.tensor(file: name, name: wteName, "missing (the file has \(file.names.count) tensors; is this a GPT-2 checkpoint?)")
        }
        // An F16 checkpoint stays F16 in memory: exact, half the bytes per token, and
        // faster here (BENCHMARKS.md). F32 and BF16 become F32.
        let keep: WeightPrecision = precision ?? (file.entry(wteName)?.dtype == .F16 ? .float16 : .float32)

        // Blocks the file holds (h.0 … h.{n-1}), to say so when config.json's n_layer asks for more.
        let blocksInFile = (0..<config.layerCount).first { l in !file.names.contains { $0.hasPrefix(prefix + "h.\(l).") } }
            ?? config.layerCount
        func read(_ tensor: String, _ shape: [Int]) throws -> [Float] {
            guard file.entry(prefix + tensor) != nil else {
                var why = "missing (expected shape \(shape))"
                if tensor.hasPrefix("h."), blocksInFile < config.layerCount {
                    why += "; config.json has n_layer = \(config.layerCount) but this file has \(blocksInFile) blocks"
                }
                throw ModelError.tensor(file: name, name: prefix + tensor, why)
            }
            return try file.floats(prefix + tensor, shape: shape)
        }
        func vector(_ tensor: String, _ n: Int) throws -> FloatBuffer { FloatBuffer(try read(tensor, [n])) }
        func matrix(_ tensor: String, _ rows: Int, _ cols: Int) throws -> PackedMatrix {
            PackedMatrix(rowMajor: try read(tensor, [rows, cols]), inCount: rows, outCount: cols, precision: keep)
        }

        let wte = try read("wte.weight", [V, d])
        tokenEmbedding = RowMatrix(wte, rows: V, cols: d, precision: keep)
        positionEmbedding = FloatBuffer(try read("wpe.weight", [config.contextLength, d]))
        var blocks: [BlockWeights] = []
        for l in 0..<config.layerCount {
            let p = "h.\(l)."
            let qkvValues = try read(p + "attn.c_attn.weight", [d, 3 * d])
            let qkvBias = try read(p + "attn.c_attn.bias", [3 * d])
            blocks.append(BlockWeights(
                ln1Gamma: try vector(p + "ln_1.weight", d), ln1Beta: try vector(p + "ln_1.bias", d),
                qkv: PackedMatrix(rowMajor: qkvValues, inCount: d, outCount: 3 * d, precision: keep),
                qkvBias: FloatBuffer(qkvBias),
                attnProj: try matrix(p + "attn.c_proj.weight", d, d), attnProjBias: try vector(p + "attn.c_proj.bias", d),
                ln2Gamma: try vector(p + "ln_2.weight", d), ln2Beta: try vector(p + "ln_2.bias", d),
                fc: try matrix(p + "mlp.c_fc.weight", d, inner), fcBias: try vector(p + "mlp.c_fc.bias", inner),
                mlpProj: try matrix(p + "mlp.c_proj.weight", inner, d), mlpProjBias: try vector(p + "mlp.c_proj.bias", d)
            ))
        }
        self.blocks = blocks
        lnFGamma = try vector("ln_f.weight", d)
        lnFBeta = try vector("ln_f.bias", d)
        // `lm_head` is normally absent (tied to wte). When present it is used as stored.
        var headValues = wte
        if file.entry("lm_head.weight") != nil {
            let values = try file.floats("lm_head.weight", shape: [V, d])
            hasUntiedHead = values != wte
            headValues = values
        } else {
            hasUntiedHead = false
        }
        head = PackedMatrix(rowMajor: Self.transposed(headValues, rows: V, cols: d), inCount: d, outCount: V, precision: keep)
    }
}
