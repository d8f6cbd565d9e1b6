import Testing
@testable import SafeTensors

/// One test per malformed case; each checks the tensor named and the message.
@Suite struct MalformedTests {
    static func entry(_ name: String, _ dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
        #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
    }

    @Test func fileShorterThan8Bytes() {
        expectInvalid([1, 0, 0], tensor: nil, mentions: ["3 bytes", "too short"])
    }

    @Test func truncatedData() throws {
        let good = try SafeTensorsWriter.encode([.init(name: "h.0.attn.c_attn.weight", shape: [10, 10], values: .init(repeating: 1, count: 100))])
        expectInvalid(Array(good.dropLast(80)), tensor: "h.0.attn.c_attn.weight",
                      mentions: ["data_offsets 0..<400 extend past the end of the file", "data section holds 320 bytes"])
    }

    @Test func headerLengthPastEOF() {
        expectInvalid(rawFile(header: "{}", headerLength: 500), tensor: nil,
                      mentions: ["header length 500 extends past the end of the file", "only 2 bytes"])
    }

    @Test func headerLengthZero() {
        expectInvalid(rawFile(header: "{}", headerLength: 0), tensor: nil, mentions: ["header length is 0"])
    }

    @Test func headerLengthAbsurd() {
        expectInvalid(rawFile(header: "{}", headerLength: UInt64.max), tensor: nil, mentions: ["exceeds the 100000000-byte limit"])
    }

    @Test func headerNotJSON() {
        expectInvalid(rawFile(header: "{\"a\": nope}"), tensor: nil, mentions: ["header is not valid JSON", "header byte 6"])
        expectInvalid(rawFile(header: "{\"a\":{}} x"), tensor: nil, mentions: ["not valid JSON", "trailing"])
    }

    @Test func headerNotUTF8() {
        // 0xFF can never appear in UTF-8.
        expectInvalid(rawFile(headerBytes: Array(#"{"a"#.utf8) + [0xFF] + Array(#"":1}"#.utf8)), tensor: nil, mentions: ["not valid UTF-8"])
    }

    @Test func headerNotAnObject() {
        expectInvalid(rawFile(header: "[1,2]"), tensor: nil, mentions: ["header is an array, not a JSON object"])
    }

    @Test func entryNotAnObject() {
        expectInvalid(rawFile(header: #"{"w":[1]}"#), tensor: "w", mentions: ["header entry is an array, not an object"])
    }

    @Test func missingAndIllTypedFields() {
        expectInvalid(rawFile(header: #"{"w":{"shape":[],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), tensor: "w", mentions: ["missing 'dtype'"])
        expectInvalid(rawFile(header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), tensor: "w", mentions: ["missing 'shape'"])
        expectInvalid(rawFile(header: #"{"w":{"dtype":"F32","shape":[]}}"#, data: [0, 0, 0, 0]), tensor: "w", mentions: ["missing 'data_offsets'"])
        expectInvalid(rawFile(header: #"{"w":{"dtype":32,"shape":[],"data_offsets":[0,4]}}"#), tensor: "w", mentions: ["'dtype' is a number"])
        expectInvalid(rawFile(header: #"{"w":{"dtype":"F32","shape":"2","data_offsets":[0,4]}}"#), tensor: "w", mentions: ["'shape' is a string"])
        expectInvalid(rawFile(header: "{" + Self.entry("w", offsets: "[0]") + "}"), tensor: "w", mentions: ["two integers"])
        expectInvalid(rawFile(header: "{" + Self.entry("w", offsets: "[0,\"8\"]") + "}"), tensor: "w", mentions: ["end is a string"])
        expectInvalid(rawFile(header: #"{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1}}"#), tensor: "w", mentions: ["unexpected field 'extra'"])
    }

    @Test func wrongDtypeString() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", "F33") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["unknown dtype 'F33'"])
    }

    @Test func shapeTimesDtypeDiffersFromByteRange() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[2,3]", offsets: "[0,20]") + "}", data: .init(repeating: 0, count: 24)),
                      tensor: "w", mentions: ["[2, 3]", "needs 24 bytes", "0..<20 span 20"])
    }

    @Test func negativeDimension() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[2,-3]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["dimension 1 is negative (-3)"])
    }

    @Test func nonIntegerDimension() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[2.0]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["dimension 0 is not an integer (2.0)"])
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[99999999999999999999]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["dimension 0 is too large"])
    }

    @Test func beginGreaterThanEnd() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", offsets: "[8,0]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["begin 8 > end 0"])
    }

    @Test func hugeDimsThatWouldOverflow() {
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[4294967296,4294967296]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["too many elements", "overflows"])
        // Element count fits, but × 4 bytes does not.
        expectInvalid(rawFile(header: "{" + Self.entry("w", shape: "[4611686018427387904]") + "}", data: .init(repeating: 0, count: 8)),
                      tensor: "w", mentions: ["byte size overflows"])
    }

    @Test func overlappingOffsets() {
        let header = "{" + Self.entry("a", shape: "[4]", offsets: "[0,16]") + "," + Self.entry("b", shape: "[4]", offsets: "[8,24]") + "}"
        expectInvalid(rawFile(header: header, data: .init(repeating: 0, count: 24)),
                      tensor: "b", mentions: ["data_offsets 8..<24 overlap tensor 'a' (0..<16)"])
    }

    /// Issue #13: a header length one short shifted every tensor by a byte and loaded anyway.
    @Test func headerLengthOneShortIsRefused() throws {
        let good = try SafeTensorsWriter.encode([.init(name: "w", shape: [3], values: [1, 2, 3])])
        var bad = good
        let n = bad[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        for i in 0..<8 { bad[i] = UInt8(truncatingIfNeeded: (n - 1) >> (8 * i)) }
        expectInvalid(bad, tensor: nil, mentions: ["tensors cover 12 of the 13 bytes", "header length \(n - 1)"])
    }

    @Test func gapBetweenTensors() {
        let header = "{" + Self.entry("a", shape: "[1]", offsets: "[0,4]") + "," + Self.entry("b", shape: "[1]", offsets: "[8,12]") + "}"
        expectInvalid(rawFile(header: header, data: .init(repeating: 0, count: 12)),
                      tensor: "b", mentions: ["leave a gap of 4 bytes after tensor 'a'"])
    }

    @Test func gapAtTheStart() {
        let header = "{" + Self.entry("a", shape: "[1]", offsets: "[4,8]") + "}"
        expectInvalid(rawFile(header: header, data: .init(repeating: 0, count: 8)),
                      tensor: "a", mentions: ["gap of 4 bytes at the start"])
    }

    @Test func unusedBytesAtTheEnd() {
        let header = "{" + Self.entry("a", shape: "[1]", offsets: "[0,4]") + "}"
        expectInvalid(rawFile(header: header, data: .init(repeating: 0, count: 5)),
                      tensor: nil, mentions: ["tensors cover 4 of the 5 bytes"])
        expectInvalid(rawFile(header: "{}", data: [0]), tensor: nil, mentions: ["tensors cover 0 of the 1 bytes"])
    }

    /// Issue #13: NaN weights loaded silently. `floats(_:shape:)` (what model loaders use) refuses
    /// non-finite values; the raw `floats(_:)` keeps them (NaN round-trip tests need it).
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeightsAreRefused(_ bad: Float) throws {
        for dtype in [SafeTensorsDType.F32, .F16, .BF16] {
            let bytes = try SafeTensorsWriter.encode([.init(name: "h.0.w", shape: [2, 2], values: [0, 1, bad, 3], dtype: dtype)])
            let file = try SafeTensorsFile(bytes: bytes, name: "dir/bad.safetensors")
            #expect(try file.floats("h.0.w").count == 4)
            let error = #expect(throws: SafeTensorsError.self) { _ = try file.floats("h.0.w", shape: [2, 2]) }
            if let error { expectDescribes(error, tensor: "h.0.w", mentions: ["element 2", "[1, 0]", "finite"]) }
        }
    }

    @Test func duplicateTensorName() {
        let header = "{" + Self.entry("a") + "," + Self.entry("a") + "}"
        expectInvalid(rawFile(header: header, data: .init(repeating: 0, count: 8)), tensor: "a", mentions: ["more than once"])
        // Duplicate keys inside an entry are caught too.
        expectInvalid(rawFile(header: #"{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8)),
                      tensor: nil, mentions: ["duplicate key 'dtype'"])
    }

    @Test func badMetadata() {
        expectInvalid(rawFile(header: #"{"__metadata__":{"k":1}}"#), tensor: nil, mentions: ["__metadata__ value for key 'k' is a number"])
        expectInvalid(rawFile(header: #"{"__metadata__":[]}"#), tensor: nil, mentions: ["__metadata__ is an array"])
    }

    @Test func deepNestingIsRejectedNotCrashing() {
        let header = "{\"a\":" + String(repeating: "[", count: 100_000) + "}"
        expectInvalid(rawFile(header: header), tensor: nil, mentions: ["nesting deeper"])
    }

    @Test func floatsOnI64IsUnsupported() throws {
        let f = try SafeTensorsFile(bytes: rawFile(header: "{" + Self.entry("ids", "I64", shape: "[1]") + "}", data: .init(repeating: 0, count: 8)),
                                    name: "/x/bad.safetensors")
        #expect(f.entry("ids")?.dtype == .I64)
        let error = #expect(throws: SafeTensorsError.self) { _ = try f.floats("ids") }
        if let error { expectDescribes(error, tensor: "ids", mentions: ["unsupported dtype I64"]) }
    }

    @Test func shapeMismatch() throws {
        let f = try SafeTensorsFile(bytes: SafeTensorsWriter.encode([.init(name: "wte", shape: [2, 3], values: .init(repeating: 0, count: 6))]),
                                    name: "bad.safetensors")
        let error = #expect(throws: SafeTensorsError.self) { _ = try f.floats("wte", shape: [3, 2]) }
        if let error { expectDescribes(error, tensor: "wte", mentions: ["shape mismatch", "file has [2, 3]", "expected [3, 2] from config.json"]) }
    }

    @Test func missingTensor() throws {
        let f = try SafeTensorsFile(bytes: SafeTensorsWriter.encode([.init(name: "wte", shape: [1], values: [0])]), name: "bad.safetensors")
        #expect(f.entry("wpe") == nil)
        let e1 = #expect(throws: SafeTensorsError.self) { _ = try f.floats("wpe") }
        if let e1 { expectDescribes(e1, tensor: "wpe", mentions: ["no such tensor"]) }
        let e2 = #expect(throws: SafeTensorsError.self) { _ = try f.floats("wpe", shape: [1]) }
        if let e2 { expectDescribes(e2, tensor: "wpe", mentions: ["no such tensor"]) }
    }
}
