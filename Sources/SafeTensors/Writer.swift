import FileIO

/// Writes safetensors files readable by the Hugging Face `safetensors` library.
///
/// Tensors are stored in the order given, contiguously; the header JSON is
/// padded with spaces to a multiple of 8 bytes so the data section is aligned.
/// Values are encoded from `Float` with round-to-nearest-even for F16/BF16.
public enum SafeTensorsWriter {
    /// One tensor to write.
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
        /// Storage type: `.F32`, `.F16` or `.BF16`.
        public let dtype: SafeTensorsDType

        public init(name: String, shape: [Int], values: [Float], dtype: SafeTensorsDType = .F32) {
            self.name = name
            self.shape = shape
            self.values = values
            self.dtype = dtype
        }
    }

    /// Encodes a complete file image. `file` only labels error messages.
    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        try encode(tensors, metadata: metadata, file: "<memory>")
    }

    /// Encodes and writes atomically: temp file in the same directory, fsync, rename.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws {
        let file = displayName(path)
        let image = try encode(tensors, metadata: metadata, file: file)
        do { try AtomicFile.write(image, to: path) } catch { throw SafeTensorsError(file: file, reason: error.description) }
    }

    private static func encode(_ tensors: [Tensor], metadata: [String: String], file: String) throws(SafeTensorsError) -> [UInt8] {
        var seen = Set<String>()
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            // Sorted so the output is deterministic.
            let kv = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            header += "\"__metadata__\":{" + kv.joined(separator: ",") + "}"
            first = false
        }
        var offset = 0
        for t in tensors {
            func bad(_ reason: String) -> SafeTensorsError { SafeTensorsError(file: file, tensor: t.name, reason: reason) }
            guard t.name != "__metadata__" else { throw bad("'__metadata__' is reserved and cannot name a tensor") }
            guard seen.insert(t.name).inserted else { throw bad("duplicate tensor name") }
            guard t.dtype.isFloatConvertible else { throw bad("cannot write dtype \(t.dtype.rawValue) from Float values (supported: F32, F16, BF16)") }
            guard t.shape.allSatisfy({ $0 >= 0 }) else { throw bad("shape \(describeShape(t.shape)) has a negative dimension") }
            guard let count = checkedElementCount(t.shape), count == t.values.count else {
                throw bad("shape \(describeShape(t.shape)) does not match \(t.values.count) values")
            }
            let size = count * t.dtype.byteCount // cannot overflow: count values are in memory
            let dims = t.shape.map(String.init).joined(separator: ",")
            if !first { header += "," }
            first = false
            header += "\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out.append(contentsOf: headerBytes)
        for t in tensors {
            switch t.dtype {
            case .F16:
                for v in t.values { appendLE16(&out, FloatCodec.f16FromFloat(v)) }
            case .BF16:
                for v in t.values { appendLE16(&out, FloatCodec.bf16FromFloat(v)) }
            default: // .F32 (others rejected above)
                for v in t.values {
                    let b = v.bitPattern
                    out.append(UInt8(truncatingIfNeeded: b))
                    out.append(UInt8(truncatingIfNeeded: b >> 8))
                    out.append(UInt8(truncatingIfNeeded: b >> 16))
                    out.append(UInt8(truncatingIfNeeded: b >> 24))
                }
            }
        }
        return out
    }

    @inline(__always)
    private static func appendLE16(_ out: inout [UInt8], _ v: UInt16) {
        out.append(UInt8(truncatingIfNeeded: v))
        out.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    /// JSON string literal with the escapes RFC 8259 requires.
    private static func jsonString(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    r += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    r.unicodeScalars.append(u)
                }
            }
        }
        return r + "\""
    }
}
