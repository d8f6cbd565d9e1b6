/// A row-major matrix `M[rows, cols]` read a row at a time — the token embedding
/// `wte[V, d]`. (The tied LM head multiplies by its transpose, packed as a `PackedMatrix`.)
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
}
