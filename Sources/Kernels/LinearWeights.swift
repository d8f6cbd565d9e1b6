/// A weight matrix as the forward pass uses it: `y = W·x (+ bias)` for one input vector or a few
/// rows at once, whatever the storage (panel-packed F32/F16, or quantised blocks).
public protocol LinearWeights: Sendable {
    /// Length of an input vector.
    var inCount: Int { get }
    /// Length of an output vector.
    var outCount: Int { get }
    /// Bytes of weight storage read by one `gemv`.
    var byteCount: Int { get }
    /// `y[o] = bias[o] + Σ_i W[o, i]·x[i]`.
    func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool)
    /// `gemv` for the outputs in `outputs` only; `y` is indexed as in `gemv` (outCount long), and
    /// outputs outside the range may be written as scratch.
    func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
              outputs: Range<Int>, pool: ComputePool)
    /// `Y[r, :]` for `rows` contiguous input rows (`X` is rows × inCount, `Y` rows × outCount).
    /// Row r's result equals `gemv` of row r exactly, so batched verification is lossless.
    func gemm(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool)
}

extension PackedMatrix: LinearWeights {}
