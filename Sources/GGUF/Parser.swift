/// Everything the header says, validated against the file size.
struct ParsedHeader {
    var version: Int
    var alignment: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensor]
    /// Absolute offset of the data section.
    var dataOffset: Int
}

enum GGUFParser {
    /// llama.cpp's writer never nests arrays; a few levels leave room for
    /// odd-but-honest files while bounding recursion on hostile ones.
    static let maxArrayDepth = 8
    static let defaultAlignment = 32
    /// The fewest bytes one metadata entry can take: key length, type, a 1-byte value.
    static let minimumKVSize = 8 + 4 + 1
    /// The fewest bytes one tensor info can take: name length, n_dims, one dim, type, offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8
    /// Counts are only known to fit in the file's bytes, and our representation
    /// of an entry is larger than its encoding (a 1-byte uint8 becomes a
    /// 24-byte `GGUFValue`). Reserving at most this many up front keeps a lying
    /// count in a large file from allocating far more than the file; honest
    /// larger collections just grow.
    static let maximumReservation = 1 << 16

    /// Parses and validates a complete file image; nothing is trusted.
    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(GGUFError) -> ParsedHeader {
        var c = ByteCursor(bytes, file: file)

        // Header.
        guard bytes.count >= 4 else {
            throw c.fail("magic", "file is \(bytes.count) bytes, too short for a GGUF header")
        }
        let magic = [bytes[0], bytes[1], bytes[2], bytes[3]]
        guard magic == Array("GGUF".utf8) else {
            throw c.fail("magic", "bytes \(hex(magic)) are not 'GGUF' (47 47 55 46); not a GGUF file")
        }
        _ = try c.u32("magic")
        let version = try c.u32("version")
        switch version {
        case 2, 3: break
        case 1: throw c.fail("version", "GGUF version 1 (32-bit counts) is not supported; re-convert the model with a current llama.cpp")
        case let v where v & 0xFFFF == 0 && v != 0:
            throw c.fail("version", "\(v) looks byte-swapped: big-endian GGUF files are not supported")
        default: throw c.fail("version", "GGUF version \(version) is not supported (expected 2 or 3)")
        }
        let tensorCount = try count("tensor_count", of: "tensor infos", minimumSize: minimumTensorInfoSize, &c)
        let kvCount = try count("metadata_kv_count", of: "metadata entries", minimumSize: minimumKVSize, &c)

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(min(kvCount, maximumReservation))
        var keys: [String] = []
        keys.reserveCapacity(min(kvCount, maximumReservation))
        for i in 0..<kvCount {
            let key = try c.string("metadata key #\(i)")
            guard metadata[key] == nil else {
                throw c.fail("metadata \(quoted(key))", "duplicate key (metadata entry #\(i))")
            }
            let rawType = try c.u32("metadata \(quoted(key)) type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw c.fail("metadata \(quoted(key)) type", "unknown value type \(rawType) (known: 0 to 12)")
            }
            metadata[key] = try value(type, depth: 0, &c) { "metadata \(quoted(key))" }
            keys.append(key)
        }
        let alignment = try validatedAlignment(metadata, &c)

        // Tensor infos: read all, then check each against the data section.
        struct Info { var name: String, dims: [Int], type: GGMLType, byteCount: Int, relativeOffset: Int }
        var infos: [Info] = []
        infos.reserveCapacity(min(tensorCount, maximumReservation))
        var names = Set<String>(minimumCapacity: min(tensorCount, maximumReservation))
        for i in 0..<tensorCount {
            let name = try c.string("tensor #\(i) name")
            let field = "tensor \(quoted(name))"
            guard names.insert(name).inserted else { throw c.fail(field, "duplicate tensor name (tensor #\(i))") }
            let nDims = try c.u32("\(field) n_dims")
            guard (1...4).contains(nDims) else {
                throw c.fail("\(field) n_dims", "\(nDims) dimensions; expected 1 to 4")
            }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let raw = try c.u64("\(field) dims")
                guard raw != 0 else { throw c.fail("\(field) dims", "ne[\(d)] is 0") }
                guard let dim = Int(exactly: raw) else {
                    throw c.fail("\(field) dims", "ne[\(d)] = \(raw) is negative as a signed 64-bit value")
                }
                dims.append(dim)
            }
            var elements = 1
            for d in dims {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw c.fail("\(field) dims", "\(dims) overflow the element count") }
                elements = p
            }
            let rawType = try c.u32("\(field) type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw c.fail("\(field) type", "unknown ggml type \(rawType)")
            }
            guard dims[0] % type.blockSize == 0 else {
                throw c.fail("\(field) dims", "row length ne[0] = \(dims[0]) is not a multiple of \(type.name)'s block size \(type.blockSize)")
            }
            // Whole blocks per row (checked above), so this is exact.
            let (byteCount, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
            guard !overflow else { throw c.fail("\(field) dims", "\(dims) of \(type.name) overflow the byte count") }
            let rawOffset = try c.u64("\(field) offset")
            guard let offset = Int(exactly: rawOffset) else {
                throw c.fail("\(field) offset", "\(rawOffset) is past any possible file size")
            }
            infos.append(Info(name: name, dims: dims, type: type, byteCount: byteCount, relativeOffset: offset))
        }

        // Data section: the first multiple of the alignment after the infos.
        let (padded, overflow) = c.position.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw c.fail("general.alignment", "\(alignment) overflows the data offset") }
        let dataOffset = padded & ~(alignment - 1)

        var tensors: [GGUFTensor] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            let field = "tensor \(quoted(info.name)) offset"
            guard info.relativeOffset % alignment == 0 else {
                throw c.fail(field, "\(info.relativeOffset) is not a multiple of the alignment \(alignment)")
            }
            let (start, o1) = dataOffset.addingReportingOverflow(info.relativeOffset)
            let (end, o2) = start.addingReportingOverflow(info.byteCount)
            guard !o1, !o2, end <= bytes.count else {
                throw c.fail(field, "data \(info.relativeOffset) + \(info.byteCount) bytes (\(info.type.name) \(info.dims)) extends past the end of the file (data section holds \(max(0, bytes.count - dataOffset)) bytes)")
            }
            tensors.append(GGUFTensor(name: info.name, dims: info.dims, type: info.type, offset: start, byteCount: info.byteCount))
        }

        // Overlap: in offset order each tensor must start at or after the previous one's end.
        let byStart = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for (a, b) in zip(byStart, byStart.dropFirst()) where tensors[b].offset < tensors[a].offset + tensors[a].byteCount {
            let (ta, tb) = (tensors[a], tensors[b])
            throw c.fail("tensor \(quoted(tb.name)) offset", "data at \(tb.offset - dataOffset) overlaps tensor \(quoted(ta.name)) (\(ta.offset - dataOffset)..<\(ta.offset - dataOffset + ta.byteCount))")
        }

        return ParsedHeader(version: Int(version), alignment: alignment, metadata: metadata, metadataKeys: keys, tensors: tensors, dataOffset: dataOffset)
    }

    /// Reads a u64 count and rejects any that could not fit in the bytes left,
    /// so a count of 2^63 fails at once instead of reserving memory for it.
    private static func count(_ field: String, of what: String, minimumSize: Int, _ c: inout ByteCursor) throws(GGUFError) -> Int {
        let n = try c.u64(field)
        // Everything counted comes after this field, so it must fit in what is left.
        guard n <= UInt64(c.remaining / minimumSize) else {
            throw c.fail(field, "\(n) \(what) cannot fit in the \(c.remaining) bytes left (each needs at least \(minimumSize))")
        }
        return Int(n)
    }

    private static func value(
        _ type: GGUFValueType, depth: Int, _ c: inout ByteCursor, field: () -> String
    ) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.u8(field()))
        case .int8: return .int8(Int8(bitPattern: try c.u8(field())))
        case .uint16: return .uint16(try c.u16(field()))
        case .int16: return .int16(Int16(bitPattern: try c.u16(field())))
        case .uint32: return .uint32(try c.u32(field()))
        case .int32: return .int32(Int32(bitPattern: try c.u32(field())))
        case .uint64: return .uint64(try c.u64(field()))
        case .int64: return .int64(Int64(bitPattern: try c.u64(field())))
        case .float32: return .float32(Float(bitPattern: try c.u32(field())))
        case .float64: return .float64(Double(bitPattern: try c.u64(field())))
        case .bool:
            let b = try c.u8(field())
            guard b <= 1 else { throw c.fail(field(), "bool byte is \(b), expected 0 or 1") }
            return .bool(b == 1)
        case .string:
            return .string(try c.string(field()))
        case .array:
            guard depth < maxArrayDepth else {
                throw c.fail(field(), "arrays nested more than \(maxArrayDepth) deep")
            }
            let rawType = try c.u32("\(field()) element type")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw c.fail("\(field()) element type", "unknown value type \(rawType) (known: 0 to 12)")
            }
            let n = try c.u64("\(field()) count")
            let minimum = elementType.minimumEncodedSize
            guard n <= UInt64(c.remaining / minimum) else {
                throw c.fail("\(field()) count", "\(n) \(elementType.name) elements cannot fit in the \(c.remaining) bytes left (each needs at least \(minimum))")
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(min(Int(n), maximumReservation))
            for i in 0..<Int(n) {
                elements.append(try value(elementType, depth: depth + 1, &c) { "\(field())[\(i)]" })
            }
            return .array(elements)
        }
    }

    /// `general.alignment` must be a uint32 power of two, as llama.cpp requires.
    private static func validatedAlignment(_ metadata: [String: GGUFValue], _ c: inout ByteCursor) throws(GGUFError) -> Int {
        guard let v = metadata["general.alignment"] else { return defaultAlignment }
        guard case .uint32(let a) = v else {
            throw c.fail("metadata 'general.alignment'", "is \(v.typeDescription), expected uint32")
        }
        guard a != 0, a & (a - 1) == 0 else {
            throw c.fail("metadata 'general.alignment'", "\(a) is not a power of two")
        }
        return Int(a)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { b in
            let s = String(b, radix: 16, uppercase: true)
            return b < 16 ? "0" + s : s
        }.joined(separator: " ")
    }
}
