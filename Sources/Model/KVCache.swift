import Kernels

/// Keys and values of every past position, per layer: what attention reads.
///
/// Keys are stored transposed per head in tiles of 64 positions
/// (`[head][stride / 64][headSize][64]`), so the scores of one query against
/// 64 positions are contiguous vector FMAs with no horizontal sums, over one
/// contiguous 16 KB tile (at head size 64). Values are stored by position
/// (`[stride][d]`), so the weighted sum is contiguous too. `length` counts
/// committed positions; rows at or past it are scratch. Rolling back
/// (speculative decoding, an edit earlier in the buffer) is just lowering `length`.
public final class KVCache: @unchecked Sendable {
    // @unchecked: a cache belongs to one decoding session at a time.
    public let layerCount: Int
    public let capacity: Int
    public let width: Int
    public let headCount: Int
    /// Capacity rounded up to 64 positions (`rowStride`): a head's keys take `stride × headSize`
    /// floats, a query's scores `stride`.
    public let stride: Int
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    /// Number of committed positions.
    public private(set) var length: Int = 0

    /// Creates an empty cache for `capacity` positions.
    public init(layerCount: Int, capacity: Int, width: Int, headCount: Int) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.width = width
        self.headCount = headCount
        let stride = Self.rowStride(capacity: capacity)
        self.stride = stride
        keys = (0..<layerCount).map { _ in FloatBuffer(lazilyZeroed: stride * width) }
        values = (0..<layerCount).map { _ in FloatBuffer(lazilyZeroed: stride * width) }
    }

    var headSize: Int { width / headCount }

    /// Where lane 0 of head 0's key of `position` lives in a layer's keys; head h lane j adds
    /// h·headSize·stride + 64·j. Keys are transposed in tiles of 64 positions, so a score block
    /// (64 positions × headSize lanes) is one contiguous 16 KB read that the prefetcher streams;
    /// rows a whole context apart were 64 separate strided streams per block.
    @inline(__always) private func keyOffset(position p: Int) -> Int { (p >> 6) * 64 * headSize + (p & 63) }

    /// Capacity rounded up to 64 positions, so 64-wide score blocks stay in bounds (the cache
    /// and each workspace's score rows use the same).
    public static func rowStride(capacity: Int) -> Int { ((capacity + 63) & ~63) }

    /// Stores the keys and values (each `d` wide, all heads) of `position` in `layer`.
    @inline(__always)
    public func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        let kt = keys[layer].pointer
        let hs = headSize, base = keyOffset(position: position)
        for h in 0..<headCount {
            let dst = kt + h * hs * stride + base, src = k + h * hs
            for j in 0..<hs { dst[j * 64] = src[j] }
        }
        (values[layer].pointer + position * width).update(from: v, count: width)
    }

    /// The key of `position` in `layer` (all heads), gathered; for tests and state-copy checks.
    public func key(layer: Int, position: Int) -> [Float] {
        let hs = headSize, base = keyOffset(position: position)
        return (0..<width).map { keys[layer].pointer[($0 / hs) * hs * stride + ($0 % hs) * 64 + base] }
    }

    /// The value of `position` in `layer` (all heads); for tests and state-copy checks.
    public func value(layer: Int, position: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: values[layer].pointer + position * width, count: width))
    }

    /// Marks `count` more positions as committed.
    public func commit(_ count: Int = 1) {
        precondition(length + count <= capacity, "KVCache overflow")
        length += count
    }

    /// Forgets every position at or after `newLength`.
    public func truncate(to newLength: Int) {
        length = max(0, min(length, newLength))
    }

    /// Bytes held.
    public var byteCount: Int { 2 * layerCount * stride * width * 4 }

    /// Causal attention of `queryCount` query heads that share key/value head `h` (grouped-query
    /// attention): query `g` is at `queries + g·headSize`, its result goes to `out + g·headSize`,
    /// its scores to `scores + g·stride` (`queryCount · stride` floats of scratch).
    ///
    /// Positions are walked in blocks of 64, every query of the group inside: a block of K or V
    /// (16 KB at head size 64) comes from memory once and from L1 for the other queries, where one
    /// pass per query read the whole context once per query (SmolLM2: 3 query heads per K/V head).
    /// Each query's arithmetic is a one-query pass's, in the same order, so results do not depend
    /// on the grouping.
    public func attend(layer: Int, head h: Int, queries q: UnsafePointer<Float>, queryCount: Int, position: Int,
                       scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let hs = headSize
        let count = position + 1
        let scale = 1 / Float(hs).squareRoot()
        let kt = keys[layer].pointer + h * hs * stride
        // scores[g][t] = scale · Σ_j q_g[j]·K[j][t], 64 positions per block held in registers.
        var t0 = 0
        while t0 < count {
            for g in 0..<queryCount {
                let qg = q + g * hs
                var a0 = Vec16(), a1 = Vec16(), a2 = Vec16(), a3 = Vec16()
                for j in 0..<hs {
                    let qj = Vec16(repeating: qg[j] * scale)
                    let row = UnsafeRawPointer(kt + t0 * hs + j * 64)
                    a0.addProduct(qj, row.loadUnaligned(as: Vec16.self))
                    a1.addProduct(qj, row.loadUnaligned(fromByteOffset: 64, as: Vec16.self))
                    a2.addProduct(qj, row.loadUnaligned(fromByteOffset: 128, as: Vec16.self))
                    a3.addProduct(qj, row.loadUnaligned(fromByteOffset: 192, as: Vec16.self))
                }
                let s = UnsafeMutableRawPointer(scores + g * stride + t0)
                s.storeBytes(of: a0, as: Vec16.self)
                s.storeBytes(of: a1, toByteOffset: 64, as: Vec16.self)
                s.storeBytes(of: a2, toByteOffset: 128, as: Vec16.self)
                s.storeBytes(of: a3, toByteOffset: 192, as: Vec16.self)
            }
            t0 += 64
        }
        for g in 0..<queryCount { softmax(scores + g * stride, count) }
        // out_g = Σ_t p_g,t · V[t], head slice; the running sums wait in `out` between blocks.
        let v = values[layer].pointer + h * hs
        guard hs % 16 == 0 else {
            for g in 0..<queryCount {
                let o = out + g * hs, p = scores + g * stride
                o.update(repeating: 0, count: hs)
                for t in 0..<count { axpy(p[t], v + t * width, o, hs) }
            }
            return
        }
        var b = 0
        while b < hs {
            let lanes = min(4, (hs - b) / 16)
            for g in 0..<queryCount { (out + g * hs + b).update(repeating: 0, count: 16 * lanes) }
            var t0 = 0
            while t0 < count {
                let t1 = min(count, t0 + 64)
                for g in 0..<queryCount {
                    let o = UnsafeMutableRawPointer(out + g * hs + b), p = scores + g * stride
                    var a0 = o.loadUnaligned(as: Vec16.self), a1 = Vec16(), a2 = Vec16(), a3 = Vec16()
                    if lanes > 1 { a1 = o.loadUnaligned(fromByteOffset: 64, as: Vec16.self) }
                    if lanes > 2 { a2 = o.loadUnaligned(fromByteOffset: 128, as: Vec16.self) }
                    if lanes > 3 { a3 = o.loadUnaligned(fromByteOffset: 192, as: Vec16.self) }
                    for t in t0..<t1 {
                        let pt = Vec16(repeating: p[t])
                        let row = UnsafeRawPointer(v + t * width + b)
                        a0.addProduct(pt, row.loadUnaligned(as: Vec16.self))
                        if lanes > 1 { a1.addProduct(pt, row.loadUnaligned(fromByteOffset: 64, as: Vec16.self)) }
                        if lanes > 2 { a2.addProduct(pt, row.loadUnaligned(fromByteOffset: 128, as: Vec16.self)) }
                        if lanes > 3 { a3.addProduct(pt, row.loadUnaligned(fromByteOffset: 192, as: Vec16.self)) }
                    }
                    o.storeBytes(of: a0, as: Vec16.self)
                    if lanes > 1 { o.storeBytes(of: a1, toByteOffset: 64, as: Vec16.self) }
                    if lanes > 2 { o.storeBytes(of: a2, toByteOffset: 128, as: Vec16.self) }
                    if lanes > 3 { o.storeBytes(of: a3, toByteOffset: 192, as: Vec16.self) }
                }
                t0 = t1
            }
            b += 64
        }
    }
}
