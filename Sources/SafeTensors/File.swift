#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A validated safetensors file, held entirely in memory.
///
/// The whole file is read into one `[UInt8]` up front (no memory mapping):
/// this keeps the class trivially `Sendable` and immune to the file being
/// truncated underneath us (which would SIGBUS a mapping). The header is fully
/// validated in the initializer, so later reads cannot go out of bounds.
public final class SafeTensorsFile: Sendable {
    /// The path as given (or the name given to `init(bytes:name:)`).
    public let path: String
    /// Every tensor in the header, by name.
    public let entries: [String: TensorEntry]
    /// The header's `__metadata__` (empty if absent).
    public let metadata: [String: String]
    /// Number of bytes in the data section (after the header).
    public let dataSectionByteCount: Int

    private let bytes: [UInt8]
    private let dataStart: Int
    /// File name used in error messages.
    private let displayFile: String

    /// Reads and validates the file at `path`.
    /// - Throws: `SafeTensorsError` for a missing/unreadable file or any format problem.
    public convenience init(path: String) throws {
        let bytes = try readWholeFile(path)
        try self.init(bytes: bytes, name: path)
        // `init(bytes:name:)` records `name` as `path`; that is the path as given.
    }

    /// Validates an in-memory file image; `name` is used as `path` and in messages.
    public init(bytes: [UInt8], name: String) throws {
        let file = displayName(name)
        let header = try HeaderValidator.validate(bytes, file: file)
        self.path = name
        self.displayFile = file
        self.bytes = bytes
        self.entries = header.entries
        self.metadata = header.metadata
        self.dataStart = header.dataStart
        self.dataSectionByteCount = header.dataCount
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The header entry for `name`, or `nil`.
    public func entry(_ name: String) -> TensorEntry? { entries[name] }

    private func require(_ name: String) throws(SafeTensorsError) -> TensorEntry {
        guard let e = entries[name] else {
            throw SafeTensorsError(file: displayFile, tensor: name, reason: "no such tensor in the file (\(entries.count) tensors present)")
        }
        return e
    }

    /// The tensor's raw stored bytes (little-endian, as in the file).
    public func rawBytes(_ name: String) throws -> [UInt8] {
        let e = try require(name)
        return Array(bytes[(dataStart + e.byteRange.lowerBound)..<(dataStart + e.byteRange.upperBound)])
    }

    /// The tensor converted to `Float`, in row-major order.
    /// - Throws: `SafeTensorsError` if the tensor is missing or its dtype is not F32, F16 or BF16.
    public func floats(_ name: String) throws -> [Float] {
        let e = try require(name)
        guard e.dtype.isFloatConvertible else {
            throw SafeTensorsError(file: displayFile, tensor: name,
                                   reason: "unsupported dtype \(e.dtype.rawValue) for float conversion (supported: F32, F16, BF16)")
        }
        let count = e.elementCount
        // Offsets were validated against the file size, so this slice is in bounds.
        let start = dataStart + e.byteRange.lowerBound
        return bytes.withUnsafeBytes { raw -> [Float] in
            let src = UnsafeRawBufferPointer(rebasing: raw[start..<(start + e.byteRange.count)])
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                switch e.dtype {
                case .F32:
                    #if _endian(little)
                    if count > 0, let dst = out.baseAddress, let from = src.baseAddress {
                        UnsafeMutableRawPointer(dst).copyMemory(from: from, byteCount: count * 4)
                    }
                    #else
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    }
                    #endif
                case .F16:
                    for i in 0..<count {
                        out[i] = FloatCodec.floatFromF16(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    }
                case .BF16:
                    for i in 0..<count {
                        out[i] = FloatCodec.floatFromBF16(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    }
                default:
                    break // unreachable: guarded by isFloatConvertible above
                }
                initialized = count
            }
        }
    }

    /// Like `floats(_:)`, but first checks that the tensor exists and has
    /// exactly `shape` (which model loaders derive from config.json, so the message names it
    /// too: either file may be the wrong one), naming the tensor and both shapes, and
    /// that every value is finite: this is what model loaders call, and one
    /// NaN or infinity in a weight would turn every later activation into NaN
    /// (garbage text rather than an error). The scan is one pass over values
    /// just converted, so it costs little next to reading the file (RELIABILITY.md).
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let e = try require(name)
        guard e.shape == shape else {
            throw SafeTensorsError(file: displayFile, tensor: name,
                                   reason: "shape mismatch: file has \(describeShape(e.shape)), expected \(describeShape(shape)) from config.json (one of the two files is wrong)")
        }
        let values = try floats(name)
        if let bad = firstNonFiniteIndex(values) {
            throw SafeTensorsError(file: displayFile, tensor: name,
                                   reason: "element \(bad) \(describeShape(unflatten(bad, shape: shape))) is \(values[bad]) (weights must be finite)")
        }
        return values
    }
}

/// Index of the first NaN or infinity. The common case (all finite) is one branch-free pass
/// over each block (an integer OR of "exponent all ones", which vectorises); only a block
/// that has one is searched element by element.
func firstNonFiniteIndex(_ values: [Float]) -> Int? {
    values.withUnsafeBufferPointer { buffer -> Int? in
        let block = 4096, exponent: UInt32 = 0x7f80_0000
        var start = 0
        while start < buffer.count {
            let end = min(start + block, buffer.count)
            var seen: UInt32 = 0
            for i in start..<end { seen |= (buffer[i].bitPattern & exponent) == exponent ? 1 : 0 }
            if seen != 0 {
                for i in start..<end where !buffer[i].isFinite { return i }
            }
            start = end
        }
        return nil
    }
}

/// The multi-dimensional index of flat row-major `index` in `shape` (for messages).
func unflatten(_ index: Int, shape: [Int]) -> [Int] {
    var rest = index
    var out = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        out[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return out
}

/// Reads a whole file with POSIX calls so every failure maps to a clear message.
private func readWholeFile(_ path: String) throws(SafeTensorsError) -> [UInt8] {
    let file = displayName(path)
    func posixFailure(_ what: String) -> SafeTensorsError {
        let code = errno
        return SafeTensorsError(file: file, reason: "\(what): \(String(cString: strerror(code)))")
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw posixFailure("cannot open '\(path)'") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw posixFailure("cannot stat '\(path)'") }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        throw SafeTensorsError(file: file, reason: "'\(path)' is not a regular file")
    }
    guard let size = Int(exactly: st.st_size), size >= 0 else {
        throw SafeTensorsError(file: file, reason: "'\(path)' has an unusable size")
    }
    var readError: SafeTensorsError?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
        var done = 0
        while done < size, let base = buf.baseAddress {
            let r = read(fd, base + done, size - done)
            if r < 0 {
                if errno == EINTR { continue }
                readError = posixFailure("cannot read '\(path)'")
                break
            }
            if r == 0 { break } // file shrank while reading; validation will judge what we got
            done += r
        }
        initialized = done
    }
    if let readError { throw readError }
    return bytes
}
