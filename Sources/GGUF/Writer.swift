import FileIO

/// Builds GGUF files (little-endian, version 2 or 3) that `GGUFFile` and the
/// `gguf` Python package read.
///
/// Metadata is written in the order added. Tensor data is laid out in the
/// order added, each tensor starting at a multiple of the alignment, as
/// llama.cpp's writer does. A non-default alignment is recorded as a uint32
/// `general.alignment` unless the caller added that key. Empty arrays are
/// written with element type uint8 (the element type of an empty array carries
/// no information).
public struct GGUFWriter: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        /// ggml order: `dims[0]` is the row length.
        public var dims: [Int]
        public var type: GGMLType
        /// Stored bytes: whole blocks, exactly `type`'s size for `dims`.
        public var data: [UInt8]

        public init(name: String, dims: [Int], type: GGMLType, data: [UInt8]) {
            self.name = name
            self.dims = dims
            self.type = type
            self.data = data
        }
    }

    public var version: Int
    public var alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [Tensor] = []

    public init(version: Int = 3, alignment: Int = 32) {
        self.version = version
        self.alignment = alignment
    }

    /// Adds a metadata entry (duplicates are rejected by `encode`).
    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    public mutating func addTensor(_ name: String, dims: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append(Tensor(name: name, dims: dims, type: type, data: data))
    }

    /// Adds an F32 tensor from values in ggml order (row by row, `dims[0]` per row).
    public mutating func addTensor(_ name: String, dims: [Int], values: [Float]) {
        var data: [UInt8] = []
        data.reserveCapacity(values.count * 4)
        for v in values { appendLE(&data, v.bitPattern) }
        addTensor(name, dims: dims, type: .f32, data: data)
    }

    /// The complete file image.
    public func encode() throws -> [UInt8] {
        try encode(file: "<memory>")
    }

    /// Encodes and writes atomically: temporary file in the same directory, fsync, rename.
    public func write(to path: String) throws {
        let file = displayName(path)
        let image = try encode(file: file)
        do { try AtomicFile.write(image, to: path) } catch { throw GGUFError(file: file, field: "file", reason: error.description) }
    }

    private func encode(file: String) throws(GGUFError) -> [UInt8] {
        func fail(_ field: String, _ reason: String) -> GGUFError { GGUFError(file: file, field: field, reason: reason) }

        guard version == 2 || version == 3 else { throw fail("version", "\(version) cannot be written (2 or 3)") }
        guard alignment > 0, alignment <= Int(UInt32.max), alignment & (alignment - 1) == 0 else {
            throw fail("general.alignment", "\(alignment) is not a power of two that fits in uint32")
        }
        var entries = metadata
        if let given = entries.first(where: { $0.key == "general.alignment" }) {
            guard given.value == .uint32(UInt32(alignment)) else {
                throw fail("metadata 'general.alignment'", "\(given.value.shortDescription) (\(given.value.typeDescription)) disagrees with the writer's alignment \(alignment)")
            }
        } else if alignment != GGUFParser.defaultAlignment {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        var out: [UInt8] = Array("GGUF".utf8)
        appendLE(&out, UInt32(version))
        appendLE(&out, UInt64(tensors.count))
        appendLE(&out, UInt64(entries.count))
        var seenKeys = Set<String>()
        for (key, value) in entries {
            guard seenKeys.insert(key).inserted else { throw fail("metadata \(quoted(key))", "duplicate key") }
            appendString(&out, key)
            appendLE(&out, value.type.rawValue)
            try appendValue(&out, value, file: file) { "metadata \(quoted(key))" }
        }

        // Tensor infos, with offsets laid out by padding each tensor to the alignment.
        var seenNames = Set<String>()
        var offset = 0
        for t in tensors {
            let field = "tensor \(quoted(t.name))"
            guard seenNames.insert(t.name).inserted else { throw fail(field, "duplicate tensor name") }
            guard (1...4).contains(t.dims.count), t.dims.allSatisfy({ $0 > 0 }) else {
                throw fail("\(field) dims", "\(t.dims) must be 1 to 4 positive dimensions")
            }
            guard t.dims[0] % t.type.blockSize == 0 else {
                throw fail("\(field) dims", "row length \(t.dims[0]) is not a multiple of \(t.type.name)'s block size \(t.type.blockSize)")
            }
            // `data` is in memory, so a size that matches it cannot overflow; check the product as we go.
            var blocks = t.dims[0] / t.type.blockSize
            for d in t.dims.dropFirst() {
                let (p, o) = blocks.multipliedReportingOverflow(by: d)
                guard !o else { throw fail("\(field) dims", "\(t.dims) overflow") }
                blocks = p
            }
            let (expected, o) = blocks.multipliedReportingOverflow(by: t.type.typeSize)
            guard !o, expected == t.data.count else {
                throw fail("\(field) data", "\(t.data.count) bytes, but \(t.type.name) \(t.dims) needs \(o ? "more than Int.max" : String(expected))")
            }
            appendString(&out, t.name)
            appendLE(&out, UInt32(t.dims.count))
            for d in t.dims { appendLE(&out, UInt64(d)) }
            appendLE(&out, t.type.rawValue)
            appendLE(&out, UInt64(offset))
            offset += padded(t.data.count)
        }

        // Data section.
        out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        for t in tensors {
            out.append(contentsOf: t.data)
            out.append(contentsOf: repeatElement(0, count: padded(t.data.count) - t.data.count))
        }
        return out
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) & ~(alignment - 1) }
}

private func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
}

private func appendString(_ out: inout [UInt8], _ s: String) {
    appendLE(&out, UInt64(s.utf8.count))
    out.append(contentsOf: s.utf8)
}

/// Writes a value without its type tag (the caller or the enclosing array wrote it).
private func appendValue(_ out: inout [UInt8], _ value: GGUFValue, file: String, field: () -> String) throws(GGUFError) {
    switch value {
    case .uint8(let v): appendLE(&out, v)
    case .int8(let v): appendLE(&out, v)
    case .uint16(let v): appendLE(&out, v)
    case .int16(let v): appendLE(&out, v)
    case .uint32(let v): appendLE(&out, v)
    case .int32(let v): appendLE(&out, v)
    case .uint64(let v): appendLE(&out, v)
    case .int64(let v): appendLE(&out, v)
    case .float32(let v): appendLE(&out, v.bitPattern)
    case .float64(let v): appendLE(&out, v.bitPattern)
    case .bool(let v): out.append(v ? 1 : 0)
    case .string(let s): appendString(&out, s)
    case .array(let elements):
        let elementType = elements.first?.type ?? .uint8
        appendLE(&out, elementType.rawValue)
        appendLE(&out, UInt64(elements.count))
        for (i, e) in elements.enumerated() {
            guard e.type == elementType else {
                throw GGUFError(file: file, field: "\(field())[\(i)]", reason: "is \(e.type.name) in an array of \(elementType.name)")
            }
            try appendValue(&out, e, file: file) { "\(field())[\(i)]" }
        }
    }
}
