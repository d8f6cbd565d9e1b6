/// Elementwise functions and normalisations of the GPT-2 block, vectorised.
///
/// `exp` is a Cephes-style polynomial (≈1 ulp on the clamped range) because a
/// scalar libm call per element would cost more than the matrix-vector
/// products at this model size.

@inline(__always)
public func exp16(_ x: Vec16) -> Vec16 {
    // Written with plain lane-wise arithmetic only: the generic SIMD `rounded`
    // and Int32 conversions compile to scalar library calls.
    let clamped = lanewiseMax(lanewiseMin(x, Vec16(repeating: 88.3)), Vec16(repeating: -87.3))
    // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    let magic = Vec16(repeating: 12582912)
    let shifted = clamped * 1.44269504088896341 + magic
    let n = shifted - magic
    var r = clamped - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = Vec16(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    // 2^n as a float: (n + 127) in the exponent field.
    let k = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let scale = (k &+ 127) &* 8_388_608
    return p * unsafeBitCast(scale, to: Vec16.self)
}

/// `gelu_new` (the tanh approximation GPT-2 uses), in place over `n` elements.
public func geluNew(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let c = Float((2.0 / Double.pi).squareRoot())
    var i = 0
    while i + 16 <= n {
        let v = load16(x + i)
        let z = c * (v + 0.044715 * v * v * v)
        // tanh(z) = 1 − 2 / (e^{2z} + 1): stable at both ends once exp is clamped.
        let t = 1 - 2 / (exp16(2 * z) + 1)
        store16(0.5 * v * (1 + t), x + i)
        i += 16
    }
    while i < n {
        let v = x[i]
        let z = c * (v + 0.044715 * v * v * v)
        x[i] = 0.5 * v * (1 + tanhScalar(z))
        i += 1
    }
}

@inline(__always)
func tanhScalar(_ z: Float) -> Float {
    let e = exp16(Vec16(repeating: 2 * z))[0]
    return 1 - 2 / (e + 1)
}

/// Numerically stable softmax in place over `n` elements.
public func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    guard n > 0 else { return }
    // The maximum 16 lanes at a time; max is exact, so the result is the scalar loop's.
    var mv16 = Vec16(repeating: -Float.infinity)
    var i = 0
    while i + 16 <= n { mv16 = lanewiseMax(mv16, load16(x + i)); i += 16 }
    var m = mv16.max()
    while i < n { m = max(m, x[i]); i += 1 }
    var sum: Float = 0
    i = 0
    let mv = Vec16(repeating: m)
    var acc = Vec16()
    while i + 16 <= n {
        let e = exp16(load16(x + i) - mv)
        store16(e, x + i)
        acc += e
        i += 16
    }
    sum = acc.sum()
    while i < n {
        let e = exp16(Vec16(repeating: x[i] - m))[0]
        x[i] = e
        sum += e
        i += 1
    }
    let inv = 1 / sum
    i = 0
    while i + 16 <= n { store16(load16(x + i) * inv, x + i); i += 16 }
    while i < n { x[i] *= inv; i += 1 }
}

/// LayerNorm over one row of `n` elements: `out = (x − mean) / sqrt(var + eps) * gamma + beta`,
/// with the biased variance, as PyTorch computes it.
public func layerNorm(
    _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
) {
    var acc = Vec16()
    var i = 0
    while i + 16 <= n { acc += load16(x + i); i += 16 }
    var sum = acc.sum()
    while i < n { sum += x[i]; i += 1 }
    let mean = sum / Float(n)
    let mv = Vec16(repeating: mean)
    acc = Vec16()
    i = 0
    while i + 16 <= n { let d = load16(x + i) - mv; acc.addProduct(d, d); i += 16 }
    var sq = acc.sum()
    while i < n { let d = x[i] - mean; sq += d * d; i += 1 }
    let inv = 1 / (sq / Float(n) + eps).squareRoot()
    let iv = Vec16(repeating: inv)
    i = 0
    while i + 16 <= n {
        store16((load16(x + i) - mv) * iv * load16(gamma + i) + load16(beta + i), out + i)
        i += 16
    }
    while i < n { out[i] = (x[i] - mean) * inv * gamma[i] + beta[i]; i += 1 }
}
