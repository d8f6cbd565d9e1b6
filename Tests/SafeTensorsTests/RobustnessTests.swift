import TestSupport
import Testing
@testable import SafeTensors

@Suite struct RobustnessTests {
    /// Mutates a valid file thousands of times; the reader must either accept
    /// it (and then read every tensor safely) or throw — never trap.
    @Test func randomCorruptionNeverCrashes() throws {
        let valid = try SafeTensorsWriter.encode([
            .init(name: "a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            .init(name: "b.half", shape: [4], values: [0.5, -1, 2, 8], dtype: .F16),
            .init(name: "c", shape: [], values: [3], dtype: .BF16),
        ], metadata: ["format": "pt"])
        let n = valid[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let interesting: [UInt8] = Array("{}[]\",:-0123456789.eE \\u".utf8) + [0x00, 0x80, 0xFF, 0xC3]
        var rng = SeededRandom(seed: 0x5AFE_7E45)
        var accepted = 0, rejected = 0
        for _ in 0..<4000 {
            var bytes = valid
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: // flip a few bits anywhere
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                }
            case 1: // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            case 2: // replace header bytes with JSON-significant characters
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 8..<(8 + n), using: &rng)] = interesting.randomElement(using: &rng) ?? 0
                }
            case 3: // corrupt the length prefix
                bytes[Int.random(in: 0..<8, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            default: // delete or duplicate a header byte (shifts everything after it)
                let i = Int.random(in: 8..<(8 + n), using: &rng)
                if Bool.random(using: &rng) { bytes.remove(at: i) } else { bytes.insert(bytes[i], at: i) }
            }
            do {
                let f = try SafeTensorsFile(bytes: bytes, name: "fuzz.safetensors")
                accepted += 1
                for name in f.names {
                    if let e = f.entry(name) {
                        #expect(e.byteRange.upperBound <= f.dataSectionByteCount)
                        if let v = try? f.floats(name) { #expect(v.count == e.elementCount) }
                    }
                }
            } catch let e as SafeTensorsError {
                rejected += 1
                #expect(e.file == "fuzz.safetensors")
            }
        }
        #expect(accepted + rejected == 4000)
        #expect(accepted > 0 && rejected > 0, "accepted \(accepted), rejected \(rejected)")
    }
}
