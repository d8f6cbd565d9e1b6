import Foundation
import Testing
import Tokenizer

/// ExitLens against tiktoken's GPT-2 encoding on the real ranks.
@Suite struct GPT2ParityTests {
    @Test func helloWorld() throws {
        let gpt2 = try Fixtures.gpt2()
        #expect(gpt2.encode("Hello world") == [15496, 995])
        #expect(gpt2.decodeText([15496, 995]) == "Hello world")
    }

    @Test func vocabulary() throws {
        let gpt2 = try Fixtures.gpt2()
        #expect(gpt2.vocabularySize == 50257)
        #expect(gpt2.endOfTextID == 50256)
        #expect(gpt2.id(forToken: "Ġworld") == 995)
        #expect(gpt2.id(forToken: "<|endoftext|>") == 50256)
        #expect(gpt2.tokenBytes(995) == Array(" world".utf8))
        #expect(gpt2.tokenBytes(50256) == Array("<|endoftext|>".utf8))
        #expect(gpt2.tokenBytes(50257) == nil)
        #expect(gpt2.tokenBytes(-1) == nil)
    }

    @Test func specialTokensAreMatchedOnlyByTextEncode() throws {
        let gpt2 = try Fixtures.gpt2()
        let text = "a<|endoftext|>b"
        #expect(gpt2.encode(text) == [64, 50256, 65])
        #expect(!gpt2.encodeOrdinary(text).contains(50256))
        #expect(gpt2.encode(bytes: Array(text.utf8)) == gpt2.encodeOrdinary(text))
        #expect(gpt2.decodeText(gpt2.encodeOrdinary(text)) == text)
    }

    @Test func fixtureIsLargeAndVaried() throws {
        let cases = try Fixtures.cases("gpt2_tiktoken_cases.json")
        #expect(cases.count >= 1000)
        let kinds = Set(cases.map(\.kind))
        for kind in ["python", "swift", "c", "js", "rust", "go", "shell", "json", "html", "unicode", "emoji",
                     "whitespace", "english", "digits", "special", "long", "bytes-invalid"] {
            #expect(kinds.contains(kind), "no \(kind) snippets")
        }
    }

    @Test func textEncodeMatchesTiktoken() throws {
        let gpt2 = try Fixtures.gpt2()
        let cases = try Fixtures.cases("gpt2_tiktoken_cases.json").filter { $0.path == "text" }
        expectParity(cases, name: "encode(String) vs tiktoken") { gpt2.encode($0.text) }
    }

    @Test func byteEncodeMatchesTiktoken() throws {
        let gpt2 = try Fixtures.gpt2()
        // Valid text must give the same ids on the byte path (minus special
        // tokens); invalid UTF-8 must match the surrogateescape reference.
        let cases = try Fixtures.cases("gpt2_tiktoken_cases.json").map { item in
            Fixtures.Case(kind: item.kind, path: item.path, b64: item.b64, ids: item.ordinary ?? item.ids, ordinary: nil)
        }
        expectParity(cases, name: "encode(bytes:) vs tiktoken") { gpt2.encode(bytes: $0.bytes) }
    }

    @Test func fixturesDecodeToTheirBytes() throws {
        let gpt2 = try Fixtures.gpt2()
        for item in try Fixtures.cases("gpt2_tiktoken_cases.json") {
            #expect(gpt2.decode(item.ids) == item.bytes, "\(Fixtures.describe(item.bytes))")
        }
    }
}
