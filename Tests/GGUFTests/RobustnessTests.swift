import TestSupport
import Foundation
import Testing
@testable import GGUF

/// Damaged copies of valid files must be rejected with a one-line error or
/// accepted consistently, never crash; the seeds are the committed fixtures
/// and a writer-built file.
@Suite struct RobustnessTests {
    static func seeds() throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for name in ["types.gguf", "align64.gguf"] {
            out.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))))
        }
        out.append(("written.gguf", try RoundTripTests.sampleWriter(alignment: 64).encode()))
        return out
    }

    /// The opened file must be self-consistent: every tensor inside the file, aligned, disjoint.
    static func checkConsistent(_ f: GGUFFile) {
        var end = f.dataOffset
        for t in f.tensors.sorted(by: { $0.offset < $1.offset }) {
            #expect(t.offset >= end && t.offset + t.byteCount <= f.fileSize)
            #expect((t.offset - f.dataOffset) % f.alignment == 0)
            #expect(t.byteCount == t.elementCount / t.type.blockSize * t.type.typeSize)
            end = t.offset + t.byteCount
            _ = f.bytes(of: t)
        }
    }

    static func open(_ bytes: [UInt8]) -> GGUFError? {
        do {
            checkConsistent(try GGUFFile(bytes: bytes, name: "fuzz.gguf"))
            return nil
        } catch let e as GGUFError {
            #expect(e.file == "fuzz.gguf" && !e.description.contains("\n"), "\(e)")
            return e
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func everyTruncationIsRejected() throws {
        for (name, bytes) in try Self.seeds() {
            var rejected = 0
            for n in 0..<bytes.count where Self.open(Array(bytes.prefix(n))) != nil { rejected += 1 }
            // Trailing padding after the last tensor's data is the only thing that may be cut.
            let file = try GGUFFile(bytes: bytes, name: name)
            let lastEnd = file.tensors.map { $0.offset + $0.byteCount }.max() ?? file.dataOffset
            #expect(rejected >= lastEnd, "\(name): only \(rejected) of \(bytes.count) prefixes rejected")
        }
    }

    @Test func randomByteDamage() throws {
        var rng = SeededRandom(seed: 10)
        var rejected = 0, total = 0
        for (_, bytes) in try Self.seeds() {
            let file = try GGUFFile(bytes: bytes, name: "seed")
            let headerEnd = file.dataOffset
            for _ in 0..<1500 {
                var b = bytes
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<headerEnd, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: b[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: b[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    default:
                        // Plant a large 64-bit value where a count, length or offset may be.
                        let v = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0..<64, using: &rng)
                        for k in 0..<8 where i + k < b.count { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
                    }
                }
                total += 1
                if Self.open(b) != nil { rejected += 1 }
            }
        }
        // Most damage to a header is detectable; the point is that none of it crashed.
        #expect(rejected > total / 2, "\(rejected) of \(total)")
    }
}

/// The hand-written validator must agree with the standard library's on any bytes.
@Suite struct UTF8ValidationTests {
    @Test func agreesWithStandardLibrary() {
        var rng = SeededRandom(seed: 8)
        // Bias towards the bytes that matter: lead bytes, continuation bytes, boundaries.
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var valid = 0
        for _ in 0..<50_000 {
            let n = Int.random(in: 0...6, using: &rng)
            let bytes: [UInt8] = (0..<n).map { _ in
                Bool.random(using: &rng) ? interesting.randomElement(using: &rng) ?? 0 : UInt8.random(in: 0...255, using: &rng)
            }
            let reference = String(validating: bytes, as: UTF8.self) != nil
            let ours = bytes.withUnsafeBufferPointer { isValidUTF8($0) }
            #expect(ours == reference, "\(hex(bytes))")
            if reference { valid += 1 }
        }
        #expect(valid > 5_000) // the generator really exercises valid multi-byte text too
        for s in ["", "ascii", "Ġhello", "日本語", "🦙", "\u{10FFFF}", "\u{FFFD}"] {
            #expect(Array(s.utf8).withUnsafeBufferPointer { isValidUTF8($0) })
        }
    }
}
