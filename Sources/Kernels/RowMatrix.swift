/// A row-major matrix `M[rows, cols]` used as `y = M·x` — the layout of the
/// token embedding `wte[V, d]`, which the tied LM head multiplies by the hidden
/// state. Each output is one contiguous dot product, so rows stream in order.
public final class RowMatrix: Sendable {
    /// Number of rows (outputs of `M·x`).
    public let rows: Int
    /// Number of columns (length of `x`).
    public let cols: Int
    /// How the elements are stored.
    public let precision: WeightPrecision
    private let storage: Storage

    private enum Storage: Sendable {
        case f32(ElementBuffer<Float>)
        case f16(ElementBuffer<Float16>)
    }

    /// Copies a row-major `[rows, cols]` matrix.
    public init(_ values: [Float], rows: Int, cols: Int, precision: WeightPrecision = .float32) {
        precondition(values.count == rows * cols, "RowMatrix: \(values.count) values for \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.precision = precision
        switch precision {
        case .float32:
            let b = ElementBuffer<Float>(count: values.count)
            for i in 0..<values.count { b.pointer[i] = values[i] }
            storage = .f32(b)
        case .float16:
            let b = ElementBuffer<Float16>(count: values.count)
            for i in 0..<values.count { b.pointer[i] = Float16(values[i]) }
            storage = .f16(b)
        }
    }

    /// Bytes of storage.
    public var byteCount: Int { rows * cols * precision.byteCount }

    /// Copies row `r` into `out` as `Float` (the embedding lookup).
    public func copyRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let b): for c in 0..<cols { out[c] = b.pointer[r * cols + c] }
        case .f16(let b): for c in 0..<cols { out[c] = Float(b.pointer[r * cols + c]) }
        }
    }

    /// `y[r] = M[r, :]·x` for every row.
    public func multiply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ComputePool) {
        pool.parallelFor(rows, granularity: 64) { range in
            switch storage {
            case .f32(let b): dotRows(b.pointer, x, y, range)
            case .f16(let b): dotRows(b.pointer, x, y, range)
            }
        }
    }

    @inline(__always)
    private func dotRows<E: WeightElement>(_ m: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        let n = cols
        var r = range.lowerBound
        let vectorEnd = n & ~15
        while r + 4 <= range.upperBound {
            let p0 = m + r * n, p1 = p0 + n, p2 = p1 + n, p3 = p2 + n
            var a0 = Vec16(), a1 = Vec16(), a2 = Vec16(), a3 = Vec16()
            var i = 0
            while i < vectorEnd {
                let xv = load16(x + i)
                a0.addProduct(xv, E.load16(p0 + i))
                a1.addProduct(xv, E.load16(p1 + i))
                a2.addProduct(xv, E.load16(p2 + i))
                a3.addProduct(xv, E.load16(p3 + i))
                i += 16
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            while i < n {
                s0 += x[i] * E.load1(p0 + i); s1 += x[i] * E.load1(p1 + i)
                s2 += x[i] * E.load1(p2 + i); s3 += x[i] * E.load1(p3 + i)
                i += 1
            }
            y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3
            r += 4
        }
        while r < range.upperBound {
            let p = m + r * n
            var a = Vec16()
            var i = 0
            while i < vectorEnd { a.addProduct(load16(x + i), E.load16(p + i)); i += 16 }
            var s = a.sum()
            while i < n { s += x[i] * E.load1(p + i); i += 1 }
            y[r] = s
            r += 1
        }
    }
}
