import Foundation
import Kernels
import SafeTensors

/// GPT-2 inference with Hugging Face semantics: learned position embeddings,
/// pre-LayerNorm blocks, causal multi-head attention over a KV cache,
/// `gelu_new`, final `ln_f` and the (tied) LM head.
///
/// Two ways in:
/// - `prefill` runs many tokens per call as matrix-matrix products;
/// - the per-token API (`beginToken`, `runBlock`, `finishLogits`, `commitToken`)
///   runs **one block at a time** on the current token, so a caller can read
///   the residual stream after any layer and stop early — what early exit needs.
///   `decode` is that API run through all layers.
public final class GPT2: Sendable {
    public let config: GPT2Config
    public let weights: GPT2Weights
    /// Threads shared by every kernel call of this model.
    public let pool: ComputePool

    public init(weights: GPT2Weights, threads: Int = 1) {
        self.config = weights.config
        self.weights = weights
        self.pool = threads == 1 ? .serial : ComputePool(threads: threads)
    }

    /// Loads `config.json` and `model.safetensors` from a Hugging Face model directory.
    public static func load(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> GPT2 {
        let config = try GPT2Config.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        return GPT2(weights: try GPT2Weights(file: file, config: config, precision: precision), threads: threads)
    }

    /// A KV cache sized for the whole context (or `capacity` positions).
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(layerCount: config.layerCount, capacity: min(capacity ?? config.contextLength, config.contextLength),
                width: config.embeddingSize, headCount: config.headCount)
    }

    /// Scratch memory for decoding one token at a time.
    public func makeWorkspace() -> Workspace { Workspace(config: config, threads: pool.threadCount) }

    // MARK: - One token, one block at a time

    /// Puts the embedding of `token` at the next position (`cache.length`) into `ws.residual`.
    public func beginToken(_ token: Int, workspace ws: Workspace, cache: KVCache) throws {
        try checkToken(token)
        let position = cache.length
        guard position < cache.capacity else {
            throw ModelError.invalidInput("context is full: position \(position) ≥ capacity \(cache.capacity)")
        }
        let d = config.embeddingSize
        weights.tokenEmbedding.copyRow(token, into: ws.residual.pointer)
        addInPlace(ws.residual.pointer, weights.positionEmbedding.pointer + position * d, d)
    }

    /// Runs block `layer` on `ws.residual` for the token at position `cache.length`,
    /// writing that position's keys and values into the cache.
    public func runBlock(_ layer: Int, workspace ws: Workspace, cache: KVCache) {
        let b = weights.blocks[layer]
        let d = config.embeddingSize, eps = config.layerNormEpsilon
        let position = cache.length
        let x = ws.residual.pointer

        // Attention sub-block: x += c_proj(attention(ln_1(x))).
        layerNorm(x, ws.normed.pointer, d, gamma: b.ln1Gamma.pointer, beta: b.ln1Beta.pointer, eps: eps)
        b.qkv.gemv(ws.normed.pointer, ws.qkv.pointer, bias: b.qkvBias.pointer, pool: pool)
        cache.store(layer: layer, position: position, keys: ws.qkv.pointer + d, values: ws.qkv.pointer + 2 * d)
        let heads = config.headCount, hs = config.headSize
        pool.run { worker in
            var h = worker
            while h < heads {
                cache.attend(layer: layer, head: h, query: ws.qkv.pointer + h * hs, position: position,
                             scores: ws.scores.pointer + worker * cache.stride, out: ws.attention.pointer + h * hs)
                h += pool.threadCount
            }
        }
        b.attnProj.gemv(ws.attention.pointer, ws.projected.pointer, bias: b.attnProjBias.pointer, pool: pool)
        addInPlace(x, ws.projected.pointer, d)

        // MLP sub-block: x += c_proj(gelu(c_fc(ln_2(x)))).
        layerNorm(x, ws.normed.pointer, d, gamma: b.ln2Gamma.pointer, beta: b.ln2Beta.pointer, eps: eps)
        b.fc.gemv(ws.normed.pointer, ws.inner.pointer, bias: b.fcBias.pointer, pool: pool)
        geluNew(ws.inner.pointer, config.innerSize)
        b.mlpProj.gemv(ws.inner.pointer, ws.projected.pointer, bias: b.mlpProjBias.pointer, pool: pool)
        addInPlace(x, ws.projected.pointer, d)
    }

    /// `lm_head(ln_f(x))` of the residual stream `x` into `logits` (length V).
    public func finalLogits(_ x: UnsafePointer<Float>, into logits: UnsafeMutablePointer<Float>, workspace ws: Workspace) {
        layerNorm(x, ws.normed.pointer, config.embeddingSize,
                  gamma: weights.lnFGamma.pointer, beta: weights.lnFBeta.pointer, eps: config.layerNormEpsilon)
        weights.head.gemv(ws.normed.pointer, logits, bias: nil, pool: pool)
    }

    /// Marks the current token's keys and values as part of the context.
    public func commitToken(cache: KVCache) { cache.commit() }

    /// Decodes one token through every layer and returns the next-token logits (valid until the next call).
    @discardableResult
    public func decode(_ token: Int, cache: KVCache, workspace ws: Workspace) throws -> UnsafeBufferPointer<Float> {
        try beginToken(token, workspace: ws, cache: cache)
        for layer in 0..<config.layerCount { runBlock(layer, workspace: ws, cache: cache) }
        finalLogits(ws.residual.pointer, into: ws.logits.pointer, workspace: ws)
        commitToken(cache: cache)
        return UnsafeBufferPointer(start: ws.logits.pointer, count: config.vocabularySize)
    }

    // MARK: - Many tokens at once

    /// What `prefill` returns.
    public struct PrefillOutput: Sendable {
        /// Logits of the last token, or of every token (`[n, V]` row-major) when asked for.
        public var logits: [Float]
        /// Residual stream after each block (`hidden[l]` is `[n, d]` after block `l`), when asked for.
        public var hiddenStates: [[Float]]
    }

    /// Runs `tokens` at positions `cache.length…` in chunks of matrix-matrix products and commits them.
    public func prefill(_ tokens: [Int], cache: KVCache, allLogits: Bool = false, captureHidden: Bool = false,
                        chunkSize: Int = 64) throws -> PrefillOutput {
        for t in tokens { try checkToken(t) }
        guard cache.length + tokens.count <= cache.capacity else {
            throw ModelError.invalidInput("prompt of \(tokens.count) tokens does not fit: \(cache.length) cached, capacity \(cache.capacity)")
        }
        let d = config.embeddingSize, V = config.vocabularySize
        var output = PrefillOutput(logits: [], hiddenStates: captureHidden ? Array(repeating: [], count: config.layerCount) : [])
        if tokens.isEmpty { return output }
        let chunk = PrefillChunk(config: config, rows: min(chunkSize, tokens.count), capacity: cache.capacity, threads: pool.threadCount)
        var start = 0
        while start < tokens.count {
            let n = min(chunk.rows, tokens.count - start)
            let p0 = cache.length
            for r in 0..<n {
                let row = chunk.residual.pointer + r * d
                weights.tokenEmbedding.copyRow(tokens[start + r], into: row)
                addInPlace(row, weights.positionEmbedding.pointer + (p0 + r) * d, d)
            }
            for layer in 0..<config.layerCount {
                runBlockChunk(layer, rows: n, firstPosition: p0, chunk: chunk, cache: cache)
                if captureHidden { output.hiddenStates[layer] += UnsafeBufferPointer(start: chunk.residual.pointer, count: n * d) }
            }
            let logits = FloatBuffer(count: V)
            let ws = chunk.headWorkspace
            for r in 0..<n where allLogits || start + r == tokens.count - 1 {
                finalLogits(chunk.residual.pointer + r * d, into: logits.pointer, workspace: ws)
                output.logits += UnsafeBufferPointer(start: logits.pointer, count: V)
            }
            cache.commit(n)
            start += n
        }
        return output
    }

    /// Block `layer` for `rows` consecutive tokens starting at `firstPosition`.
    private func runBlockChunk(_ layer: Int, rows n: Int, firstPosition p0: Int, chunk c: PrefillChunk, cache: KVCache) {
        let b = weights.blocks[layer]
        let d = config.embeddingSize, eps = config.layerNormEpsilon, inner = config.innerSize
        let x = c.residual.pointer
        for r in 0..<n {
            layerNorm(x + r * d, c.normed.pointer + r * d, d, gamma: b.ln1Gamma.pointer, beta: b.ln1Beta.pointer, eps: eps)
        }
        b.qkv.gemm(c.normed.pointer, rows: n, c.qkv.pointer, bias: b.qkvBias.pointer, pool: pool)
        for r in 0..<n {
            cache.store(layer: layer, position: p0 + r, keys: c.qkv.pointer + r * 3 * d + d, values: c.qkv.pointer + r * 3 * d + 2 * d)
        }
        // Causal attention: row r attends to positions 0…p0+r.
        let heads = config.headCount, hs = config.headSize, items = n * heads
        pool.run { worker in
            var item = worker
            while item < items {
                let r = item / heads, h = item % heads
                cache.attend(layer: layer, head: h, query: c.qkv.pointer + r * 3 * d + h * hs, position: p0 + r,
                             scores: c.scores.pointer + worker * cache.stride, out: c.attention.pointer + r * d + h * hs)
                item += pool.threadCount
            }
        }
        b.attnProj.gemm(c.attention.pointer, rows: n, c.projected.pointer, bias: b.attnProjBias.pointer, pool: pool)
        addInPlace(x, c.projected.pointer, n * d)
        for r in 0..<n {
            layerNorm(x + r * d, c.normed.pointer + r * d, d, gamma: b.ln2Gamma.pointer, beta: b.ln2Beta.pointer, eps: eps)
        }
        b.fc.gemm(c.normed.pointer, rows: n, c.inner.pointer, bias: b.fcBias.pointer, pool: pool)
        geluNew(c.inner.pointer, n * inner)
        b.mlpProj.gemm(c.inner.pointer, rows: n, c.projected.pointer, bias: b.mlpProjBias.pointer, pool: pool)
        addInPlace(x, c.projected.pointer, n * d)
    }

    private func checkToken(_ token: Int) throws {
        guard token >= 0, token < config.vocabularySize else {
            throw ModelError.invalidInput("token id \(token) is outside the vocabulary (0..<\(config.vocabularySize))")
        }
    }
}

/// Scratch buffers for decoding one token. One per session; not shared across threads.
public final class Workspace: @unchecked Sendable {
    // @unchecked: used by one decoding session at a time.
    /// The residual stream of the current token: after `runBlock(l)` it is the hidden state after layer l.
    public let residual: FloatBuffer
    public let normed: FloatBuffer
    public let qkv: FloatBuffer
    public let attention: FloatBuffer
    public let projected: FloatBuffer
    public let inner: FloatBuffer
    public let scores: FloatBuffer
    /// Next-token logits written by `decode`.
    public let logits: FloatBuffer

    init(config: GPT2Config, threads: Int) {
        let d = config.embeddingSize
        residual = FloatBuffer(count: d)
        normed = FloatBuffer(count: d)
        qkv = FloatBuffer(count: 3 * d)
        attention = FloatBuffer(count: d)
        projected = FloatBuffer(count: d)
        inner = FloatBuffer(count: config.innerSize)
        scores = FloatBuffer(count: threads * ((config.contextLength + 63) & ~63))
        logits = FloatBuffer(count: config.vocabularySize)
    }
}

/// Scratch buffers for a chunk of prefill rows.
private final class PrefillChunk: @unchecked Sendable {
    let rows: Int
    let residual, normed, qkv, attention, projected, inner, scores: FloatBuffer
    let headWorkspace: Workspace

    init(config: GPT2Config, rows: Int, capacity: Int, threads: Int) {
        let d = config.embeddingSize
        self.rows = rows
        residual = FloatBuffer(count: rows * d)
        normed = FloatBuffer(count: rows * d)
        qkv = FloatBuffer(count: rows * 3 * d)
        attention = FloatBuffer(count: rows * d)
        projected = FloatBuffer(count: rows * d)
        inner = FloatBuffer(count: rows * config.innerSize)
        scores = FloatBuffer(count: threads * ((capacity + 63) & ~63))
        headWorkspace = Workspace(config: config, threads: 1)
    }
}
