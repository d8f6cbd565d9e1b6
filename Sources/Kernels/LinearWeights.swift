/// A weight matrix the model multiplies activations by, whatever its storage.
///
/// Mathematically `W` has `outCount` rows and `inCount` columns; how it is laid out
/// (panels of floats, GGML quantized blocks) is the conformer's business.
public protocol LinearWeights: Sendable {
    var inCount: Int { get }
    var outCount: Int { get }
    /// Bytes of weight storage read by one gemv.
    var byteCount: Int { get }
    /// y[o] = bias[o] + Σ_i W[o, i]·x[i]
    func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool)
    /// Y[r, :] for `rows` contiguous input rows X[r, 0..<inCount]; Y is rows × outCount.
    func gemm(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool)
}

// PackedMatrix already has this shape (its `W[i, o]` is the transpose's element).
extension PackedMatrix: LinearWeights {}
