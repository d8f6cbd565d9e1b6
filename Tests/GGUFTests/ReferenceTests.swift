import Foundation
import Testing
@testable import GGUF

/// What the `gguf` Python package's reader read from the committed fixtures
/// (written by training/gguf_fixtures.py). Integers and float bit patterns are
/// decimal strings, so nothing is rounded on the way.
struct Expected: Decodable {
    struct File: Decodable {
        let file: String
        let file_size: Int
        let version: Int
        let alignment: Int
        let data_offset: Int
        let metadata: [KV]
        let tensors: [Tensor]
    }
    struct KV: Decodable {
        let key: String
        let value: Value
    }
    struct Tensor: Decodable {
        let name: String
        let dims: [Int]
        let type: String
        let type_id: UInt32
        let offset: Int
        let n_bytes: Int
        let n_elements: Int
        let fnv1a64: String
        let head: String
    }
    final class Value: Decodable, Sendable {
        let type: String
        let text: String?
        let flag: Bool?
        let elementType: String?
        let elements: [Value]?

        enum CodingKeys: String, CodingKey { case type, value, element_type, elements }

        required init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decode(String.self, forKey: .type)
            if type == "bool" {
                flag = try c.decode(Bool.self, forKey: .value)
                text = nil
            } else {
                flag = nil
                text = try c.decodeIfPresent(String.self, forKey: .value)
            }
            elementType = try c.decodeIfPresent(String.self, forKey: .element_type)
            elements = try c.decodeIfPresent([Value].self, forKey: .elements)
        }

        /// The value the Swift reader should produce; nil if the JSON is not understood.
        var gguf: GGUFValue? {
            let t = text ?? ""
            switch type {
            case "uint8": return UInt8(t).map { .uint8($0) }
            case "int8": return Int8(t).map { .int8($0) }
            case "uint16": return UInt16(t).map { .uint16($0) }
            case "int16": return Int16(t).map { .int16($0) }
            case "uint32": return UInt32(t).map { .uint32($0) }
            case "int32": return Int32(t).map { .int32($0) }
            case "uint64": return UInt64(t).map { .uint64($0) }
            case "int64": return Int64(t).map { .int64($0) }
            case "float32": return UInt32(t).map { .float32(Float(bitPattern: $0)) }
            case "float64": return UInt64(t).map { .float64(Double(bitPattern: $0)) }
            case "bool": return flag.map { .bool($0) }
            case "string": return text.map { .string($0) }
            case "array":
                let converted = (elements ?? []).compactMap(\.gguf)
                guard converted.count == elements?.count else { return nil }
                return .array(converted)
            default: return nil
            }
        }
    }

    let gguf_package: String
    let files: [File]
    let ggml_quant_sizes: [String: [Int]]
    let ggml_type_ids: [String: UInt32]

    static func load() throws -> Expected {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("expected.json")))
        return try JSONDecoder().decode(Expected.self, from: data)
    }
}

@Suite struct ReferenceTests {
    @Test(arguments: ["types.gguf", "align64.gguf"])
    func matchesPythonReader(_ name: String) throws {
        let expected = try #require(try Expected.load().files.first { $0.file == name })
        let file = try GGUFFile(path: Fixtures.path(name))

        #expect(file.fileSize == expected.file_size)
        #expect(file.version == expected.version)
        #expect(file.alignment == expected.alignment)
        #expect(file.dataOffset == expected.data_offset)

        #expect(file.metadataKeys == expected.metadata.map(\.key))
        #expect(file.metadata.count == expected.metadata.count)
        for kv in expected.metadata {
            let want = try #require(kv.value.gguf, "cannot convert expected value of \(kv.key)")
            let got = try #require(file.metadata[kv.key], "missing \(kv.key)")
            #expect(identical(got, want), "\(kv.key): \(got) != \(want)")
            try expectElementTypes(got, kv.value, kv.key)
        }

        #expect(file.tensors.map(\.name) == expected.tensors.map(\.name))
        for t in expected.tensors {
            let got = try #require(file.tensor(t.name))
            #expect(got.dims == t.dims, "\(t.name)")
            #expect(got.type.name == t.type && got.type.rawValue == t.type_id, "\(t.name)")
            #expect(got.offset == t.offset, "\(t.name)")
            #expect(got.byteCount == t.n_bytes, "\(t.name)")
            #expect(got.elementCount == t.n_elements, "\(t.name)")
            let bytes = file.bytes(of: got)
            #expect(bytes.count == t.n_bytes)
            #expect(fnv1a64(bytes) == t.fnv1a64, "\(t.name)")
            #expect(hex(bytes.prefix(16)) == t.head, "\(t.name)")
        }
    }

    /// Array element types must match the file's even where values would compare equal.
    private func expectElementTypes(_ got: GGUFValue, _ want: Expected.Value, _ key: String) throws {
        guard case .array(let elements) = got else { return }
        let wantElements = try #require(want.elements)
        for e in elements { #expect(e.type.name == want.elementType, "\(key)") }
        for (g, w) in zip(elements, wantElements) { try expectElementTypes(g, w, key) }
    }

    @Test func typedAccessorsOnFixture() throws {
        let file = try GGUFFile(path: Fixtures.path("align64.gguf"))
        #expect(try file.string("general.architecture") == "test")
        #expect(try file.int("test.block_count") == 2)
        #expect(try file.stringArray("tokenizer.ggml.tokens") == ["<s>", "</s>", "a", "b"])
        #expect(try file.optionalFloatArray("tokenizer.ggml.scores") == [0, -1.5, -2, -2.5])
        #expect(try file.optionalIntArray("tokenizer.ggml.token_type") == [3, 3, 1, 1])
        #expect(try file.int("general.alignment") == 64)
        #expect(try file.optionalString("general.missing") == nil)
        // The 4-D tensor's bytes are the F32 values the writer was given, row by row.
        let t = try #require(file.tensor("f32.4d"))
        #expect(t.dims == [5, 3, 1, 2] && t.rowCount == 6)
        #expect(file.tensor("absent") == nil)
    }

    @Test func blockAndTypeSizesMatchPythonPackage() throws {
        let expected = try Expected.load()
        var checked = 0
        for type in GGMLType.allCases {
            let ids = expected.ggml_type_ids[type.name]
            #expect(ids == type.rawValue, "\(type.name) id")
            let sizes = try #require(expected.ggml_quant_sizes[type.name], "\(type.name) missing from the package")
            #expect(sizes == [type.blockSize, type.typeSize], "\(type.name)")
            checked += 1
        }
        #expect(checked == GGMLType.allCases.count)
    }
}
