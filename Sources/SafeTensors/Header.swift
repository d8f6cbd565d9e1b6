/// One validated tensor entry in the header.
public struct TensorEntry: Sendable, Equatable {
    /// Tensor name as it appears in the header.
    public let name: String
    /// Stored element type.
    public let dtype: SafeTensorsDType
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// Byte range relative to the start of the data section (the header's `data_offsets`).
    public let byteRange: Range<Int>
    /// Product of `shape` (1 for a scalar); validated not to overflow.
    public let elementCount: Int
}

/// Everything the header says, after validation against the file size.
struct ValidatedHeader {
    var entries: [String: TensorEntry]
    var metadata: [String: String]
    /// Absolute offset of the data section (8 + header length).
    var dataStart: Int
    /// Bytes from `dataStart` to the end of the file.
    var dataCount: Int
}

/// Renders a shape the way messages show it, e.g. `[768, 2304]`.
func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// Overflow-safe element count; `nil` when the product does not fit in `Int`.
/// A zero dimension makes the count zero regardless of the others, so huge
/// sibling dimensions of an empty tensor are not misreported as overflow.
func checkedElementCount(_ shape: [Int]) -> Int? {
    if shape.contains(0) { return 0 }
    var n = 1
    for d in shape {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return nil }
        n = p
    }
    return n
}

enum HeaderValidator {
    /// Same cap as the reference implementation; real headers are kilobytes.
    static let maxHeaderBytes = 100_000_000

    /// Validates the complete file image before any tensor data is touched.
    static func validate(_ bytes: [UInt8], file: String) throws(SafeTensorsError) -> ValidatedHeader {
        func fail(_ reason: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, reason: reason)
        }

        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        var n64: UInt64 = 0
        for i in 0..<8 { n64 |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n64 != 0 else { throw fail("header length is 0") }
        guard n64 <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(n64) exceeds the \(maxHeaderBytes)-byte limit")
        }
        let n = Int(n64) // fits: bounded by maxHeaderBytes above
        let available = bytes.count - 8
        guard n <= available else {
            throw fail("header length \(n) extends past the end of the file (only \(available) bytes follow the length prefix)")
        }

        let headerBytes = Array(bytes[8..<(8 + n)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes)
        } catch {
            if error.isDuplicateTopLevelKey {
                throw fail("appears more than once in the header", tensor: error.topLevelKey)
            }
            throw fail("header is not valid JSON: \(error.message) at header byte \(error.offset)")
        }
        guard case .object(let members) = root else {
            throw fail("header is \(root.kindName), not a JSON object")
        }

        let dataStart = 8 + n
        let dataCount = bytes.count - dataStart
        var entries: [String: TensorEntry] = [:]
        var ordered: [TensorEntry] = []
        var metadata: [String: String] = [:]

        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value, fail: fail)
                continue
            }
            let entry = try parseEntry(name: key, value, dataCount: dataCount, fail: fail)
            entries[key] = entry
            ordered.append(entry)
        }

        // The format requires the tensors to tile the data section exactly: sorted by offset,
        // each non-empty tensor starts where the previous one ended, the first at 0 and the
        // last at the end of the file. A gap or a surplus byte means the header and the data
        // disagree (e.g. a header length off by one shifts every tensor by a byte), so the
        // file is refused rather than read as plausible-looking garbage. Empty tensors read
        // nothing, so only their bounds matter (checked in parseEntry).
        let sorted = ordered.filter { !$0.byteRange.isEmpty }.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        // Overlaps first: two tensors sharing bytes is the more specific error (moving one
        // tensor onto another also leaves a gap where it was).
        for (previous, entry) in zip(sorted, sorted.dropFirst())
        where entry.byteRange.lowerBound < previous.byteRange.upperBound {
            throw fail("data_offsets \(entry.byteRange) overlap tensor '\(previous.name)' (\(previous.byteRange))", tensor: entry.name)
        }
        var covered = 0
        var previous: TensorEntry?
        for entry in sorted {
            let range = entry.byteRange
            if range.lowerBound > covered {
                let after = previous.map { "after tensor '\($0.name)'" } ?? "at the start of the data section"
                throw fail("data_offsets \(range) leave a gap of \(range.lowerBound - covered) bytes \(after) (tensors must cover the data section exactly)", tensor: entry.name)
            }
            covered = range.upperBound
            previous = entry
        }
        guard covered == dataCount else {
            throw fail("tensors cover \(covered) of the \(dataCount) bytes after the header (the format forbids unused bytes; is the header length \(n) right?)")
        }

        return ValidatedHeader(entries: entries, metadata: metadata, dataStart: dataStart, dataCount: dataCount)
    }

    private static func parseMetadata(
        _ value: JSONValue, fail: (String, String?) -> SafeTensorsError
    ) throws(SafeTensorsError) -> [String: String] {
        switch value {
        case .null:
            return [:] // the reference implementation treats absent and null alike
        case .object(let kv):
            var out: [String: String] = [:]
            for (k, v) in kv {
                guard case .string(let s) = v else {
                    throw fail("__metadata__ value for key '\(k)' is \(v.kindName), not a string", nil)
                }
                out[k] = s
            }
            return out
        default:
            throw fail("__metadata__ is \(value.kindName), not an object of strings", nil)
        }
    }

    private static func parseEntry(
        name: String, _ value: JSONValue, dataCount: Int, fail: (String, String?) -> SafeTensorsError
    ) throws(SafeTensorsError) -> TensorEntry {
        func bad(_ reason: String) -> SafeTensorsError { fail(reason, name) }

        guard case .object(let fields) = value else {
            throw bad("header entry is \(value.kindName), not an object")
        }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            // Strict: an unexpected field means we may be misreading the file.
            default: throw bad("unexpected field '\(k)' in header entry")
            }
        }

        // dtype
        guard let dtypeValue else { throw bad("missing 'dtype'") }
        guard case .string(let dtypeString) = dtypeValue else {
            throw bad("'dtype' is \(dtypeValue.kindName), not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeString) else {
            throw bad("unknown dtype '\(dtypeString)' (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }

        // shape
        guard let shapeValue else { throw bad("missing 'shape'") }
        guard case .array(let dimValues) = shapeValue else {
            throw bad("'shape' is \(shapeValue.kindName), not an array")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dimValues.count)
        for (i, dv) in dimValues.enumerated() {
            guard let parsed = dv.nonNegativeInteger else {
                throw bad("shape dimension \(i) is \(dv.kindName), not an integer")
            }
            switch parsed {
            case .value(let d): shape.append(d)
            case .negative: throw bad("shape dimension \(i) is negative (\(literal(dv)))")
            case .notInteger: throw bad("shape dimension \(i) is not an integer (\(literal(dv)))")
            case .tooLarge: throw bad("shape dimension \(i) is too large (\(literal(dv)))")
            }
        }

        // data_offsets
        guard let offsetsValue else { throw bad("missing 'data_offsets'") }
        guard case .array(let offs) = offsetsValue, offs.count == 2 else {
            throw bad("'data_offsets' must be an array of two integers [begin, end]")
        }
        var bounds: [Int] = []
        for (label, ov) in zip(["begin", "end"], offs) {
            switch ov.nonNegativeInteger {
            case .value(let v)?: bounds.append(v)
            case .negative?: throw bad("data_offsets \(label) is negative (\(literal(ov)))")
            case .notInteger?: throw bad("data_offsets \(label) is not an integer (\(literal(ov)))")
            case .tooLarge?: throw bad("data_offsets \(label) is too large (\(literal(ov)))")
            case nil: throw bad("data_offsets \(label) is \(ov.kindName), not an integer")
            }
        }
        let begin = bounds[0], end = bounds[1]
        guard begin <= end else { throw bad("data_offsets begin \(begin) > end \(end)") }

        // Size consistency, overflow-safe.
        guard let count = checkedElementCount(shape) else {
            throw bad("shape \(describeShape(shape)) has too many elements (product overflows)")
        }
        let (byteSize, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow else {
            throw bad("shape \(describeShape(shape)) × \(dtype.rawValue) byte size overflows")
        }
        let span = end - begin // cannot overflow: 0 <= begin <= end
        guard byteSize == span else {
            throw bad("shape \(describeShape(shape)) × \(dtype.rawValue) (\(dtype.byteCount) bytes) needs \(byteSize) bytes but data_offsets \(begin)..<\(end) span \(span)")
        }

        // Bounds: compared without adding to the data start, so no overflow.
        guard end <= dataCount else {
            throw bad("data_offsets \(begin)..<\(end) extend past the end of the file (data section holds \(dataCount) bytes)")
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end, elementCount: count)
    }

    private static func literal(_ v: JSONValue) -> String {
        if case .number(let s) = v { return s }
        return v.kindName
    }
}
