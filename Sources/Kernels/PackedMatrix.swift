import CKernels

/// A weight matrix `W[in, out]` (Hugging Face `Conv1D` layout: `y = x·W + b`)
/// repacked into column panels of 16 for streaming.
///
/// Panel `t` stores `W[:, 16t ..< 16t+16]` as `in × 16` contiguous values, so a
/// matrix-vector product reads memory strictly sequentially (one stream per
/// panel) and each 16-wide output chunk lives in one SIMD register. Columns are
/// zero-padded to a multiple of 16.
public final class PackedMatrix: Sendable {
    /// Input dimension (rows of `W`).
    public let inCount: Int
    /// Output dimension (columns of `W`).
    public let outCount: Int
    /// How the elements are stored.
    public let precision: WeightPrecision
    let panels: Int
    private let storage: Storage

    private enum Storage: Sendable {
        case f32(ElementBuffer<Float>)
        case f16(ElementBuffer<Float16>)
    }

    /// Packs a row-major `[inCount, outCount]` matrix.
    public init(rowMajor values: UnsafeBufferPointer<Float>, inCount: Int, outCount: Int, precision: WeightPrecision = .float32) {
        precondition(values.count == inCount * outCount, "PackedMatrix: \(values.count) values for \(inCount)×\(outCount)")
        self.inCount = inCount
        self.outCount = outCount
        self.precision = precision
        panels = (outCount + 15) / 16
        switch precision {
        case .float32:
            let buffer = ElementBuffer<Float>(count: panels * inCount * 16)
            Self.pack(values, into: buffer.pointer, inCount: inCount, outCount: outCount)
            storage = .f32(buffer)
        case .float16:
            let buffer = ElementBuffer<Float16>(count: panels * inCount * 16)
            Self.pack(values, into: buffer.pointer, inCount: inCount, outCount: outCount)
            storage = .f16(buffer)
        }
    }

    /// Packs a row-major `[inCount, outCount]` array.
    public convenience init(rowMajor values: [Float], inCount: Int, outCount: Int, precision: WeightPrecision = .float32) {
        // The pointer must not outlive the closure, so the packing happens inside it.
        let packed = values.withUnsafeBufferPointer { buffer in
            PackedMatrix(rowMajor: buffer, inCount: inCount, outCount: outCount, precision: precision)
        }
        self.init(copying: packed)
    }

    /// Shares another matrix's packed storage (used by the array convenience initialiser).
    private init(copying other: PackedMatrix) {
        inCount = other.inCount
        outCount = other.outCount
        precision = other.precision
        panels = other.panels
        storage = other.storage
    }

    private static func pack<E: WeightElement>(_ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutablePointer<E>, inCount: Int, outCount: Int) {
        for o in 0..<outCount {
            let panel = o / 16, lane = o % 16
            let base = dst + panel * inCount * 16 + lane
            for i in 0..<inCount { base[i * 16] = E(src[i * outCount + o]) }
        }
    }

    /// Bytes of weight storage (what one matrix-vector product reads).
    public var byteCount: Int { panels * inCount * 16 * precision.byteCount }

    /// `y[o] = bias[o] + Σ_i x[i]·W[i, o]` for one input vector.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool) {
        gemv(x, y, bias: bias, outputs: 0..<outCount, pool: pool)
    }

    /// `gemv` for the outputs in `outputs` only (state copying needs keys and values, not queries).
    /// `y` is indexed by output as in `gemv`; other outputs of the same 16-wide panels may be written too.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                     outputs: Range<Int>, pool: ComputePool) {
        let firstPanel = outputs.lowerBound / 16, endPanel = (outputs.upperBound + 15) / 16
        pool.parallelFor(endPanel - firstPanel, granularity: 4) { chunk in
            let range = (chunk.lowerBound + firstPanel)..<(chunk.upperBound + firstPanel)
            switch storage {
            case .f32(let w): gemvPanels(w.pointer, x, y, bias, range)
            case .f16(let w):
                // Summation order matches the Swift kernel's per output (sequential over inputs).
                w.pointer.withMemoryRebound(to: UInt16.self, capacity: w.count) {
                    exitlens_gemv_f16($0, x, y, bias, inCount, outCount, range.lowerBound, range.upperBound)
                }
            }
        }
    }

    /// `Y[r, :] = bias + X[r, :]·W` for `rows` input rows stored contiguously (`X` is `rows × inCount`).
    public func gemm(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool) {
        if rows == 1 { gemv(x, y, bias: bias, pool: pool); return }
        pool.parallelFor(panels) { range in
            switch storage {
            case .f32(let w): gemmPanels(w.pointer, x, rows, y, bias, range)
            case .f16(let w):
                w.pointer.withMemoryRebound(to: UInt16.self, capacity: w.count) {
                    exitlens_gemm_f16($0, x, rows, y, bias, inCount, outCount, range.lowerBound, range.upperBound)
                }
            }
        }
    }

    @inline(__always)
    private func initial(_ bias: UnsafePointer<Float>?, _ panel: Int) -> Vec16 {
        guard let bias else { return Vec16() }
        let o = panel * 16
        if o + 16 <= outCount { return load16(bias + o) }
        var v = Vec16()
        for lane in 0..<(outCount - o) { v[lane] = bias[o + lane] }
        return v
    }

    @inline(__always)
    private func write(_ v: Vec16, _ y: UnsafeMutablePointer<Float>, _ panel: Int) {
        let o = panel * 16
        if o + 16 <= outCount { store16(v, y + o); return }
        for lane in 0..<(outCount - o) { y[o + lane] = v[lane] }
    }

    @inline(__always)
    private func gemvPanels<E: WeightElement>(_ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, _ range: Range<Int>) {
        let n = inCount
        var t = range.lowerBound
        // Four panels at once: four independent accumulators hide FMA latency
        // and give the prefetcher four sequential streams.
        while t + 4 <= range.upperBound {
            let p0 = w + t * n * 16, p1 = p0 + n * 16, p2 = p1 + n * 16, p3 = p2 + n * 16
            var a0 = initial(bias, t), a1 = initial(bias, t + 1), a2 = initial(bias, t + 2), a3 = initial(bias, t + 3)
            for i in 0..<n {
                let xi = Vec16(repeating: x[i])
                a0.addProduct(xi, E.load16(p0 + i * 16))
                a1.addProduct(xi, E.load16(p1 + i * 16))
                a2.addProduct(xi, E.load16(p2 + i * 16))
                a3.addProduct(xi, E.load16(p3 + i * 16))
            }
            write(a0, y, t); write(a1, y, t + 1); write(a2, y, t + 2); write(a3, y, t + 3)
            t += 4
        }
        while t < range.upperBound {
            let p = w + t * n * 16
            var a = initial(bias, t)
            for i in 0..<n { a.addProduct(Vec16(repeating: x[i]), E.load16(p + i * 16)) }
            write(a, y, t)
            t += 1
        }
    }

    @inline(__always)
    private func gemmPanels<E: WeightElement>(_ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ rows: Int, _ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, _ range: Range<Int>) {
        let n = inCount, m = outCount
        for t in range {
            let p = w + t * n * 16
            let b = initial(bias, t)
            var r = 0
            // Four rows share each loaded panel row: four FMAs per load.
            while r + 4 <= rows {
                let x0 = x + r * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n
                var a0 = b, a1 = b, a2 = b, a3 = b
                for i in 0..<n {
                    let wv = E.load16(p + i * 16)
                    a0.addProduct(Vec16(repeating: x0[i]), wv)
                    a1.addProduct(Vec16(repeating: x1[i]), wv)
                    a2.addProduct(Vec16(repeating: x2[i]), wv)
                    a3.addProduct(Vec16(repeating: x3[i]), wv)
                }
                write(a0, y + r * m, t); write(a1, y + (r + 1) * m, t)
                write(a2, y + (r + 2) * m, t); write(a3, y + (r + 3) * m, t)
                r += 4
            }
            while r < rows {
                let xr = x + r * n
                var a = b
                for i in 0..<n { a.addProduct(Vec16(repeating: xr[i]), E.load16(p + i * 16)) }
                write(a, y + r * m, t)
                r += 1
            }
        }
    }
}
