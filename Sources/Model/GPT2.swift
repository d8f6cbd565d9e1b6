import Foundation
import Kernels
import SafeTensors

/// GPT-2 with Hugging Face semantics: learned position embeddings, pre-LayerNorm blocks,
/// causal multi-head attention over a KV cache, `gelu_new`, final `ln_f` and the (tied) LM head.
///
/// The whole forward pass is `embed`, `forward(block:…)` and `finalNorm` below; prefill, the
/// per-token block API and decoding come from `Transformer`.
public final class GPT2: Transformer {
    public let config: GPT2Config
    public let weights: GPT2Weights
    public let shape: ModelShape
    public let pool: ComputePool

    public init(weights: GPT2Weights, threads: Int = 1) {
        self.config = weights.config
        self.weights = weights
        self.shape = config.shape
        self.pool = threads == 1 ? .serial : ComputePool(threads: threads)
    }

    /// Loads `config.json` and `model.safetensors` from a Hugging Face model directory.
    public static func load(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> GPT2 {
        let config = try GPT2Config.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        return GPT2(weights: try GPT2Weights(file: file, config: config, precision: precision), threads: threads)
    }

    public var head: any LinearWeights { weights.head }
    public var bytesPerToken: Int { weights.bytesPerToken }
    public var weightFormat: String { storageName(weights.blocks.first?.qkv) }
    public func withThreads(_ threads: Int) -> any Transformer { GPT2(weights: weights, threads: threads) }

    public func embed(_ tokens: ArraySlice<Int>, firstPosition: Int, into out: UnsafeMutablePointer<Float>) {
        let d = config.embeddingSize
        for (r, token) in tokens.enumerated() {
            weights.tokenEmbedding.copyRow(token, into: out + r * d)
            addInPlace(out + r * d, weights.positionEmbedding.pointer + (firstPosition + r) * d, d)
        }
    }

    public func forward(block: Int, rows n: Int, firstPosition p0: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block]
        let d = config.embeddingSize, eps = config.layerNormEpsilon
        let x = ws.residual.pointer

        // Attention sub-block: x += c_proj(attention(ln_1(x))).
        for r in 0..<n {
            layerNorm(x + r * d, ws.normed.pointer + r * d, d, gamma: b.ln1Gamma.pointer, beta: b.ln1Beta.pointer, eps: eps)
        }
        b.qkv.gemm(ws.normed.pointer, rows: n, ws.qkv.pointer, bias: b.qkvBias.pointer, pool: pool)
        storeKeysAndValues(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        attend(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
        b.attnProj.gemm(ws.attention.pointer, rows: n, ws.projected.pointer, bias: b.attnProjBias.pointer, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)

        // MLP sub-block: x += c_proj(gelu(c_fc(ln_2(x)))).
        for r in 0..<n {
            layerNorm(x + r * d, ws.normed.pointer + r * d, d, gamma: b.ln2Gamma.pointer, beta: b.ln2Beta.pointer, eps: eps)
        }
        b.fc.gemm(ws.normed.pointer, rows: n, ws.inner.pointer, bias: b.fcBias.pointer, pool: pool)
        geluNew(ws.inner.pointer, n * config.innerSize)
        b.mlpProj.gemm(ws.inner.pointer, rows: n, ws.projected.pointer, bias: b.mlpProjBias.pointer, pool: pool)
        addInPlace(x, ws.projected.pointer, n * d)
    }

    public func finalNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        layerNorm(x, out, config.embeddingSize, gamma: weights.lnFGamma.pointer, beta: weights.lnFBeta.pointer,
                  eps: config.layerNormEpsilon)
    }

    public func copyState(from h: UnsafePointer<Float>, block: Int, position: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[block], d = config.embeddingSize
        layerNorm(h, ws.normed.pointer, d, gamma: b.ln1Gamma.pointer, beta: b.ln1Beta.pointer, eps: config.layerNormEpsilon)
        // Only the key and value columns of the fused projection: no duplicate K/V weights are kept.
        b.qkv.gemv(ws.normed.pointer, ws.qkv.pointer, bias: b.qkvBias.pointer, outputs: d..<(3 * d), pool: pool)
        cache.store(layer: block, position: position, keys: ws.qkv.pointer + d, values: ws.qkv.pointer + 2 * d)
    }
}

extension GPT2Config {
    /// The architecture-neutral view of this configuration.
    public var shape: ModelShape {
        ModelShape(architecture: .gpt2, layerCount: layerCount, embeddingSize: embeddingSize, headCount: headCount,
                   kvHeadCount: headCount, headSize: headSize, innerSize: innerSize, vocabularySize: vocabularySize,
                   contextLength: contextLength, normEpsilon: layerNormEpsilon, bosTokenID: bosTokenID, eosTokenID: eosTokenID)
    }
}
