import Foundation
import Testing
@testable import GGUF

/// One hand-built hostile file per check; each must fail with a one-line
/// message naming the file and the field, never crash or allocate wildly.
@Suite struct MalformedTests {
    static let huge: UInt64 = 1 << 63

    // MARK: header

    @Test func badMagic() {
        var b = rawFile()
        b.replaceSubrange(0..<4, with: Array("GGML".utf8))
        expectInvalid(b, field: "magic", mentions: ["47 47 4D 4C", "not a GGUF file"])
        expectInvalid([0x47, 0x47], field: "magic", mentions: ["2 bytes"])
    }

    @Test func unsupportedVersions() {
        expectInvalid(rawFile(version: 1), field: "version", mentions: ["version 1", "32-bit counts"])
        expectInvalid(rawFile(version: 4), field: "version", mentions: ["version 4 is not supported"])
        expectInvalid(rawFile(version: 0), field: "version", mentions: ["version 0 is not supported"])
        expectInvalid(rawFile(version: 3 << 24), field: "version", mentions: ["big-endian"])
    }

    @Test func truncatedHeader() {
        let b = rawFile()
        expectInvalid(Array(b.prefix(6)), field: "version", mentions: ["truncated", "4 bytes needed at offset 4", "file is 6 bytes"])
        expectInvalid(Array(b.prefix(12)), field: "tensor_count", mentions: ["truncated"])
        expectInvalid(Array(b.prefix(23)), field: "metadata_kv_count", mentions: ["truncated"])
    }

    /// Metadata only, with no data-section padding, so the last byte is the last value byte.
    static func metadataOnly(_ entries: [(String, GGUFValue)]) -> [UInt8] {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: UInt64(entries.count))
        for (k, v) in entries { r.kv(k, v) }
        return r.bytes
    }

    // Each cut leaves enough bytes that the up-front count check passes, so the
    // cursor meets the cut in the field itself.
    @Test func truncatedKeyAndValue() {
        let longKey = Self.metadataOnly([("a.rather.long.key.for.cutting", .uint8(1))])
        expectInvalid(Array(longKey.prefix(24 + 8 + 20)), field: "metadata key #0", mentions: ["string length 29 exceeds the 20 bytes left"])
        let b = Self.metadataOnly([("general.name", .string("tiny"))])
        // Header 24, key 8 + 12, type 4, value 8 + 4.
        expectInvalid(Array(b.prefix(24 + 8 + 12 + 2)), field: "metadata 'general.name' type", mentions: ["truncated", "4 bytes needed at offset 44"])
        expectInvalid(Array(b.prefix(24 + 8 + 12 + 4 + 5)), field: "metadata 'general.name'", mentions: ["truncated", "8 bytes needed at offset 48"])
        expectInvalid(Array(b.prefix(24 + 8 + 12 + 4 + 8 + 2)), field: "metadata 'general.name'", mentions: ["string length 4 exceeds the 2 bytes left"])
        let n = Self.metadataOnly([("n", .uint64(5))])
        expectInvalid(Array(n.dropLast(3)), field: "metadata 'n'", mentions: ["truncated", "8 bytes needed"])
        // Fixed-size elements are caught by the count check; strings get as far as the element.
        let ints = Self.metadataOnly([("ids", .array([.int32(1), .int32(2), .int32(3), .int32(4)]))])
        expectInvalid(Array(ints.dropLast(2)), field: "metadata 'ids' count", mentions: ["4 int32 elements cannot fit in the 14 bytes left"])
        let strings = Self.metadataOnly([("tokens", .array([.string("abcdef"), .string("ghijkl")]))])
        expectInvalid(Array(strings.dropLast(2)), field: "metadata 'tokens'[1]", mentions: ["string length 6 exceeds the 4 bytes left"])
    }

    @Test func truncatedTensorInfoAndData() {
        let name = "a.longer.tensor.name" // 20 bytes
        let b = rawFile(tensors: [(name, [4, 2], .f32, 0)], data: 32)
        let dimsStart = 24 + 8 + 20 + 4
        expectInvalid(Array(b.prefix(dimsStart + 10)), field: "tensor '\(name)' dims", mentions: ["truncated"])
        expectInvalid(Array(b.prefix(dimsStart + 16 + 2)), field: "tensor '\(name)' type", mentions: ["truncated"])
        expectInvalid(Array(b.prefix(dimsStart + 16 + 4 + 7)), field: "tensor '\(name)' offset", mentions: ["truncated"])
        expectInvalid(Array(b.dropLast(1)), field: "tensor '\(name)' offset", mentions: ["extends past the end of the file", "data section holds 31 bytes"])
    }

    // MARK: counts and lengths that cannot fit

    @Test func hugeCounts() {
        var r = RawGGUF()
        r.header(tensors: Self.huge, kvs: 0)
        expectInvalid(r.bytes, field: "tensor_count", mentions: ["9223372036854775808 tensor infos cannot fit"])

        r = RawGGUF()
        r.header(tensors: 0, kvs: Self.huge)
        expectInvalid(r.bytes + [UInt8](repeating: 0, count: 100), field: "metadata_kv_count", mentions: ["cannot fit in the 100 bytes left"])

        // Plausible-looking but still impossible: 10 entries in 50 bytes.
        r = RawGGUF()
        r.header(tensors: 0, kvs: 10)
        expectInvalid(r.bytes + [UInt8](repeating: 0, count: 50), field: "metadata_kv_count", mentions: ["each needs at least 13"])
    }

    @Test func hugeArrayCount() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.string("tokenizer.ggml.tokens")
        r.u32(GGUFValueType.array.rawValue)
        r.u32(GGUFValueType.string.rawValue)
        r.u64(Self.huge)
        r.bytes += [UInt8](repeating: 0, count: 64)
        expectInvalid(r.bytes, field: "metadata 'tokenizer.ggml.tokens' count", mentions: ["9223372036854775808 string elements cannot fit in the 64 bytes left"])
    }

    @Test func hugeStringLengths() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.u64(Self.huge)
        r.bytes += Array("key".utf8) + [UInt8](repeating: 0, count: 20)
        expectInvalid(r.bytes, field: "metadata key #0", mentions: ["string length 9223372036854775808 exceeds the 23 bytes left"])

        r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.string("general.name")
        r.u32(GGUFValueType.string.rawValue)
        r.u64(UInt64.max)
        expectInvalid(r.bytes, field: "metadata 'general.name'", mentions: ["string length 18446744073709551615"])

        r = RawGGUF()
        r.header(tensors: 1, kvs: 0)
        r.u64(Self.huge)
        r.bytes += [UInt8](repeating: 0, count: 40)
        expectInvalid(r.bytes, field: "tensor #0 name", mentions: ["exceeds the 40 bytes left"])
    }

    // MARK: values

    @Test func nestingDepth() throws {
        func nested(_ depth: Int) -> GGUFValue {
            depth == 0 ? .uint8(1) : .array([nested(depth - 1)])
        }
        // Eight levels of arrays are accepted; nine are not.
        let ok = try GGUFFile(bytes: rawFile(metadata: [("deep", nested(8))]), name: "ok.gguf")
        #expect(ok.metadata["deep"] == nested(8))
        expectInvalid(rawFile(metadata: [("deep", nested(9))]), field: "metadata 'deep'[0][0][0][0][0][0][0][0]", mentions: ["nested more than 8 deep"])
    }

    @Test func unknownValueTypes() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.string("k")
        r.u32(13)
        r.u64(0)
        expectInvalid(r.bytes, field: "metadata 'k' type", mentions: ["unknown value type 13"])

        r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.string("k")
        r.u32(GGUFValueType.array.rawValue)
        r.u32(0xFFFF_FFFF)
        r.u64(0)
        expectInvalid(r.bytes, field: "metadata 'k' element type", mentions: ["unknown value type 4294967295"])
    }

    @Test func invalidUTF8() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.raw([0x61, 0xFF, 0x62])
        r.u32(GGUFValueType.uint8.rawValue)
        r.u8(0)
        expectInvalid(r.bytes, field: "metadata key #0", mentions: ["not valid UTF-8"])

        r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.string("tokens")
        r.u32(GGUFValueType.array.rawValue)
        r.u32(GGUFValueType.string.rawValue)
        r.u64(2)
        r.string("fine")
        r.raw([0xC3]) // a lone lead byte
        expectInvalid(r.bytes, field: "metadata 'tokens'[1]", mentions: ["1 bytes", "not valid UTF-8"])

        r = RawGGUF()
        r.header(tensors: 1, kvs: 0)
        r.raw([0xED, 0xA0, 0x80]) // an encoded surrogate
        r.u32(1); r.u64(1); r.u32(0); r.u64(0)
        r.data(4)
        expectInvalid(r.bytes, field: "tensor #0 name", mentions: ["not valid UTF-8"])
    }

    @Test func duplicateKeys() {
        expectInvalid(rawFile(metadata: [("a", .uint8(1)), ("b", .uint8(2)), ("a", .string("again"))]),
                      field: "metadata 'a'", mentions: ["duplicate key (metadata entry #2)"])
    }

    @Test func boolOtherThanZeroOrOne() {
        var b = Self.metadataOnly([("flag", .bool(true))])
        b[b.count - 1] = 2
        expectInvalid(b, field: "metadata 'flag'", mentions: ["bool byte is 2"])
    }

    @Test func hostileKeysStayOnOneLine() {
        expectInvalid(rawFile(metadata: [("x\ny", .uint8(1)), ("x\ny", .uint8(1))]), field: "metadata 'x\\ny'", mentions: ["duplicate"])
    }

    // MARK: alignment

    @Test func badAlignment() {
        expectInvalid(rawFile(metadata: [("general.alignment", .uint32(0))]), field: "metadata 'general.alignment'", mentions: ["0 is not a power of two"])
        expectInvalid(rawFile(metadata: [("general.alignment", .uint32(48))]), field: "metadata 'general.alignment'", mentions: ["48 is not a power of two"])
        expectInvalid(rawFile(metadata: [("general.alignment", .int32(32))]), field: "metadata 'general.alignment'", mentions: ["is int32, expected uint32"])
        expectInvalid(rawFile(metadata: [("general.alignment", .uint64(32))]), field: "metadata 'general.alignment'", mentions: ["is uint64"])
        expectInvalid(rawFile(metadata: [("general.alignment", .array([.uint32(32)]))]), field: "metadata 'general.alignment'", mentions: ["is array of uint32"])
    }

    // MARK: tensor infos

    @Test func dimensionCount() {
        expectInvalid(rawFile(tensors: [("w", [], .f32, 0)], data: 4), field: "tensor 'w' n_dims", mentions: ["0 dimensions; expected 1 to 4"])
        expectInvalid(rawFile(tensors: [("w", [1, 1, 1, 1, 1], .f32, 0)], data: 4), field: "tensor 'w' n_dims", mentions: ["5 dimensions"])
    }

    @Test func badDims() {
        expectInvalid(rawFile(tensors: [("w", [4, 0], .f32, 0)], data: 16), field: "tensor 'w' dims", mentions: ["ne[1] is 0"])
        expectInvalid(rawFile(tensors: [("w", [UInt64.max], .f32, 0)], data: 16), field: "tensor 'w' dims", mentions: ["ne[0] = 18446744073709551615 is negative as a signed"])
        expectInvalid(rawFile(tensors: [("w", [1 << 32, 1 << 32], .f32, 0)], data: 16), field: "tensor 'w' dims", mentions: ["overflow the element count"])
        // Fits as an element count, but not as bytes.
        expectInvalid(rawFile(tensors: [("w", [1 << 62], .f32, 0)], data: 16), field: "tensor 'w' dims", mentions: ["overflow the byte count"])
    }

    @Test func rowLengthNotWholeBlocks() {
        expectInvalid(rawFile(tensors: [("q", [33, 2], .q8_0, 0)], data: 200), field: "tensor 'q' dims",
                      mentions: ["row length ne[0] = 33 is not a multiple of Q8_0's block size 32"])
        // 64 elements in total, but rows of 16 cannot hold whole Q4_1 blocks.
        expectInvalid(rawFile(tensors: [("q", [16, 4], .q4_1, 0)], data: 200), field: "tensor 'q' dims", mentions: ["block size 32"])
    }

    @Test func unknownTensorType() {
        var r = RawGGUF()
        r.header(tensors: 1, kvs: 0)
        r.tensorInfo("w", dims: [32], type: 4) // Q4_2, removed from ggml
        r.data(64)
        expectInvalid(r.bytes, field: "tensor 'w' type", mentions: ["unknown ggml type 4"])
    }

    @Test func duplicateTensorNames() {
        expectInvalid(rawFile(tensors: [("w", [4], .f32, 0), ("w", [4], .f32, 32)], data: 64), field: "tensor 'w'", mentions: ["duplicate tensor name (tensor #1)"])
    }

    @Test func misalignedOffset() {
        expectInvalid(rawFile(tensors: [("a", [4], .f32, 0), ("b", [4], .f32, 16)], data: 64),
                      field: "tensor 'b' offset", mentions: ["16 is not a multiple of the alignment 32"])
        // With general.alignment 16 the same layout is fine.
        let ok = rawFile(metadata: [("general.alignment", .uint32(16))], tensors: [("a", [4], .f32, 0), ("b", [4], .f32, 16)], data: 32, alignment: 16)
        #expect(throws: Never.self) { _ = try GGUFFile(bytes: ok, name: "ok.gguf") }
    }

    @Test func dataOutsideTheFile() {
        expectInvalid(rawFile(tensors: [("w", [4], .f32, 64)], data: 64), field: "tensor 'w' offset", mentions: ["64 + 16 bytes", "extends past the end of the file"])
        expectInvalid(rawFile(tensors: [("w", [4], .f32, UInt64(Int64.max) & ~31)], data: 64), field: "tensor 'w' offset", mentions: ["extends past the end"])
        expectInvalid(rawFile(tensors: [("w", [4], .f32, UInt64.max & ~31)], data: 64), field: "tensor 'w' offset", mentions: ["past any possible file size"])
    }

    @Test func overlappingTensors() {
        expectInvalid(rawFile(tensors: [("a", [16], .f32, 0), ("b", [4], .f32, 32)], data: 128),
                      field: "tensor 'b' offset", mentions: ["data at 32 overlaps tensor 'a' (0..<64)"])
        // Listed out of offset order, and one tensor inside another.
        expectInvalid(rawFile(tensors: [("inner", [4], .f32, 64), ("outer", [64], .f32, 0)], data: 256),
                      field: "tensor 'inner' offset", mentions: ["overlaps tensor 'outer'"])
    }

    // MARK: files on disk

    @Test func fileProblems() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: dir + "/missing.gguf") }
        #expect(missing?.description.hasPrefix("missing.gguf: file: cannot open") == true, "\(String(describing: missing))")
        let notFile = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: dir) }
        #expect(notFile?.reason.contains("not a regular file") == true)
        let empty = dir + "/empty.gguf"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let e = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: empty) }
        #expect(e?.description == "empty.gguf: magic: file is empty, too short for a GGUF header")
        // A bad file on disk is reported like an in-memory one, and unmapped.
        let bad = dir + "/bad.gguf"
        #expect(FileManager.default.createFile(atPath: bad, contents: Data(rawFile(version: 4))))
        let v = #expect(throws: GGUFError.self) { _ = try GGUFFile(path: bad) }
        if let v { expectDescribes(v, field: "version", mentions: ["version 4"]) }
    }
}
