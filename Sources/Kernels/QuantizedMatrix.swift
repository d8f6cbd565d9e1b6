import CKernels

/// GGML block quantization formats (32 weights per block, 256 for the K-quants; little-endian),
/// as stored in GGUF.
public enum BlockFormat: String, Sendable, CaseIterable {
    /// f16 d, 32 × int8 q; w = d·q.
    case q8_0
    /// f16 d, 16 bytes of nibbles; w = d·(q − 8).
    case q4_0
    /// f16 d, f16 m, 16 bytes of nibbles; w = d·q + m.
    case q4_1
    /// 256-weight super-block: f16 d, f16 dmin, 12 bytes of 6-bit scales/minimums, 128 bytes of
    /// nibbles; w = d·sc·q − dmin·m per 32-weight sub-block.
    case q4_K
    /// 256-weight super-block: 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d;
    /// w = d·scale·(q − 32) per 16-weight sub-block.
    case q6_K

    /// The format of a GGUF tensor's GGML type id (`ggml_type`), or nil for one not supported here.
    public init?(ggmlType: UInt32) {
        switch ggmlType {
        case 2: self = .q4_0
        case 3: self = .q4_1
        case 8: self = .q8_0
        case 12: self = .q4_K
        case 14: self = .q6_K
        default: return nil
        }
    }

    /// Weights per block.
    public var blockSize: Int { isSuperBlock ? 256 : 32 }

    var isSuperBlock: Bool { self == .q4_K || self == .q6_K }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        case .q4_K: 144
        case .q6_K: 210
        }
    }

    /// Bytes that `elements` weights occupy; throws if `elements` is negative, not a whole
    /// number of blocks, or the size overflows. (For loaders validating a tensor's extent.)
    public func byteCount(elements: Int) throws(QuantizationError) -> Int {
        guard elements >= 0, elements % blockSize == 0 else {
            throw QuantizationError("\(rawValue): \(elements) weights is not a whole number of \(blockSize)-weight blocks")
        }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        guard !overflow else { throw QuantizationError("\(rawValue): \(elements) weights overflow a byte count") }
        return bytes
    }

    var cFormat: Int32 {
        switch self {
        case .q8_0: Int32(EXITLENS_Q8_0)
        case .q4_0: Int32(EXITLENS_Q4_0)
        case .q4_1: Int32(EXITLENS_Q4_1)
        case .q4_K: Int32(EXITLENS_Q4_K)
        case .q6_K: Int32(EXITLENS_Q6_K)
        }
    }
}

/// A malformed quantized tensor (size mismatch, partial block).
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A weight matrix kept in GGML block quantization (GGUF's row-major `[outCount][inCount]`,
/// each row a run of blocks along the input dimension).
///
/// Decoding is memory-bound, so the blocks are never widened to `Float` in memory: each
/// product reads every block once. At load the rows are regrouped in eights (the same bytes
/// in another order — Q4_K 2.8% more, its 6-bit scales unpacked; see `QuantKernels.h`) so
/// that one integer dot product serves 8 rows.
///
/// Numeric contract: like llama.cpp, each product first rounds the activation vector to int8
/// per 32-element block (scale max|x|/127, kept in `Float`), then takes exact integer dot
/// products with the quants and applies the scales in `Float` (K-quants too: their
/// 256-weight super-blocks meet activations rounded per 32). The error against float
/// arithmetic on the dequantized weights is bounded by Σ_i |W[o,i]|·max|x_block(i)|/254
/// (half a step of the activation's int8 grid per element) plus float rounding. Measured on
/// real SmolLM2 Q4_1/Q8_0 tensors: 0.5–0.7% RMS relative error for unit-normal activations,
/// 1.0–1.6% when every 97th activation is a 20× outlier (it coarsens its block's grid) — the
/// same scheme, and so the same error, as llama.cpp's CPU kernels.
///
/// Each row of a `gemm` is bit-identical to a `gemv` of that row, at any thread count.
public final class QuantizedMatrix: LinearWeights {
    public let format: BlockFormat
    public let inCount: Int
    public let outCount: Int
    /// Blocks per row.
    let blocks: Int
    /// Groups of 8 output rows (the last one zero-padded).
    let groups: Int
    private let storage: AlignedBytes

    /// Copies GGUF block bytes (`outCount` rows of `inCount / format.blockSize` blocks) into
    /// aligned storage, regrouped for the kernels. Throws on a size that does not match.
    public init(format: BlockFormat, inCount: Int, outCount: Int, bytes: UnsafeRawBufferPointer) throws {
        let shape = "\(format.rawValue) matrix \(outCount)×\(inCount)"
        guard inCount > 0, outCount > 0 else { throw QuantizationError("\(shape): dimensions must be positive") }
        guard inCount % format.blockSize == 0 else {
            throw QuantizationError("\(shape): input size \(inCount) is not a multiple of the block size \(format.blockSize)")
        }
        let blocks = inCount / format.blockSize
        let rowBytes = blocks * format.bytesPerBlock // ≤ 34/32·inCount: cannot overflow
        let (expected, overflow) = rowBytes.multipliedReportingOverflow(by: outCount)
        guard !overflow else { throw QuantizationError("\(shape): byte count overflows") }
        guard bytes.count == expected else {
            throw QuantizationError("\(shape): expected \(expected) bytes, got \(bytes.count)")
        }
        self.format = format
        self.inCount = inCount
        self.outCount = outCount
        self.blocks = blocks
        guard let src = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw QuantizationError("\(shape): no bytes")
        }
        let groups = (outCount + 7) / 8
        // At most 1.03 × `expected` + 7 rows, and `expected` bytes exist: cannot overflow.
        let groupBytes = blocks * Int(exitlens_q_group_block_bytes(format.cFormat))
        self.groups = groups
        storage = AlignedBytes(count: groups * groupBytes)
        let dst = storage.pointer.assumingMemoryBound(to: UInt8.self)
        for g in 0..<groups {
            let rows = min(8, outCount - 8 * g)
            exitlens_q_repack_group(format.cFormat, src + 8 * g * rowBytes, rows, blocks, dst + g * groupBytes)
        }
    }

    /// Bytes of weight storage (what one matrix-vector product reads).
    public var byteCount: Int { storage.count }

    /// Widens row `row` (`inCount` weights) to `Float`, bit-exact with GGML's dequantization
    /// (used for embedding lookups).
    public func dequantizeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < outCount, "QuantizedMatrix.dequantizeRow: row \(row) of \(outCount)")
        let groupBytes = blocks * Int(exitlens_q_group_block_bytes(format.cFormat))
        let group = storage.pointer.assumingMemoryBound(to: UInt8.self) + (row / 8) * groupBytes
        withUnsafeTemporaryAllocation(byteCount: blocks * format.bytesPerBlock, alignment: 16) { block in
            guard let base = block.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            exitlens_q_unpack_row(format.cFormat, group, row % 8, blocks, base)
            dequantize(format, UnsafeRawBufferPointer(block), count: inCount, into: out)
        }
    }

    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool) {
        gemm(x, rows: 1, y, bias: bias, pool: pool)
    }

    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                     outputs: Range<Int>, pool: ComputePool) {
        gemm(x, rows: 1, y, bias: bias, groups: (outputs.lowerBound / 8)..<((outputs.upperBound + 7) / 8), pool: pool)
    }

    public func gemm(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, pool: ComputePool) {
        gemm(x, rows: rows, y, bias: bias, groups: 0..<groups, pool: pool)
    }

    /// Output rows of the 8-row groups in `groupRange` only.
    private func gemm(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                      groups groupRange: Range<Int>, pool: ComputePool) {
        guard rows > 0, !groupRange.isEmpty else { return }
        // The activations are quantized once, on the calling thread, and shared by all workers.
        // Per 32-block scale and scaled sum, per 16-half integer sum, then the int8 values.
        let scales = rows * (inCount / 32)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 12 * scales + rows * inCount, alignment: 64)
        defer { scratch.deallocate() }
        let d = scratch.bindMemory(to: Float.self, capacity: 2 * scales)
        let s = d + scales
        let halves = (scratch + 8 * scales).bindMemory(to: Int16.self, capacity: 2 * scales)
        let q = (scratch + 12 * scales).bindMemory(to: Int8.self, capacity: rows * inCount)
        exitlens_q_quantize_activations(x, rows, inCount, q, d, s, halves)
        let w = UnsafePointer(storage.pointer.assumingMemoryBound(to: UInt8.self))
        let format = format.cFormat, blocks = blocks, outCount = outCount
        let first = groupRange.lowerBound
        pool.parallelFor(groupRange.count) { range in
            exitlens_q_gemm(format, w, blocks, q, d, s, halves, rows, y, bias, outCount, first + range.lowerBound, first + range.upperBound)
        }
    }
}

/// Widens `count` weights (a whole number of blocks) stored as GGML `format` blocks in `bytes`,
/// bit-exact with GGML / the `gguf` package's dequantization.
public func dequantize(_ format: BlockFormat, _ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(count >= 0 && count % format.blockSize == 0, "dequantize: \(count) weights is not a whole number of \(format.rawValue) blocks")
    let blocks = count / format.blockSize
    precondition(bytes.count / format.bytesPerBlock >= blocks, "dequantize: \(bytes.count) bytes for \(blocks) \(format.rawValue) blocks")
    @inline(__always) func half(_ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
    for b in 0..<blocks {
        let base = b * format.bytesPerBlock
        let o = out + b * format.blockSize
        // Operation order matches the reference (separate multiply and add, no fusion).
        switch format {
        case .q8_0:
            let d = half(base)
            for i in 0..<32 { o[i] = Float(Int8(bitPattern: bytes[base + 2 + i])) * d }
        case .q4_0:
            let d = half(base)
            for j in 0..<16 {
                let byte = bytes[base + 2 + j]
                o[j] = d * Float(Int(byte & 0x0F) - 8)
                o[j + 16] = d * Float(Int(byte >> 4) - 8)
            }
        case .q4_1:
            let d = half(base), m = half(base + 2)
            for j in 0..<16 {
                let byte = bytes[base + 4 + j]
                o[j] = d * Float(byte & 0x0F) + m
                o[j + 16] = d * Float(byte >> 4) + m
            }
        case .q4_K:
            let d = half(base), dmin = half(base + 2)
            let scales = base + 4, quants = base + 16
            for j in 0..<8 {
                // 6-bit scale and minimum of sub-block j; 4…7 borrow their top bits from 0…7.
                let s, m: UInt8
                if j < 4 {
                    s = bytes[scales + j] & 63
                    m = bytes[scales + j + 4] & 63
                } else {
                    s = (bytes[scales + j + 4] & 0x0F) | ((bytes[scales + j - 4] >> 6) << 4)
                    m = (bytes[scales + j + 4] >> 4) | ((bytes[scales + j] >> 6) << 4)
                }
                let scale = d * Float(s), offset = dmin * Float(m)
                let shift: UInt8 = j % 2 == 0 ? 0 : 4
                for i in 0..<32 {
                    let q = (bytes[quants + 32 * (j / 2) + i] >> shift) & 0x0F
                    o[32 * j + i] = scale * Float(q) - offset
                }
            }
        case .q6_K:
            let low = base, high = base + 128, scales = base + 192
            let d = half(base + 208)
            for h in 0..<2 {
                for p in 0..<128 {
                    let l = (bytes[low + 64 * h + p % 64] >> (p < 64 ? 0 : 4)) & 0x0F
                    let hi = (bytes[high + 32 * h + p % 32] >> UInt8(2 * (p / 32))) & 0x03
                    let n = 128 * h + p
                    let scale = d * Float(Int8(bitPattern: bytes[scales + n / 16]))
                    o[n] = scale * Float(Int(l | (hi << 4)) - 32)
                }
            }
        }
    }
}

/// An owned, 64-byte-aligned byte array.
final class AlignedBytes: @unchecked Sendable {
    // @unchecked: written once during construction, read-only afterwards.
    let count: Int
    let pointer: UnsafeMutableRawPointer

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(64, count), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(64, count))
    }

    deinit { pointer.deallocate() }
}
