import Foundation
import Testing
@testable import GGUF

@Suite struct RoundTripTests {
    static let everyType: [(String, GGUFValue)] = [
        ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(60000)), ("i16", .int16(-300)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-70000)), ("f32", .float32(-0.0)),
        ("bool", .bool(true)), ("str", .string("Ġhello wörld")), ("u64", .uint64(.max)),
        ("i64", .int64(.min)), ("f64", .float64(.pi)),
        ("strings", .array([.string("a"), .string(""), .string("日本")])),
        ("nested", .array([.array([.int32(1)]), .array([.string("x"), .string("y")])])),
        ("empty", .array([])),
    ]

    static func sampleWriter(version: Int = 3, alignment: Int = 32) throws -> GGUFWriter {
        var w = GGUFWriter(version: version, alignment: alignment)
        for (k, v) in everyType { w.add(k, v) }
        w.addTensor("f32.odd", dims: [3, 5], values: (0..<15).map { Float($0) * 0.5 - 3 })
        w.addTensor("q8_0", dims: [64, 3], type: .q8_0, data: (0..<(2 * 3 * 34)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        w.addTensor("q4_1", dims: [32, 1, 1, 2], type: .q4_1, data: (0..<(2 * 20)).map { UInt8(truncatingIfNeeded: $0) })
        w.addTensor("q4_K", dims: [256], type: .q4_K, data: [UInt8](repeating: 9, count: 144))
        return w
    }

    @Test(arguments: [(3, 32), (2, 32), (3, 64), (3, 1), (2, 4096)])
    func writeThenRead(version: Int, alignment: Int) throws {
        let w = try Self.sampleWriter(version: version, alignment: alignment)
        let file = try GGUFFile(bytes: try w.encode(), name: "rt.gguf")
        #expect(file.version == version)
        #expect(file.alignment == alignment)
        #expect(file.dataOffset % alignment == 0)
        let expectedKeys = Self.everyType.map(\.0) + (alignment == 32 ? [] : ["general.alignment"])
        #expect(file.metadataKeys == expectedKeys)
        for (k, v) in Self.everyType {
            let got = try #require(file.metadata[k])
            #expect(identical(got, v), "\(k)")
        }
        #expect(file.tensors.map(\.name) == w.tensors.map(\.name))
        for t in w.tensors {
            let got = try #require(file.tensor(t.name))
            #expect(got.dims == t.dims && got.type == t.type)
            #expect(got.offset % alignment == 0)
            #expect(Array(file.bytes(of: got)) == t.data)
        }
        let f = try #require(file.tensor("f32.odd"))
        let raw = file.bytes(of: f) // alignment 1 leaves it unaligned
        let values = (0..<15).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        #expect(values == (0..<15).map { Float($0) * 0.5 - 3 })
    }

    @Test func writeAtomicallyAndMap() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.gguf"
        try Self.sampleWriter(alignment: 64).write(to: path)
        // Only the final file remains: no temporary left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.gguf"])
        let mapped = try GGUFFile(path: path)
        let inMemory = try GGUFFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))), name: path)
        #expect(mapped.path == path)
        #expect(mapped.metadataKeys == inMemory.metadataKeys)
        #expect(mapped.tensors == inMemory.tensors)
        for t in mapped.tensors { #expect(Array(mapped.bytes(of: t)) == Array(inMemory.bytes(of: t))) }
        // Tensor data in a mapping is as aligned as the file says.
        for t in mapped.tensors {
            let address = Int(bitPattern: mapped.bytes(of: t).baseAddress)
            #expect(address % 64 == 0)
        }
    }

    @Test func writerRejectsWhatTheReaderWould() throws {
        func rejects(_ w: GGUFWriter, field: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let e = #expect(throws: GGUFError.self, sourceLocation: sourceLocation) { _ = try w.encode() }
            #expect(e?.field == field, "\(String(describing: e))", sourceLocation: sourceLocation)
            #expect(e?.reason.contains(phrase) == true, "\(String(describing: e))", sourceLocation: sourceLocation)
        }
        var w = GGUFWriter()
        w.add("a", .uint8(1)); w.add("a", .uint8(2))
        rejects(w, field: "metadata 'a'", "duplicate key")
        w = GGUFWriter()
        w.add("mixed", .array([.uint8(1), .string("x")]))
        rejects(w, field: "metadata 'mixed'[1]", "is string in an array of uint8")
        w = GGUFWriter()
        w.addTensor("q", dims: [33], type: .q8_0, data: [UInt8](repeating: 0, count: 34))
        rejects(w, field: "tensor 'q' dims", "block size 32")
        w = GGUFWriter()
        w.addTensor("f", dims: [4], type: .f32, data: [0, 0])
        rejects(w, field: "tensor 'f' data", "2 bytes, but F32 [4] needs 16")
        w = GGUFWriter()
        w.addTensor("f", dims: [1], values: [1]); w.addTensor("f", dims: [1], values: [2])
        rejects(w, field: "tensor 'f'", "duplicate tensor name")
        rejects(GGUFWriter(alignment: 24), field: "general.alignment", "not a power of two")
        rejects(GGUFWriter(version: 1), field: "version", "cannot be written")
        w = GGUFWriter(alignment: 64)
        w.add("general.alignment", .uint32(32))
        rejects(w, field: "metadata 'general.alignment'", "disagrees")
    }

    @Test func typedAccessors() throws {
        var w = GGUFWriter()
        w.add("name", .string("smol"))
        w.add("u8", .uint8(7))
        w.add("i64", .int64(-9))
        w.add("big", .uint64(.max))
        w.add("f32", .float32(1e-5))
        w.add("f64", .float64(100000))
        w.add("f64.huge", .float64(1e300))
        w.add("flag", .bool(false))
        w.add("tokens", .array([.string("a"), .string("b")]))
        w.add("ids", .array([.int32(1), .int32(2)]))
        w.add("bad.ids", .array([.uint64(1), .uint64(.max)]))
        w.add("scores", .array([.float32(0.5), .float32(-1)]))
        w.add("not.strings", .array([.uint32(1)]))
        let f = try GGUFFile(bytes: try w.encode(), name: "dir/acc.gguf")

        #expect(try f.string("name") == "smol")
        #expect(try f.optionalString("nope") == nil)
        #expect(try f.int("u8") == 7)
        #expect(try f.int("i64") == -9)
        #expect(try f.optionalInt("nope") == nil)
        #expect(try f.float("f32") == 1e-5)
        #expect(try f.float("f64") == 100000)
        #expect(try f.optionalFloat("nope") == nil)
        #expect(try f.optionalBool("flag") == false)
        #expect(try f.optionalBool("nope") == nil)
        #expect(try f.stringArray("tokens") == ["a", "b"])
        #expect(try f.optionalStringArray("nope") == nil)
        #expect(try f.optionalIntArray("ids") == [1, 2])
        #expect(try f.optionalFloatArray("scores") == [0.5, -1])

        func fails(_ body: () throws -> Void, field: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let e = #expect(throws: GGUFError.self, sourceLocation: sourceLocation) { try body() }
            if let e { expectDescribes(e, file: "acc.gguf", field: field, mentions: [phrase], sourceLocation: sourceLocation) }
        }
        fails({ _ = try f.string("general.architecture") }, field: "metadata 'general.architecture'", "missing (expected a string)")
        fails({ _ = try f.string("u8") }, field: "metadata 'u8'", "is uint8, expected a string")
        fails({ _ = try f.optionalString("tokens") }, field: "metadata 'tokens'", "is array of string, expected a string")
        fails({ _ = try f.int("big") }, field: "metadata 'big'", "18446744073709551615 does not fit in Int")
        fails({ _ = try f.int("f32") }, field: "metadata 'f32'", "is float32, expected an integer")
        fails({ _ = try f.optionalInt("flag") }, field: "metadata 'flag'", "is bool")
        fails({ _ = try f.float("u8") }, field: "metadata 'u8'", "expected a float")
        fails({ _ = try f.float("f64.huge") }, field: "metadata 'f64.huge'", "does not fit in Float")
        fails({ _ = try f.optionalBool("u8") }, field: "metadata 'u8'", "expected a bool")
        fails({ _ = try f.stringArray("name") }, field: "metadata 'name'", "is string, expected an array")
        fails({ _ = try f.optionalStringArray("not.strings") }, field: "metadata 'not.strings'[0]", "is uint32, expected a string")
        fails({ _ = try f.optionalIntArray("bad.ids") }, field: "metadata 'bad.ids'[1]", "does not fit in Int")
        fails({ _ = try f.optionalFloatArray("tokens") }, field: "metadata 'tokens'[0]", "expected a float")
    }

    /// A vocabulary-sized file, the shape SmolLM2's tokenizer metadata has.
    @Test func largeStringAndIntArrays() throws {
        let n = 49_152
        var w = GGUFWriter()
        w.add("tokenizer.ggml.tokens", .array((0..<n).map { .string("tok\($0)") }))
        w.add("tokenizer.ggml.merges", .array((0..<n).map { .string("Ġa b\($0)") }))
        w.add("tokenizer.ggml.token_type", .array((0..<n).map { .int32(Int32($0 % 5)) }))
        let f = try GGUFFile(bytes: try w.encode(), name: "vocab.gguf")
        let tokens = try f.stringArray("tokenizer.ggml.tokens")
        #expect(tokens.count == n && tokens[12345] == "tok12345")
        #expect(try f.optionalIntArray("tokenizer.ggml.token_type")?[49_151] == 49_151 % 5)
    }
}
