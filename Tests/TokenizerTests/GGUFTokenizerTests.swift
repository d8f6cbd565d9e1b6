import TestSupport
import Foundation
import Testing

@_spi(Testing) import Tokenizer

/// The tokenizer built from GGUF metadata, against HF `tokenizers` on
/// SmolLM2's real vocabulary (fixtures by training/gguf_tokenizer_fixtures.py).
@Suite struct GGUFTokenizerTests {
    /// The three pre-tokenizers the fixtures cover, by `tokenizer.ggml.pre` name.
    static let preNames = ["smollm", "qwen2", "llama-bpe"]

    @Test func smollm2Metadata() throws {
        let tokenizer = try SmolLM2.tokenizer(pre: "smollm")
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.addsBOS == false)
        #expect(tokenizer.specialTokens.count == 17)
        #expect(tokenizer.id(forToken: "<|im_start|>") == 1)
        #expect(tokenizer.endOfTextID == 0)
        // llama.cpp adds BOS for Llama 3 vocabularies unless the file says otherwise.
        let metadata = try SmolLM2.metadata()
        let llama = try metadata.tokenizer(pre: "llama-bpe", addBOS: nil)
        #expect(llama.addsBOS == true)
        #expect(try metadata.tokenizer(pre: "llama-bpe", addBOS: false).addsBOS == false)
    }

    @Test(arguments: preNames)
    func idsMatchHF(pre: String) throws {
        let tokenizer = try SmolLM2.tokenizer(pre: pre)
        let cases = try SmolLM2.cases()
        #expect(cases.count >= 1000)
        var mismatches = 0
        for (index, item) in cases.enumerated() {
            let expected = item.ids(pre)
            let got = tokenizer.encode(item.text)
            guard got != expected else { continue }
            mismatches += 1
            if mismatches <= 3 {
                Issue.record("\(pre): case #\(index) (\(item.kind)) \(Fixtures.describe(item.bytes))\nexpected \(expected)\ngot      \(got)")
            }
        }
        #expect(mismatches == 0, "\(pre): \(mismatches) of \(cases.count) snippets differ from HF")
    }

    /// The split itself, piece by piece; ids alone cannot tell `\p{N}` from
    /// `\p{N}{1,3}` on this vocabulary, which has no multi-digit tokens.
    @Test(arguments: preNames)
    func piecesMatchHF(pre: String) throws {
        let tokenizer = try SmolLM2.tokenizer(pre: pre)
        let cases = try SmolLM2.cases()
        let pieces = try SmolLM2.pieces()
        try #require(pieces.count == cases.count)
        var mismatches = 0
        for (index, item) in cases.enumerated() {
            let expected = pieces[index].lengths(pre)
            let got = tokenizer.pieces(of: item.bytes).map(\.count)
            guard got != expected else { continue }
            mismatches += 1
            if mismatches <= 3 {
                Issue.record("\(pre): case #\(index) \(Fixtures.describe(item.bytes))\nexpected lengths \(expected)\ngot              \(got)")
            }
        }
        #expect(mismatches == 0, "\(pre): \(mismatches) of \(cases.count) snippets split differently from HF")
    }

    @Test(arguments: preNames)
    func roundTrip(pre: String) throws {
        let tokenizer = try SmolLM2.tokenizer(pre: pre)
        // SmolLM2 has no token for 21 bytes (0x04, 0xFF…); those encode to nothing.
        let missing = Set((0...255).map(UInt8.init).filter {
            tokenizer.id(forToken: BPETokenizer.byteLevelSpelling([$0])) == nil
        })
        #expect(missing.count == 21)
        var checked = 0
        for item in try SmolLM2.cases() {
            let expected = item.bytes.filter { !missing.contains($0) }
            if expected.count < item.bytes.count { checked += 1 }
            #expect(tokenizer.decode(tokenizer.encode(item.text)) == expected, "\(Fixtures.describe(item.bytes))")
            #expect(tokenizer.decode(tokenizer.encodeOrdinary(item.text)) == expected)
        }
        #expect(checked >= 5, "snippets with bytes that have no token")
        // Invalid UTF-8 round-trips byte for byte, apart from those bytes.
        var generator = SeededRandom(seed: 7)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(tokenizer.decode(tokenizer.encode(bytes: bytes)) == bytes.filter { !missing.contains($0) })
        }
    }

    @Test func specialTokensStayWhole() throws {
        let tokenizer = try SmolLM2.tokenizer(pre: "smollm")
        let chat = "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
        let ids = tokenizer.encode(chat)
        #expect(ids.first == 1)
        #expect(ids.filter { $0 == 1 }.count == 2)
        #expect(ids.filter { $0 == 2 }.count == 1)
        #expect(tokenizer.decodeText(ids) == chat)
        // Without special-token matching the same text is ordinary pieces.
        let ordinary = tokenizer.encodeOrdinary(chat)
        #expect(!ordinary.contains(1) && !ordinary.contains(2))
        #expect(tokenizer.decodeText(ordinary) == chat)
        // A half token is plain text.
        #expect(!tokenizer.encode("<|im_start").contains(1))

        // User-defined tokens (type 4) are matched whole too.
        var metadata = try SmolLM2.metadata()
        metadata.tokens.append("<think>")
        metadata.tokenTypes.append(4)
        let withThink = try metadata.tokenizer(pre: "smollm")
        let thinkIDs = withThink.encode("a<think>b")
        #expect(thinkIDs.contains(49152))
        #expect(withThink.decodeText(thinkIDs) == "a<think>b")
        #expect(!withThink.encodeOrdinary("a<think>b").contains(49152))
    }

    @Test func preTokenizerNames() throws {
        let metadata = try SmolLM2.metadata()
        let text = Array("x  123 it's\n\n  (y)".utf8)
        let gpt2 = BPETokenizer.pieces(of: text)
        for pre in ["gpt-2", "default", nil] as [String?] {
            #expect(try metadata.tokenizer(pre: pre).pieces(of: text) == gpt2)
        }
        #expect(try metadata.tokenizer(pre: "llama3").pieces(of: text)
            == metadata.tokenizer(pre: "llama-bpe").pieces(of: text))
    }

    /// Loaders without BOS/EOS settings: EOS is "<|endoftext|>", no BOS.
    @Test func otherLoadersDefaultToEndOfText() throws {
        let gpt2 = try Fixtures.gpt2()
        #expect(gpt2.eosTokenID == 50256)
        #expect(gpt2.bosTokenID == nil)
        #expect(gpt2.addsBOS == false)
    }

    // MARK: Bad metadata

    @Test func unknownModelAndPre() {
        expectError(["tokenizer.ggml.model", "\"llama\"", "gpt2"]) { try Tiny.make(model: "llama") }
        expectError(["tokenizer.ggml.pre", "\"deepseek-coder\"", "smollm"]) { try Tiny.make(pre: "deepseek-coder") }
    }

    @Test func malformedMerges() {
        expectError(["tokenizer.ggml.merges[1]", "\"ab\"", "two tokens"]) { try Tiny.make(merges: ["a b", "ab"]) }
        expectError(["tokenizer.ggml.merges[0]", "two tokens"]) { try Tiny.make(merges: ["a  b"]) }
        expectError(["tokenizer.ggml.merges[0]", "unknown token \"zz\""]) { try Tiny.make(merges: ["zz b"]) }
        expectError(["tokenizer.ggml.merges[0]", "\"ba\"", "not in the vocabulary"]) { try Tiny.make(merges: ["b a"]) }
    }

    @Test func inconsistentArraysAndIDs() {
        expectError(["tokenizer.ggml.token_type has 257 entries", "tokenizer.ggml.tokens has 258"]) {
            try Tiny.make(dropLastType: true)
        }
        expectError(["tokenizer.ggml.token_type[257] is 9"]) { try Tiny.make(lastType: 9) }
        expectError(["tokenizer.ggml.bos_token_id 258", "out of range"]) { try Tiny.make(bos: 258) }
        expectError(["tokenizer.ggml.eos_token_id -1", "out of range"]) { try Tiny.make(eos: -1) }
        expectError(["tokenizer.ggml.tokens is empty"]) {
            try BPETokenizer(ggufModel: "gpt2", tokens: [], tokenTypes: [], merges: [], pre: nil,
                             bosTokenID: nil, eosTokenID: nil, addBOS: nil, source: Tiny.source)
        }
    }

    @Test func tinyVocabularyWorks() throws {
        let tokenizer = try Tiny.make()
        #expect(tokenizer.encode("ab<|eot|>ab") == [256, 257, 256])
        #expect(tokenizer.eosTokenID == 257)
        #expect(tokenizer.decodeText([256, 257]) == "ab<|eot|>")
    }

    /// Llama 3 (llama.cpp and its tokenizer.json) takes a piece that is a
    /// token as that token, even where no merge builds it (`ignore_merges`).
    @Test func llama3IgnoresMerges() throws {
        let llama = try Tiny.make(pre: "llama-bpe", bos: nil, eos: nil, extra: ["abc"])
        let qwen2 = try Tiny.make(pre: "qwen2", bos: nil, eos: nil, extra: ["abc"])
        #expect(llama.encode("abc") == [257])
        #expect(qwen2.encode("abc") == [256, 0x63])
        #expect(llama.encode("abcd") == [256, 0x63, 0x64])
    }

    /// A byte without a token (allowed in GGUF vocabularies) encodes to
    /// nothing, and its neighbours do not merge across it (as in HF).
    @Test func missingByteTokens() throws {
        let tokenizer = try Tiny.make(dropByte: true)
        #expect(tokenizer.encode("A") == [])
        #expect(tokenizer.encode("aAb") == [0x61, 0x62])
        #expect(tokenizer.encode("ab") == [256])
        #expect(tokenizer.encode(bytes: [0x41, 0x41, 0x20, 0x41]) == [0x20])
    }

    /// The error is a TokenizerError naming the file and every fragment, on one line.
    private func expectError(
        _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> BPETokenizer
    ) {
        do {
            _ = try body()
            Issue.record("no error; expected one mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as TokenizerError {
            let text = error.description
            #expect(error.file == Tiny.source, sourceLocation: sourceLocation)
            #expect(!text.contains("\n"), "not one line: \(text)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(text.contains(fragment), "\(text) lacks \(fragment)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// A minimal GGUF-style vocabulary: the 256 byte tokens, "ab" (256), the control token "<|eot|>" (257).
private enum Tiny {
    static let source = "tiny.gguf"

    static func make(
        model: String = "gpt2", pre: String? = "smollm", merges: [String] = ["a b"], bos: Int? = 257, eos: Int? = 257,
        dropLastType: Bool = false, lastType: Int = 3, dropByte: Bool = false, extra: [String] = []
    ) throws -> BPETokenizer {
        var tokens = (0..<256).map { BPETokenizer.byteLevelSpelling([UInt8($0)]) }
        if dropByte { tokens[0x41] = "ĀĀ" }
        tokens += extra.isEmpty ? ["ab", "<|eot|>"] : ["ab"] + extra + ["<|eot|>"]
        var types = [Int](repeating: 1, count: tokens.count - 1) + [lastType]
        if dropLastType { types.removeLast() }
        return try BPETokenizer(
            ggufModel: model, tokens: tokens, tokenTypes: types, merges: merges, pre: pre,
            bosTokenID: bos, eosTokenID: eos, addBOS: false, source: source)
    }
}

/// SmolLM2's tokenizer metadata and the HF reference cases, loaded once.
enum SmolLM2 {
    struct Metadata: Decodable {
        var model: String
        var pre: String
        var tokens: [String]
        var tokenTypes: [Int]
        var merges: [String]
        var bosTokenID: Int
        var eosTokenID: Int
        var addBOSToken: Bool

        enum CodingKeys: String, CodingKey {
            case model, pre, tokens, merges
            case tokenTypes = "token_type"
            case bosTokenID = "bos_token_id"
            case eosTokenID = "eos_token_id"
            case addBOSToken = "add_bos_token"
        }

        func tokenizer(pre: String?) throws -> BPETokenizer { try tokenizer(pre: pre, addBOS: addBOSToken) }

        func tokenizer(pre: String?, addBOS: Bool?) throws -> BPETokenizer {
            try BPETokenizer(
                ggufModel: model, tokens: tokens, tokenTypes: tokenTypes, merges: merges, pre: pre,
                bosTokenID: bosTokenID, eosTokenID: eosTokenID, addBOS: addBOS, source: "smollm2_tokenizer.json")
        }
    }

    struct Case: Decodable {
        let kind: String
        let b64: String
        let smollm: [Int]
        let qwen2: [Int]
        let llama_bpe: [Int]

        var bytes: [UInt8] { Data(base64Encoded: b64).map { [UInt8]($0) } ?? [] }
        var text: String { String(decoding: bytes, as: UTF8.self) }

        func ids(_ pre: String) -> [Int] {
            switch pre {
            case "qwen2": qwen2
            case "llama-bpe": llama_bpe
            default: smollm
            }
        }
    }

    struct Pieces: Decodable {
        let smollm: [Int]
        let qwen2: [Int]
        let llama_bpe: [Int]

        func lengths(_ pre: String) -> [Int] {
            switch pre {
            case "qwen2": qwen2
            case "llama-bpe": llama_bpe
            default: smollm
            }
        }
    }

    private struct CaseFile<Item: Decodable>: Decodable { let cases: [Item] }

    static func metadata() throws -> Metadata { try metadataResult.get() }
    private static let metadataResult = Result<Metadata, any Error> {
        try JSONDecoder().decode(Metadata.self, from: Data(contentsOf: Fixtures.url("gguf/smollm2_tokenizer.json")))
    }

    static func cases() throws -> [Case] { try casesResult.get() }
    private static let casesResult = Result<[Case], any Error> {
        let url = try Fixtures.url("gguf/smollm2_cases.json")
        return try JSONDecoder().decode(CaseFile<Case>.self, from: Data(contentsOf: url)).cases
    }

    static func pieces() throws -> [Pieces] { try piecesResult.get() }
    private static let piecesResult = Result<[Pieces], any Error> {
        let url = try Fixtures.url("gguf/smollm2_pieces.json")
        return try JSONDecoder().decode(CaseFile<Pieces>.self, from: Data(contentsOf: url)).cases
    }

    /// One tokenizer per pre-tokenizer name, built once per test process.
    static func tokenizer(pre: String) throws -> BPETokenizer {
        switch pre {
        case "qwen2": try qwen2.get()
        case "llama-bpe": try llama.get()
        default: try smollm.get()
        }
    }
    private static let smollm = Result<BPETokenizer, any Error> { try metadata().tokenizer(pre: "smollm") }
    private static let qwen2 = Result<BPETokenizer, any Error> { try metadata().tokenizer(pre: "qwen2") }
    private static let llama = Result<BPETokenizer, any Error> { try metadata().tokenizer(pre: "llama-bpe") }
}
