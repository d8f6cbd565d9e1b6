import TestSupport
import Testing
@testable import SafeTensors

@Suite struct RoundTripTests {
    @Test func f32RoundTripIsBitExact() throws {
        let values: [Float] = [0, -0.0, 1, -1.5, .pi, 0x1p-140 /* subnormal */, .greatestFiniteMagnitude, -.infinity]
        let bytes = try SafeTensorsWriter.encode(
            [.init(name: "a.weight", shape: [2, 4], values: values),
             .init(name: "b", shape: [], values: [42])],
            metadata: ["format": "pt", "quote\"d": "x\ny"])
        let f = try SafeTensorsFile(bytes: bytes, name: "rt.safetensors")
        #expect(f.names == ["a.weight", "b"])
        #expect(f.metadata == ["format": "pt", "quote\"d": "x\ny"])
        let e = try #require(f.entry("a.weight"))
        #expect(e.dtype == .F32 && e.shape == [2, 4] && e.byteRange == 0..<32 && e.elementCount == 8)
        #expect(f.entry("b")?.byteRange == 32..<36)
        #expect(f.entry("b")?.elementCount == 1)
        #expect(try f.floats("a.weight").map(\.bitPattern) == values.map(\.bitPattern))
        #expect(try f.floats("b", shape: []) == [42])
    }

    @Test func headerIsSpacePaddedToMultipleOf8() throws {
        let bytes = try SafeTensorsWriter.encode([.init(name: "x", shape: [1], values: [1])])
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4)
        let header = bytes[8..<(8 + n)]
        let close = try #require(header.lastIndex(of: UInt8(ascii: "}")))
        #expect(header[(close + 1)...].allSatisfy { $0 == 0x20 })
    }

    @Test func f16RoundTripExactAndRoundsToNearestEven() throws {
        // Exactly representable in binary16: normal, max, min normal, min subnormal.
        let exact: [Float] = [0, 1, -2, 0.5, 0.333251953125, 65504, 0x1p-14, 0x1p-24]
        // Ties go to the even neighbour; just above a tie rounds up; overflow → inf.
        let ties: [Float] = [1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 70000]
        let expected: [Float] = [1, 1 + 0x1p-9, 1 + 0x1p-10, .infinity]
        let bytes = try SafeTensorsWriter.encode([.init(name: "h", shape: [12], values: exact + ties, dtype: .F16)])
        let f = try SafeTensorsFile(bytes: bytes, name: "h.safetensors")
        #expect(f.entry("h")?.byteRange == 0..<24)
        #expect(try f.floats("h") == exact + expected)
        // 1.0 is 0x3C00, stored little-endian.
        let raw = try f.rawBytes("h")
        #expect(Array(raw[2..<4]) == [0x00, 0x3C])
    }

    @Test func bf16RoundTripExactAndRoundsToNearestEven() throws {
        let exact: [Float] = [0, 1, -2, 0.15625, 3.0, 0x1p100, -0x1p-100]
        let ties: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-8 + 0x1p-20]
        let expected: [Float] = [1, 1 + 0x1p-6, 1 + 0x1p-7]
        let bytes = try SafeTensorsWriter.encode([.init(name: "b", shape: [2, 5], values: exact + ties, dtype: .BF16)])
        let f = try SafeTensorsFile(bytes: bytes, name: "b.safetensors")
        #expect(try f.floats("b", shape: [2, 5]) == exact + expected)
        #expect(Array(try f.rawBytes("b")[2..<4]) == [0x80, 0x3F]) // 1.0 = 0x3F80
        // NaN must stay NaN rather than rounding into infinity.
        let nan = try SafeTensorsFile(bytes: SafeTensorsWriter.encode([.init(name: "n", shape: [1], values: [.nan], dtype: .BF16)]), name: "n")
        #expect(try nan.floats("n")[0].isNaN)
    }

    @Test func writesAtomicallyAndReadsFromDisk() throws {
        let dir = try TestFixtures.makeTemporaryDirectory("safetensors-tests").path
        let path = dir + "/model.safetensors"
        try SafeTensorsWriter.write([.init(name: "w", shape: [3], values: [1, 2, 3])], metadata: ["k": "v"], to: path)
        // Overwrite in place: rename replaces the old file.
        try SafeTensorsWriter.write([.init(name: "w", shape: [2], values: [4, 5])], to: path)
        let f = try SafeTensorsFile(path: path)
        #expect(f.path == path)
        #expect(try f.floats("w") == [4, 5])
        #expect(f.metadata.isEmpty)
        #expect(listDirectory(dir) == ["model.safetensors"]) // no temp file left behind
        removeTree(dir, files: ["model.safetensors"])
    }

    @Test func missingFileIsAClearError() {
        let error = #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensorsFile(path: "/nonexistent-dir/nothing.safetensors")
        }
        #expect(error?.file == "nothing.safetensors")
        #expect(error?.description.contains("No such file") == true, "\(String(describing: error))")
    }

    @Test func writerRejectsBadInput() {
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensorsWriter.encode([.init(name: "x", shape: [2, 2], values: [1, 2, 3])])
        }
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensorsWriter.encode([.init(name: "x", shape: [1], values: [1]), .init(name: "x", shape: [1], values: [1])])
        }
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensorsWriter.encode([.init(name: "x", shape: [1], values: [1], dtype: .I32)])
        }
    }

    @Test func emptyTensorsAreAccepted() throws {
        // The empty tensor shares offset 4 with 'b' and has a huge sibling dimension.
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0,99999999999],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let f = try SafeTensorsFile(bytes: rawFile(header: header, data: [UInt8](repeating: 0, count: 8)), name: "g")
        #expect(f.names == ["a", "b", "e"])
        #expect(try f.floats("e") == [])
        #expect(f.dataSectionByteCount == 8)
    }
}

// Minimal POSIX helpers.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func listDirectory(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let ent = readdir(d) {
        let name = withUnsafePointer(to: ent.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func removeTree(_ dir: String, files: [String]) {
    for f in files { unlink(dir + "/" + f) }
    rmdir(dir)
}
