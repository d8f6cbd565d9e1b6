import Foundation
import Testing
@testable import GGUF

/// Builds GGUF images byte by byte, with no validation, so tests can write
/// exactly the malformed field they are about.
struct RawGGUF {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { raw(Array(s.utf8)) }
    /// A string from raw bytes (which need not be UTF-8).
    mutating func raw(_ b: [UInt8]) {
        u64(UInt64(b.count))
        bytes += b
    }

    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes += Array("GGUF".utf8)
        u32(version)
        u64(tensors)
        u64(kvs)
    }

    /// A key and a typed value.
    mutating func kv(_ key: String, _ value: GGUFValue) {
        string(key)
        u32(value.type.rawValue)
        self.value(value)
    }

    mutating func value(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): u8(x)
        case .int8(let x): u8(UInt8(bitPattern: x))
        case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { bytes += $0 }
        case .int16(let x): withUnsafeBytes(of: x.littleEndian) { bytes += $0 }
        case .uint32(let x): u32(x)
        case .int32(let x): u32(UInt32(bitPattern: x))
        case .uint64(let x): u64(x)
        case .int64(let x): u64(UInt64(bitPattern: x))
        case .float32(let x): u32(x.bitPattern)
        case .float64(let x): u64(x.bitPattern)
        case .bool(let x): u8(x ? 1 : 0)
        case .string(let s): string(s)
        case .array(let a):
            u32((a.first?.type ?? .uint8).rawValue)
            u64(UInt64(a.count))
            for e in a { value(e) }
        }
    }

    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32 = GGMLType.f32.rawValue, offset: UInt64 = 0) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero padding to the data section, then `count` data bytes.
    mutating func data(_ count: Int, alignment: Int = 32) {
        while bytes.count % alignment != 0 { bytes.append(0) }
        bytes += (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }
}

/// A complete image with the given metadata and tensor infos, and `data` data bytes.
func rawFile(
    version: UInt32 = 3, metadata: [(String, GGUFValue)] = [],
    tensors: [(name: String, dims: [UInt64], type: GGMLType, offset: UInt64)] = [],
    data: Int = 0, alignment: Int = 32
) -> [UInt8] {
    var r = RawGGUF()
    r.header(version: version, tensors: UInt64(tensors.count), kvs: UInt64(metadata.count))
    for (k, v) in metadata { r.kv(k, v) }
    for t in tensors { r.tensorInfo(t.name, dims: t.dims, type: t.type.rawValue, offset: t.offset) }
    r.data(data, alignment: alignment)
    return r.bytes
}

/// Asserts that opening `bytes` fails with a one-line error naming `bad.gguf`,
/// the given field, and each phrase.
func expectInvalid(
    _ bytes: [UInt8], field: String, mentions phrases: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let error = #expect(throws: GGUFError.self, sourceLocation: sourceLocation) {
        _ = try GGUFFile(bytes: bytes, name: "dir/bad.gguf")
    }
    guard let error else { return }
    expectDescribes(error, field: field, mentions: phrases, sourceLocation: sourceLocation)
}

func expectDescribes(
    _ error: GGUFError, file: String = "bad.gguf", field: String, mentions phrases: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let d = error.description
    #expect(error.file == file, "\(d)", sourceLocation: sourceLocation)
    #expect(error.field == field, "\(d)", sourceLocation: sourceLocation)
    #expect(d.hasPrefix("\(file): \(field): "), "\(d)", sourceLocation: sourceLocation)
    #expect(!d.contains("\n") && !d.contains("\r"), "\(d)", sourceLocation: sourceLocation)
    for p in phrases { #expect(d.contains(p), "\(d) should mention \(p)", sourceLocation: sourceLocation) }
}

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "gguf-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

enum Fixtures {
    static func path(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            fatalError("test resources are missing")
        }
        return url.appendingPathComponent(name).path
    }
}

/// FNV-1a 64, matching training/gguf_fixtures.py.
func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Bitwise equality: unlike `==`, tells -0.0 from 0.0 and compares NaN payloads.
func identical(_ a: GGUFValue, _ b: GGUFValue) -> Bool {
    switch (a, b) {
    case (.float32(let x), .float32(let y)): x.bitPattern == y.bitPattern
    case (.float64(let x), .float64(let y)): x.bitPattern == y.bitPattern
    case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy(identical)
    default: a == b
    }
}

