import Foundation
import Kernels

/// A decoder-only transformer the engine can run, whatever its architecture.
///
/// An architecture supplies four things — the embedding of tokens, one block over a few
/// consecutive rows, the final norm with the LM head, and state copying — and this protocol's
/// extension builds every way of running it from them:
/// - `prefill` runs many tokens per call (matrix-matrix products, in chunks);
/// - the per-token API (`beginToken`, `runBlock`, `finalLogits`, `commitToken`) runs **one block at
///   a time** on the current token, so a caller can read the residual stream after any block and
///   stop early — what early exit needs. `decode` is that API run through every block.
///
/// Blocks are numbered from 0 (`block`, as in the KV cache); early exit speaks of 1-based exit
/// layers ("after block ℓ−1"), and converts at its boundary.
public protocol Transformer: AnyObject, Sendable {
    var shape: ModelShape { get }
    /// Threads shared by every kernel call of this model.
    var pool: ComputePool { get }
    /// The output projection d → V (the tied embedding or a separate `lm_head`).
    var head: any LinearWeights { get }
    /// A bias added to the logits (CodeGen's `lm_head.bias`); nil for the others.
    var headBias: FloatBuffer? { get }
    /// Bytes of weights read for one decoded token.
    var bytesPerToken: Int { get }
    /// How the block matrices are stored (`f32`, `f16`, `q4_1`, …), for reports.
    var weightFormat: String { get }
    /// The same weights (shared, not copied) run by `threads` threads.
    func withThreads(_ threads: Int) -> any Transformer

    /// Writes the input vectors (token embedding, plus position embedding where the architecture has
    /// one) of `tokens` at positions `firstPosition…` into consecutive rows of `out`.
    func embed(_ tokens: ArraySlice<Int>, firstPosition: Int, into out: UnsafeMutablePointer<Float>)

    /// Runs block `block` on `rows` consecutive tokens whose residual streams are the first rows of
    /// `ws.residual`, at positions `firstPosition…`, storing their keys and values in `cache`.
    func forward(block: Int, rows: Int, firstPosition: Int, workspace ws: Workspace, cache: KVCache)

    /// The final norm (`ln_f`, or the final RMSNorm) of one residual row.
    func finalNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>)

    /// State copying: the keys and values that block `block` would store for a token at `position`
    /// whose residual stream is `h` — that block's own attention norm and K/V projections (and RoPE),
    /// nothing else — written into `cache`.
    func copyState(from h: UnsafePointer<Float>, block: Int, position: Int, workspace ws: Workspace, cache: KVCache)
}

extension Transformer {
    public var headBias: FloatBuffer? { nil }

    /// A KV cache sized for the whole context (or `capacity` positions).
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(layerCount: shape.layerCount, capacity: min(capacity ?? shape.contextLength, shape.contextLength),
                width: shape.kvWidth, headCount: shape.kvHeadCount)
    }

    /// Scratch memory for decoding one token at a time.
    public func makeWorkspace() -> Workspace { Workspace(shape: shape, rows: 1, capacity: shape.contextLength, threads: pool.threadCount) }

    // MARK: - One token, one block at a time

    /// Puts the input vector of `token` at the next position (`cache.length`) into `ws.residual`.
    public func beginToken(_ token: Int, workspace ws: Workspace, cache: KVCache) throws {
        try checkToken(token)
        let position = cache.length
        guard position < cache.capacity else {
            throw ModelError.invalidInput("context is full: position \(position) ≥ capacity \(cache.capacity)")
        }
        embed([token], firstPosition: position, into: ws.residual.pointer)
    }

    /// Runs block `block` on `ws.residual` for the token at position `cache.length`.
    public func runBlock(_ block: Int, workspace ws: Workspace, cache: KVCache) {
        forward(block: block, rows: 1, firstPosition: cache.length, workspace: ws, cache: cache)
    }

    /// `head(finalNorm(x))` of `rows` residual rows `x` into `logits` (rows × V). Several rows share
    /// one read of the head's weights (a third of SmolLM2's bytes); each row equals a one-row call.
    public func finalLogits(_ x: UnsafePointer<Float>, rows: Int = 1, into logits: UnsafeMutablePointer<Float>, workspace ws: Workspace) {
        let d = shape.embeddingSize
        for r in 0..<rows { finalNorm(x + r * d, into: ws.normed.pointer + r * d) }
        head.gemm(ws.normed.pointer, rows: rows, logits, bias: headBias?.pointer, pool: pool)
    }

    /// Marks the current token's keys and values as part of the context.
    public func commitToken(cache: KVCache) { cache.commit() }

    /// Decodes one token through every block and returns the next-token logits (valid until the next call).
    @discardableResult
    public func decode(_ token: Int, cache: KVCache, workspace ws: Workspace) throws -> UnsafeBufferPointer<Float> {
        try beginToken(token, workspace: ws, cache: cache)
        for block in 0..<shape.layerCount { runBlock(block, workspace: ws, cache: cache) }
        finalLogits(ws.residual.pointer, into: ws.logits.pointer, workspace: ws)
        commitToken(cache: cache)
        return UnsafeBufferPointer(start: ws.logits.pointer, count: shape.vocabularySize)
    }

    // MARK: - Many tokens at once

    /// Runs `tokens` at positions `cache.length…` in chunks of matrix-matrix products and commits them.
    public func prefill(_ tokens: [Int], cache: KVCache, allLogits: Bool = false, captureHidden: Bool = false,
                        chunkSize: Int = 64) throws -> PrefillOutput {
        for t in tokens { try checkToken(t) }
        guard cache.length + tokens.count <= cache.capacity else {
            throw ModelError.invalidInput("prompt of \(tokens.count) tokens does not fit: \(cache.length) cached, capacity \(cache.capacity)")
        }
        let d = shape.embeddingSize, V = shape.vocabularySize
        var output = PrefillOutput(logits: [], hiddenStates: captureHidden ? Array(repeating: [], count: shape.layerCount) : [])
        if tokens.isEmpty { return output }
        let ws = Workspace(shape: shape, rows: min(max(1, chunkSize), tokens.count), capacity: cache.capacity, threads: pool.threadCount)
        let logits = FloatBuffer(count: (allLogits ? ws.rows : 1) * V)
        var start = 0
        while start < tokens.count {
            let n = min(ws.rows, tokens.count - start)
            let p0 = cache.length
            embed(tokens[start..<(start + n)], firstPosition: p0, into: ws.residual.pointer)
            for block in 0..<shape.layerCount {
                forward(block: block, rows: n, firstPosition: p0, workspace: ws, cache: cache)
                if captureHidden { output.hiddenStates[block] += UnsafeBufferPointer(start: ws.residual.pointer, count: n * d) }
            }
            if allLogits {
                // A verification: every row's logits from one product over the chunk's rows.
                finalLogits(ws.residual.pointer, rows: n, into: logits.pointer, workspace: ws)
                output.logits += UnsafeBufferPointer(start: logits.pointer, count: n * V)
            } else if start + n == tokens.count {
                finalLogits(ws.residual.pointer + (n - 1) * d, into: logits.pointer, workspace: ws)
                output.logits += UnsafeBufferPointer(start: logits.pointer, count: V)
            }
            cache.commit(n)
            start += n
        }
        return output
    }

    /// Causal attention for `rows` tokens at positions `firstPosition…`, whose queries are the first
    /// `queryWidth` values of each `ws.qkv` row; results go to `ws.attention`. Under grouped-query
    /// attention, query head `h` reads KV head `h / (headCount / kvHeadCount)`.
    public func attend(block: Int, rows: Int, firstPosition: Int, workspace ws: Workspace, cache: KVCache) {
        // Each thread takes a contiguous share of the rows × query heads, of equal cost (a row at
        // position p attends over p + 1 positions), and attends, per row, the heads of its share
        // that use the same K/V head together: they read it once. Equal shares keep a decode step
        // balanced (SmolLM2: 9 heads in 3 groups, 2 threads: 5 + 4 heads, where one item per group
        // would give one thread 2 groups and the other 1) and a prefill too (later rows cost more).
        let heads = shape.headCount, hs = shape.headSize, group = shape.headCount / shape.kvHeadCount
        let qkvWidth = shape.qkvWidth, qWidth = shape.queryWidth, items = rows * heads
        let threads = pool.threadCount
        // Cost of the items before flat index i (row-major over rows × heads).
        func cost(before i: Int) -> Int {
            let r = i / heads, k = i % heads, p = firstPosition + 1
            return heads * (r * p + r * (r - 1) / 2) + k * (p + r)
        }
        let total = cost(before: items)
        // The first item whose preceding cost reaches `part / threads` of the total (0 and `items`
        // at the ends: every item costs something).
        func boundary(_ part: Int) -> Int {
            let target = total * part / threads
            var lo = 0, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if cost(before: mid) < target { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        pool.run { worker in
            var item = boundary(worker)
            let end = boundary(worker + 1)
            let scores = ws.scores.pointer + worker * group * cache.stride
            while item < end {
                let r = item / heads, h = item % heads, kv = h / group
                // This head and the following ones of the same group, within the share.
                let n = min(end - item, (kv + 1) * group - h)
                cache.attend(layer: block, head: kv, queries: ws.qkv.pointer + r * qkvWidth + h * hs, queryCount: n,
                             position: firstPosition + r, scores: scores, out: ws.attention.pointer + r * qWidth + h * hs)
                item += n
            }
        }
    }

    /// Stores the keys and values of each of `rows` rows of `ws.qkv` (after the queries) in `cache`.
    public func storeKeysAndValues(block: Int, rows: Int, firstPosition: Int, workspace ws: Workspace, cache: KVCache) {
        let qkvWidth = shape.qkvWidth, q = shape.queryWidth, kv = shape.kvWidth
        for r in 0..<rows {
            let row = ws.qkv.pointer + r * qkvWidth
            cache.store(layer: block, position: firstPosition + r, keys: row + q, values: row + q + kv)
        }
    }

    func checkToken(_ token: Int) throws {
        guard token >= 0, token < shape.vocabularySize else {
            throw ModelError.invalidInput("token id \(token) is outside the vocabulary (0..<\(shape.vocabularySize))")
        }
    }
}

/// What `prefill` returns.
public struct PrefillOutput: Sendable {
    /// Logits of the last token, or of every token (`[n, V]` row-major) when asked for.
    public var logits: [Float]
    /// Residual stream after each block (`hiddenStates[b]` is `[n, d]` after block `b`), when asked for.
    public var hiddenStates: [[Float]]
}

/// Scratch buffers for running up to `rows` tokens through a block. One per session; not shared
/// across threads. Row `r` of each buffer is `r × width` floats in.
public final class Workspace: @unchecked Sendable {
    // @unchecked: used by one decoding session at a time.
    public let rows: Int
    /// The residual stream: after `runBlock(b)` its first row is the hidden state after block b.
    public let residual: FloatBuffer
    /// A norm's output (d per row).
    public let normed: FloatBuffer
    /// The fused projection's output: queries, keys, values (`qkvWidth` per row).
    public let qkv: FloatBuffer
    /// Attention output before the output projection (`queryWidth` per row).
    public let attention: FloatBuffer
    /// A projection back to d, before the residual add.
    public let projected: FloatBuffer
    /// The MLP's hidden layer (`innerSize` per row; gated MLPs hold gate and up side by side, 2× wide).
    public let inner: FloatBuffer
    /// SwiGLU's product `silu(gate) · up` (`innerSize` per row; unused by GPT-2).
    public let gated: FloatBuffer
    /// Attention scores, one context-long row per query head of a key/value group, per thread.
    public let scores: FloatBuffer
    /// Rotary cosines and sines of one position (`headSize / 2` each), and which position they are
    /// for: every block of a decoded token reuses them instead of recomputing 2·headSize/2 sin/cos.
    public let cos: FloatBuffer, sin: FloatBuffer
    public var rotaryPosition = -1
    /// Next-token logits written by `decode`.
    public let logits: FloatBuffer

    public init(shape: ModelShape, rows: Int, capacity: Int, threads: Int) {
        let d = shape.embeddingSize
        self.rows = rows
        residual = FloatBuffer(count: rows * d)
        normed = FloatBuffer(count: rows * d)
        qkv = FloatBuffer(count: rows * shape.qkvWidth)
        attention = FloatBuffer(count: rows * shape.queryWidth)
        projected = FloatBuffer(count: rows * d)
        inner = FloatBuffer(count: rows * shape.innerSize * (shape.gatedMLP ? 2 : 1))
        gated = FloatBuffer(count: shape.gatedMLP ? rows * shape.innerSize : 0)
        scores = FloatBuffer(count: max(1, threads) * max(1, shape.headCount / max(1, shape.kvHeadCount)) * KVCache.rowStride(capacity: capacity))
        cos = FloatBuffer(count: shape.headSize / 2)
        sin = FloatBuffer(count: shape.headSize / 2)
        logits = FloatBuffer(count: shape.vocabularySize)
    }
}

/// Token embeddings read a row at a time (F32/F16 rows, or quantised blocks).
public protocol EmbeddingTable: Sendable {
    func copyRow(_ row: Int, into out: UnsafeMutablePointer<Float>)
}

extension RowMatrix: EmbeddingTable {}
