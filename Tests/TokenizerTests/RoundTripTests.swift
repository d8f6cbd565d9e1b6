import Foundation
import TestSupport
import Testing
@_spi(Testing) import Tokenizer

/// decode(encode(x)) == x for arbitrary bytes, and the pieces/merges beneath it.
@Suite struct RoundTripTests {
    /// Random byte strings biased towards the hard cases: invalid UTF-8,
    /// truncated sequences, encoded surrogates, long runs.
    static func randomBytes(count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed)
        let fragments: [[UInt8]] = [
            [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80],
            [0xC0, 0xAF], Array("é".utf8), Array("中".utf8), Array("😀".utf8), Array("'s".utf8),
            Array(" ".utf8), Array("\r\n".utf8), Array("<|endoftext|>".utf8), Array("abc".utf8),
        ]
        return (0..<count).map { _ in
            let length = Int.random(in: 0...120, using: &rng)
            var bytes: [UInt8] = []
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                for _ in 0..<length { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            case 1:
                for _ in 0..<length { bytes.append(UInt8.random(in: 0x80...0xFF, using: &rng)) }
            case 2:
                while bytes.count < length { bytes += fragments.randomElement(using: &rng) ?? [] }
            default:
                let byte = UInt8.random(in: 0...255, using: &rng)
                bytes = [UInt8](repeating: byte, count: length + 60)
            }
            return bytes
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomBytesRoundTrip(seed: UInt64) throws {
        let tokenizers = [try Fixtures.gpt2(), try Fixtures.hfTiny()]
        var sawInvalid = false
        for bytes in Self.randomBytes(count: 200, seed: seed) {
            sawInvalid = sawInvalid || String(validating: bytes, as: UTF8.self) == nil
            for tokenizer in tokenizers {
                let ids = tokenizer.encode(bytes: bytes)
                #expect(tokenizer.decode(ids) == bytes, "\(Fixtures.describe(bytes))")
            }
        }
        #expect(sawInvalid)
    }

    @Test func validUTF8BytePathEqualsTextPath() throws {
        let gpt2 = try Fixtures.gpt2()
        for bytes in Self.randomBytes(count: 300, seed: 7) {
            guard let text = String(validating: bytes, as: UTF8.self) else { continue }
            #expect(gpt2.encode(bytes: bytes) == gpt2.encodeOrdinary(text), "\(Fixtures.describe(bytes))")
            #expect(gpt2.decode(gpt2.encode(text)) == bytes)
        }
    }

    @Test func piecesTileTheInput() {
        for bytes in Self.randomBytes(count: 300, seed: 11) {
            let pieces = BPETokenizer.pieces(of: bytes)
            #expect(Array(pieces.joined()) == bytes)
            #expect(!pieces.contains { $0.isEmpty })
        }
    }

    @Test func preTokenizerFollowsGPT2Regex() {
        func pieces(_ text: String) -> [String] {
            BPETokenizer.pieces(of: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(pieces("Hello world") == ["Hello", " world"])
        #expect(pieces("I'm here, they'll see it's") == ["I", "'m", " here", ",", " they", "'ll", " see", " it", "'s"])
        #expect(pieces("IT'S") == ["IT", "'", "S"])  // contractions are lowercase only
        #expect(pieces("x  = 1\n\n  y ") == ["x", " ", " =", " 1", "\n\n ", " y", " "])
        #expect(pieces("a\t\tb") == ["a", "\t", "\t", "b"])
        #expect(pieces("٣ ²Ⅻ") == ["٣", " ²Ⅻ"])
        #expect(pieces("naïve café") == ["naïve", " café"])
        #expect(pieces("e\u{301}!") == ["e", "\u{301}!"])  // a combining mark is not a letter
    }

    @Test func invalidBytesArePunctuationLike() {
        #expect(BPETokenizer.pieces(of: [0x61, 0xFF, 0x62]) == [[0x61], [0xFF], [0x62]])
        #expect(BPETokenizer.pieces(of: [0x20, 0xFF, 0x21, 0x20, 0x78]) == [[0x20, 0xFF, 0x21], [0x20, 0x78]])
        // A truncated "é" (0xC3) before "t": the lone lead byte stands alone.
        #expect(BPETokenizer.pieces(of: [0x63, 0x61, 0x66, 0xC3, 0x74]) == [[0x63, 0x61, 0x66], [0xC3], [0x74]])
    }

    @Test func heapAndScanMergesAgree() throws {
        let gpt2 = try Fixtures.gpt2()
        var rng = SeededRandom(seed: 5)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz     ==--__..ee".utf8)
        for _ in 0..<200 {
            let length = Int.random(in: 2...150, using: &rng)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &rng) ?? 0x61 }
            #expect(gpt2.mergePiece(bytes, forceHeap: true) == gpt2.mergePiece(bytes, forceHeap: false),
                    "\(Fixtures.describe(bytes))")
        }
    }

    @Test func unknownIDsAreSkippedWhenDecoding() throws {
        let gpt2 = try Fixtures.gpt2()
        #expect(gpt2.decodeText([15496, -5, 1_000_000, 995]) == "Hello world")
    }

    @Test func tokenizerIsUsableConcurrently() async throws {
        let gpt2 = try Fixtures.gpt2()
        let texts = (0..<16).map { "func f\($0)() { return \($0) * 2 } // ünïcödé 🚀" }
        let expected = texts.map { gpt2.encode($0) }
        let results = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (index, text) in texts.enumerated() { group.addTask { (index, gpt2.encode(text)) } }
            var results = [[Int]](repeating: [], count: texts.count)
            for await (index, ids) in group { results[index] = ids }
            return results
        }
        #expect(results == expected)
    }
}
