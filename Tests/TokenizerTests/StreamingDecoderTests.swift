import Foundation
import Testing
import Tokenizer

@Suite struct StreamingDecoderTests {
    /// Streams `ids` and returns each push's output plus finish()'s.
    static func stream(_ ids: [Int], _ tokenizer: BPETokenizer) -> (chunks: [String], tail: String) {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        let chunks = ids.map { decoder.push($0) }
        return (chunks, decoder.finish())
    }

    @Test func emojiIsHeldBackUntilComplete() throws {
        let gpt2 = try Fixtures.gpt2()
        for text in ["🙂", "👨‍👩‍👧‍👦", "🇯🇵", "中文", "𝔘"] {
            let ids = gpt2.encode(text)
            let (chunks, tail) = Self.stream(ids, gpt2)
            #expect(chunks.joined() + tail == text)
            #expect(tail.isEmpty)
            #expect(!chunks.joined().contains("\u{FFFD}"))
        }
        // "🙂" is several GPT-2 tokens: nothing shows until the last one.
        let smile = gpt2.encode("🙂")
        try #require(smile.count > 1)
        let (chunks, _) = Self.stream(smile, gpt2)
        #expect(chunks.dropLast().allSatisfy { $0.isEmpty })
        #expect(chunks.last == "🙂")
    }

    @Test func neverEmitsABrokenCharacterOnValidText() throws {
        let gpt2 = try Fixtures.gpt2()
        let cases = try Fixtures.cases("gpt2_tiktoken_cases.json").filter { $0.path == "text" }
        var splitCharacters = 0
        for item in cases {
            let (chunks, tail) = Self.stream(item.ids, gpt2)
            for chunk in chunks where chunk.contains("\u{FFFD}") && !item.text.contains("\u{FFFD}") {
                Issue.record("broken character in chunk \(String(reflecting: chunk)) of \(Fixtures.describe(item.bytes))")
            }
            splitCharacters += chunks.filter(\.isEmpty).count
            #expect(chunks.joined() + tail == item.text)
            #expect(tail.isEmpty)
        }
        #expect(splitCharacters > 0, "the fixtures should exercise characters split across tokens")
    }

    @Test func concatenationEqualsLossyDecodeForInvalidBytes() throws {
        let gpt2 = try Fixtures.gpt2()
        let cases = try Fixtures.cases("gpt2_tiktoken_cases.json").filter { $0.path == "bytes" }
        for item in cases {
            let (chunks, tail) = Self.stream(item.ids, gpt2)
            #expect(chunks.joined() + tail == gpt2.decodeText(item.ids), "\(Fixtures.describe(item.bytes))")
        }
    }

    @Test func finishFlushesAnIncompleteCharacter() throws {
        let gpt2 = try Fixtures.gpt2()
        let smile = gpt2.encode("🙂")
        var decoder = StreamingDecoder(tokenizer: gpt2)
        #expect(decoder.push(15496) == "Hello")
        #expect(decoder.push(smile[0]) == "")
        #expect(decoder.finish() == "\u{FFFD}")
        // finish() resets, so the decoder can be reused.
        #expect(decoder.push(995) == " world")
        #expect(decoder.push(-1) == "")
        #expect(decoder.finish() == "")
    }
}
