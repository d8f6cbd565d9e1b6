import Foundation

// Element-wise pieces of Llama-family blocks: RMSNorm, rotary position embeddings, SwiGLU.

/// RMSNorm over one row: `out = x / sqrt(mean(x²) + eps) * gamma`, as Hugging Face's
/// `LlamaRMSNorm` computes it in float32.
public func rmsNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                    gamma: UnsafePointer<Float>, eps: Float) {
    var acc = Vec16()
    var i = 0
    while i + 16 <= n { let v = load16(x + i); acc.addProduct(v, v); i += 16 }
    var sq = acc.sum()
    while i < n { sq += x[i] * x[i]; i += 1 }
    let inv = 1 / (sq / Float(n) + eps).squareRoot()
    let iv = Vec16(repeating: inv)
    i = 0
    while i + 16 <= n { store16(load16(x + i) * iv * load16(gamma + i), out + i); i += 16 }
    while i < n { out[i] = x[i] * inv * gamma[i]; i += 1 }
}

/// Rotation angles of rotary position embeddings: `cos`/`sin` of `position · base^(−2i/headSize)`
/// for each pair `i < headSize/2`, computed once per position and shared by every head.
public struct RotaryTable: Sendable {
    public let headSize: Int
    /// `1 / base^(2i / headSize)` per pair.
    private let inverseFrequencies: [Float]

    public init(headSize: Int, base: Float) {
        self.headSize = headSize
        let half = headSize / 2
        // Computed in Double then rounded, as PyTorch builds `inv_freq` in float32 from an exact power.
        inverseFrequencies = (0..<half).map { i in Float(1.0 / pow(Double(base), Double(2 * i) / Double(headSize))) }
    }

    /// Writes the cosines and sines for `position` into `cos` and `sin` (headSize/2 each).
    public func angles(position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<inverseFrequencies.count {
            // float32 product, like HF's `inv_freq @ position_ids` before cos/sin.
            let angle = p * inverseFrequencies[i]
            cos[i] = Foundation.cos(angle)
            sin[i] = Foundation.sin(angle)
        }
    }
}

/// Applies rotary embeddings in the half-split ("NeoX", Hugging Face `rotate_half`) layout to
/// `heads` consecutive heads of `headSize` values: element `i` turns with element `i + headSize/2`.
public func applyRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, headSize: Int,
                        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = headSize / 2
    for h in 0..<heads {
        let a = x + h * headSize, b = a + half
        var i = 0
        while i + 16 <= half {
            let c = load16(cos + i), s = load16(sin + i), x0 = load16(a + i), x1 = load16(b + i)
            store16(x0 * c - x1 * s, a + i)
            store16(x1 * c + x0 * s, b + i)
            i += 16
        }
        while i < half {
            let x0 = a[i], x1 = b[i]
            a[i] = x0 * cos[i] - x1 * sin[i]
            b[i] = x1 * cos[i] + x0 * sin[i]
            i += 1
        }
    }
}

/// Applies rotary embeddings in GPT-J's interleaved layout (CodeGen's `rotate_every_two`) to the
/// first `rotaryDimensions` values of each of `heads` consecutive heads of `headSize` values:
/// adjacent elements `2i` and `2i + 1` turn together by angle `i`, and the rest of each head passes
/// through unchanged. (`applyRotary` above pairs `i` with `i + headSize/2` instead.)
public func applyInterleavedRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, headSize: Int, rotaryDimensions: Int,
                                   cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let pairs = min(rotaryDimensions, headSize) / 2
    for h in 0..<heads {
        let head = x + h * headSize
        for i in 0..<pairs {
            let even = head[2 * i], odd = head[2 * i + 1]
            head[2 * i] = even * cos[i] - odd * sin[i]
            head[2 * i + 1] = odd * cos[i] + even * sin[i]
        }
    }
}

/// SwiGLU's gate: `out[i] = silu(gate[i]) · up[i]` with `silu(g) = g / (1 + e^−g)`.
public func siluMultiply(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let one = Vec16(repeating: 1)
    while i + 16 <= n {
        let g = load16(gate + i)
        store16(g / (one + exp16(-g)) * load16(up + i), out + i)
        i += 16
    }
    while i < n { out[i] = gate[i] / (1 + Foundation.exp(-gate[i])) * up[i]; i += 1 }
}
