import Foundation
import Kernels

/// Llama-family inference with Hugging Face semantics: RMSNorm, rotary position embeddings
/// (half-split, `rotate_half`), grouped-query attention over a KV cache, a SwiGLU MLP, final RMSNorm
/// and the tied or separate LM head. Qwen2 is the same block with biases on queries, keys and values.
///
/// The whole forward pass is `embed`, `forward(block:…)` and `finalNorm` below; prefill, the
/// per-token block API and decoding come from `Transformer`.
public final class Llama: Transformer {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    public let shape: ModelShape
    public let pool: ComputePool
    let rotary: RotaryTable

    public init(weights: LlamaWeights, threads: Int = 1) {
        self.config = weights.config
        self.weights = weights
        self.shape = config.shape
        self.pool = threads == 1 ? .serial : ComputePool(threads: threads)
        rotary = RotaryTable(headSize: config.headSize, base: config.ropeTheta)
    }

    public var head: any LinearWeights { weights.head }
    public var bytesPerToken: Int { weights.bytesPerToken }
    public var weightFormat: String { storageName(weights.blocks.first?.qkv) }
    public func withThreads(_ threads: Int) -> any Transformer { Llama(weights: weights, threads: threads) }

    public func embed(_ tokens: ArraySlice<Int>, firstPosition: Int, into out: UnsafeMutablePointer<Float>) {
        // Positions enter through RoPE inside attention, not here.
        for (r, token) in tokens.enumerated() {
            weights.tokenEmbedding.copyRow(token, into: out + r * config.embeddingSize)
        }
    }

    public func forward(block: Int, rows n: Int, firstPosition p0: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block]
        let d = config.embeddingSize, eps = config.rmsNormEpsilon, inner = config.innerSize
        let x = ws.residual.pointer

        // Attention sub-block: x += o_proj(attention(rope(q), rope(k), v)), q, k, v from rms_norm(x).
        for r in 0..<n {
            rmsNorm(x + r * d, ws.normed.pointer + r * d, d, gamma: b.attentionNorm.pointer, eps: eps)
        }
        b.qkv.gemm(ws.normed.pointer, rows: n, ws.qkv.pointer, bias: b.qkvBias?.pointer, pool: pool)
        for r in 0..<n { rotate(ws.qkv.pointer + r * shape.qkvWidth, position: p0 + r, queries: true, workspace: ws) }
        storeKeysAndValues(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        attend(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        b.output.gemm(ws.attention.pointer, rows: n, ws.projected.pointer, bias: nil, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)

        // MLP sub-block: x += down(silu(gate(h)) · up(h)), h = rms_norm(x); gate and up are one product.
        for r in 0..<n {
            rmsNorm(x + r * d, ws.normed.pointer + r * d, d, gamma: b.mlpNorm.pointer, eps: eps)
        }
        b.gateUp.gemm(ws.normed.pointer, rows: n, ws.inner.pointer, bias: nil, pool: pool)
        for r in 0..<n {
            let row = ws.inner.pointer + r * 2 * inner
            siluMultiply(row, row + inner, ws.gated.pointer + r * inner, inner)
        }
        b.down.gemm(ws.gated.pointer, rows: n, ws.projected.pointer, bias: nil, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)
    }

    public func finalNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        rmsNorm(x, out, config.embeddingSize, gamma: weights.finalNorm.pointer, eps: config.rmsNormEpsilon)
    }

    public func copyState(from h: UnsafePointer<Float>, block: Int, position: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block]
        rmsNorm(h, ws.normed.pointer, config.embeddingSize, gamma: b.attentionNorm.pointer, eps: config.rmsNormEpsilon)
        // Keys and values only (rows after the queries), then the keys' rotation at this position.
        let q = shape.queryWidth, kv = shape.kvWidth
        b.qkv.gemv(ws.normed.pointer, ws.qkv.pointer, bias: b.qkvBias?.pointer, outputs: q..<(q + 2 * kv), pool: pool)
        rotate(ws.qkv.pointer, position: position, queries: false, workspace: ws)
        cache.store(layer: block, position: position, keys: ws.qkv.pointer + q, values: ws.qkv.pointer + q + kv)
    }

    /// RoPE on one `qkv` row at `position`: its keys, and its queries when asked.
    private func rotate(_ row: UnsafeMutablePointer<Float>, position: Int, queries: Bool, workspace ws: Workspace) {
        if ws.rotaryPosition != position {
            rotary.angles(position: position, cos: ws.cos.pointer, sin: ws.sin.pointer)
            ws.rotaryPosition = position
        }
        if queries {
            applyRotary(row, heads: config.headCount, headSize: config.headSize, cos: ws.cos.pointer, sin: ws.sin.pointer)
        }
        applyRotary(row + shape.queryWidth, heads: config.kvHeadCount, headSize: config.headSize,
                    cos: ws.cos.pointer, sin: ws.sin.pointer)
    }
}

/// `f32`, `f16` or the block format of a weight matrix.
func storageName(_ matrix: (any LinearWeights)?) -> String {
    switch matrix {
    case let packed as PackedMatrix: packed.precision.rawValue
    case let quantised as QuantizedMatrix: quantised.format.rawValue
    default: "unknown"
    }
}
