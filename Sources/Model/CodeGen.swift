import Foundation
import Kernels
import SafeTensors

/// Salesforce CodeGen with Hugging Face semantics (`CodeGenForCausalLM`): each block is
/// `x + attn(ln(x)) + mlp(ln(x))` — one LayerNorm feeding attention and the MLP side by side —
/// with causal multi-head attention whose queries and keys turn by GPT-J-style rotary embeddings
/// on their first `rotary_dim` dimensions, a `gelu_new` MLP with biases, the final `ln_f`, and an
/// untied LM head with a bias. No position embedding: positions enter through the rotation only.
///
/// The whole forward pass is `embed`, `forward(block:…)` and `finalNorm` below; prefill, the
/// per-token block API and decoding come from `Transformer`.
public final class CodeGen: Transformer {
    public let config: CodeGenConfig
    public let weights: CodeGenWeights
    public let shape: ModelShape
    public let pool: ComputePool
    let rotary: RotaryTable

    public init(weights: CodeGenWeights, threads: Int = 1) {
        self.config = weights.config
        self.weights = weights
        self.shape = config.shape
        self.pool = threads == 1 ? .serial : ComputePool(threads: threads)
        // CodeGen's angles use rotary_dim, not the head size, as the exponent's denominator.
        rotary = RotaryTable(headSize: config.rotaryDimensions, base: 10000)
    }

    /// Loads `config.json` (model_type codegen) and `model.safetensors` from a Hugging Face directory.
    public static func load(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> CodeGen {
        let config = try CodeGenConfig.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        return CodeGen(weights: try CodeGenWeights(file: file, config: config, precision: precision), threads: threads)
    }

    public var head: any LinearWeights { weights.head }
    public var headBias: FloatBuffer? { weights.headBias }
    public var bytesPerToken: Int { weights.bytesPerToken }
    public var weightFormat: String { storageName(weights.blocks.first?.qkv) }
    public func withThreads(_ threads: Int) -> any Transformer { CodeGen(weights: weights, threads: threads) }

    public func embed(_ tokens: ArraySlice<Int>, firstPosition: Int, into out: UnsafeMutablePointer<Float>) {
        for (r, token) in tokens.enumerated() {
            weights.tokenEmbedding.copyRow(token, into: out + r * config.embeddingSize)
        }
    }

    public func forward(block: Int, rows n: Int, firstPosition p0: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block]
        let d = config.embeddingSize
        let x = ws.residual.pointer

        // One norm of the block's input feeds both branches; `ws.normed` keeps it until the MLP has read it.
        for r in 0..<n {
            layerNorm(x + r * d, ws.normed.pointer + r * d, d, gamma: b.lnGamma.pointer, beta: b.lnBeta.pointer,
                      eps: config.layerNormEpsilon)
        }

        // Attention branch: x += out_proj(attention(rope(q), rope(k), v)).
        b.qkv.gemm(ws.normed.pointer, rows: n, ws.qkv.pointer, bias: nil, pool: pool)
        for r in 0..<n { rotate(ws.qkv.pointer + r * shape.qkvWidth, position: p0 + r, queries: true, workspace: ws) }
        storeKeysAndValues(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        attend(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        b.output.gemm(ws.attention.pointer, rows: n, ws.projected.pointer, bias: nil, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)

        // MLP branch, on the same normed input: x += fc_out(gelu(fc_in(ln(x_in)))).
        b.fcIn.gemm(ws.normed.pointer, rows: n, ws.inner.pointer, bias: b.fcInBias.pointer, pool: pool)
        geluNew(ws.inner.pointer, n * config.innerSize)
        b.fcOut.gemm(ws.inner.pointer, rows: n, ws.projected.pointer, bias: b.fcOutBias.pointer, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)
    }

    public func finalNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        layerNorm(x, out, config.embeddingSize, gamma: weights.lnFGamma.pointer, beta: weights.lnFBeta.pointer,
                  eps: config.layerNormEpsilon)
    }

    public func copyState(from h: UnsafePointer<Float>, block: Int, position: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block], d = config.embeddingSize
        layerNorm(h, ws.normed.pointer, d, gamma: b.lnGamma.pointer, beta: b.lnBeta.pointer, eps: config.layerNormEpsilon)
        // Keys and values only (the outputs after the queries), then the keys' rotation at this position.
        b.qkv.gemv(ws.normed.pointer, ws.qkv.pointer, bias: nil, outputs: d..<(3 * d), pool: pool)
        rotate(ws.qkv.pointer, position: position, queries: false, workspace: ws)
        cache.store(layer: block, position: position, keys: ws.qkv.pointer + d, values: ws.qkv.pointer + 2 * d)
    }

    /// Partial interleaved RoPE on one `qkv` row at `position`: its keys, and its queries when asked.
    private func rotate(_ row: UnsafeMutablePointer<Float>, position: Int, queries: Bool, workspace ws: Workspace) {
        if ws.rotaryPosition != position {
            rotary.angles(position: position, cos: ws.cos.pointer, sin: ws.sin.pointer)
            ws.rotaryPosition = position
        }
        let heads = config.headCount, hs = config.headSize, rd = config.rotaryDimensions
        if queries {
            applyInterleavedRotary(row, heads: heads, headSize: hs, rotaryDimensions: rd, cos: ws.cos.pointer, sin: ws.sin.pointer)
        }
        applyInterleavedRotary(row + shape.queryWidth, heads: heads, headSize: hs, rotaryDimensions: rd,
                               cos: ws.cos.pointer, sin: ws.sin.pointer)
    }
}

/// The weights of one CodeGen block, in the engine's layouts.
public struct CodeGenBlockWeights: Sendable {
    /// `ln_1`, the block's only norm.
    public let lnGamma: FloatBuffer, lnBeta: FloatBuffer
    /// `attn.qkv_proj` re-ordered to d → 3d as queries, keys, values (no bias).
    public let qkv: any LinearWeights
    /// `attn.out_proj` (no bias).
    public let output: any LinearWeights
    /// `mlp.fc_in`: d → inner, and `mlp.fc_out`: inner → d, both with biases.
    public let fcIn: any LinearWeights, fcInBias: FloatBuffer
    public let fcOut: any LinearWeights, fcOutBias: FloatBuffer

    var matrixBytes: Int { qkv.byteCount + output.byteCount + fcIn.byteCount + fcOut.byteCount }
}

/// All weights of a CodeGen model.
public struct CodeGenWeights: Sendable {
    public let config: CodeGenConfig
    public let tokenEmbedding: any EmbeddingTable
    public let blocks: [CodeGenBlockWeights]
    public let lnFGamma: FloatBuffer, lnFBeta: FloatBuffer
    /// `lm_head` d → V, and its bias (V).
    public let head: any LinearWeights
    public let headBias: FloatBuffer

    /// Bytes of weights read for one decoded token (block matrices, norms and biases, the head
    /// with its bias, one embedding row).
    public var bytesPerToken: Int {
        let d = config.embeddingSize, inner = config.innerSize
        let perBlock = (2 * d + inner + d) * 4 // ln_1, fc_in and fc_out biases
        return head.byteCount + config.vocabularySize * 4 + d * 4 + 2 * d * 4
            + blocks.reduce(0) { $0 + $1.matrixBytes + perBlock }
    }

    /// The rows of HF's fused `qkv_proj.weight` (`[3d, d]`) in the engine's order: all queries,
    /// then all keys, then all values.
    ///
    /// HF reshapes the projection's 3d outputs to `[mp_num = 4, 3·d/4]` and splits each shard into
    /// **query, value, key** (in that order) of d/4 each; shard m holds dimensions
    /// `m·d/4 ..< (m+1)·d/4` of each. A shard can cut through a head: the split is on dimensions.
    static func queriesKeysValues(_ fused: [Float], embeddingSize d: Int) -> [Float] {
        let shards = CodeGenConfig.modelParallelShards, local = d / shards
        var out = [Float](repeating: 0, count: fused.count)
        for m in 0..<shards {
            // Offsets, in rows, of this shard's q, v and k, and of where each goes in the output.
            let source = m * 3 * local
            for (part, target) in [(0, 0), (1, 2 * d), (2, d)] { // q → queries, v → values, k → keys
                let from = (source + part * local) * d, to = (target + m * local) * d
                out.replaceSubrange(to..<(to + local * d), with: fused[from..<(from + local * d)])
            }
        }
        return out
    }

    /// Loads a Hugging Face checkpoint (`transformer.…` names, torch `Linear` layout `[out, in]`).
    ///
    /// - Parameter precision: how matrices are kept in memory; `nil` keeps F16 as F16, else F32.
    public init(file: SafeTensorsFile, config: CodeGenConfig, precision: WeightPrecision? = nil) throws {
        self.config = config
        let name = URL(fileURLWithPath: file.path).lastPathComponent
        let d = config.embeddingSize, V = config.vocabularySize, inner = config.innerSize
        let embeddingName = "transformer.wte.weight"
        guard let embeddingEntry = file.entry(embeddingName) else {
            throw ModelError.tensor(file: name, name: embeddingName, "missing (the file has \(file.names.count) tensors; is this a CodeGen checkpoint?)")
        }
        let keep: WeightPrecision = precision ?? (embeddingEntry.dtype == .F16 ? .float16 : .float32)

        func read(_ tensor: String, _ shape: [Int]) throws -> [Float] {
            guard file.entry(tensor) != nil else { throw ModelError.tensor(file: name, name: tensor, "missing (expected shape \(shape))") }
            return try file.floats(tensor, shape: shape)
        }
        func vector(_ tensor: String, _ n: Int) throws -> FloatBuffer { FloatBuffer(try read(tensor, [n])) }
        /// A torch `Linear` weight `[out, in]` (rows given), packed for `y = W·x`.
        func packed(_ rows: [Float], outputs: Int, inputs: Int) -> PackedMatrix {
            PackedMatrix(rowMajor: GPT2Weights.transposed(rows, rows: outputs, cols: inputs), inCount: inputs, outCount: outputs,
                         precision: keep)
        }
        func linear(_ tensor: String, outputs: Int, inputs: Int) throws -> PackedMatrix {
            packed(try read(tensor, [outputs, inputs]), outputs: outputs, inputs: inputs)
        }

        let embedding = try read(embeddingName, [V, d])
        tokenEmbedding = RowMatrix(embedding, rows: V, cols: d, precision: keep)
        var blocks: [CodeGenBlockWeights] = []
        for l in 0..<config.layerCount {
            let p = "transformer.h.\(l)."
            let fused = try read(p + "attn.qkv_proj.weight", [3 * d, d])
            blocks.append(CodeGenBlockWeights(
                lnGamma: try vector(p + "ln_1.weight", d), lnBeta: try vector(p + "ln_1.bias", d),
                qkv: packed(Self.queriesKeysValues(fused, embeddingSize: d), outputs: 3 * d, inputs: d),
                output: try linear(p + "attn.out_proj.weight", outputs: d, inputs: d),
                fcIn: try linear(p + "mlp.fc_in.weight", outputs: inner, inputs: d), fcInBias: try vector(p + "mlp.fc_in.bias", inner),
                fcOut: try linear(p + "mlp.fc_out.weight", outputs: d, inputs: inner), fcOutBias: try vector(p + "mlp.fc_out.bias", d)))
        }
        self.blocks = blocks
        lnFGamma = try vector("transformer.ln_f.weight", d)
        lnFBeta = try vector("transformer.ln_f.bias", d)
        // A tied config may leave lm_head.weight out (the embedding stands in); the bias is always its own.
        if file.entry("lm_head.weight") == nil, config.tiedEmbeddings {
            head = packed(embedding, outputs: V, inputs: d)
        } else {
            head = try linear("lm_head.weight", outputs: V, inputs: d)
        }
        headBias = try vector("lm_head.bias", V)
    }
}
