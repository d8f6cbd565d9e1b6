/// Pointer-level vector primitives shared by the kernels.
///
/// All loads are unaligned-safe (`loadUnaligned`) so callers may pass any
/// offset into a buffer; with AVX2 an unaligned load of aligned data costs nothing.
public typealias Vec16 = SIMD16<Float>

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> Vec16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
}

@inline(__always)
func store16(_ v: Vec16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec16.self)
}

/// Lane-wise maximum and minimum as a compare and a blend. The standard library's `pointwiseMax`
/// and `pointwiseMin` went lane by lane through memory here (store-forwarding stalls): they made
/// `softmax` (and so attention) and every `exp16` several times slower. Not NaN-propagating:
/// where `a` is NaN the result is `a`, where only `b` is, the result is `a` too.
@inline(__always)
func lanewiseMax(_ a: Vec16, _ b: Vec16) -> Vec16 { a.replacing(with: b, where: a .< b) }

@inline(__always)
func lanewiseMin(_ a: Vec16, _ b: Vec16) -> Vec16 { a.replacing(with: b, where: b .< a) }

/// Dot product of two length-`n` vectors.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = Vec16(), acc1 = Vec16()
    var i = 0
    while i + 32 <= n {
        acc0.addProduct(load16(a + i), load16(b + i))
        acc1.addProduct(load16(a + i + 16), load16(b + i + 16))
        i += 32
    }
    if i + 16 <= n {
        acc0.addProduct(load16(a + i), load16(b + i))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < n { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// `y += alpha * x` over `n` elements.
@inline(__always)
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let a = Vec16(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        store16(load16(y + i).addingProduct(a, load16(x + i)), y + i)
        i += 16
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

/// `y += x` over `n` elements (the residual connection).
@inline(__always)
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n { store16(load16(y + i) + load16(x + i), y + i); i += 16 }
    while i < n { y[i] += x[i]; i += 1 }
}

/// Cosine similarity of two length-`n` vectors (0 when either is zero).
public func cosineSimilarity(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ab = dot(a, b, n), aa = dot(a, a, n), bb = dot(b, b, n)
    let denom = (aa * bb).squareRoot()
    return denom > 0 ? ab / denom : 0
}
