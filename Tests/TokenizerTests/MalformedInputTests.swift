import Foundation
import Testing
import Tokenizer

/// Broken files must throw a `TokenizerError` naming the file, never crash.
@Suite struct MalformedInputTests {
    /// Runs `load` and returns the error's description, recording an issue if it did not throw.
    static func failure(
        sourceLocation: SourceLocation = #_sourceLocation, _ load: () throws -> BPETokenizer
    ) -> String {
        do {
            _ = try load()
            Issue.record("expected a TokenizerError", sourceLocation: sourceLocation)
            return ""
        } catch let error as TokenizerError {
            return error.description
        } catch {
            Issue.record("expected a TokenizerError, got \(error)", sourceLocation: sourceLocation)
            return ""
        }
    }

    static func tokenizerJSON(_ folder: TemporaryFolder, _ text: String) throws -> String {
        let url = try folder.write("tokenizer.json", text)
        return failure { try BPETokenizer(tokenizerJSON: url) }
    }

    @Test func malformedTokenizerJSON() throws {
        let folder = try TemporaryFolder()
        let cases: [(json: String, expected: String)] = [
            ("{ not json", "malformed JSON"),
            ("[1, 2]", "not a JSON object"),
            (#"{"version": "1.0"}"#, "missing \"model\""),
            (#"{"model": {"type": "BPE", "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}"#, "missing model.vocab"),
            (TinyJSON.make(merges: "[]", modelType: "WordPiece"), "unsupported model type WordPiece"),
            (TinyJSON.make(merges: #"["a zzz"]"#), "unknown token \"zzz\""),
            (TinyJSON.make(merges: #"[["a", "q"]]"#), "not in the vocabulary"),
            (TinyJSON.make(merges: #"["a b c"]"#), "two tokens separated by one space"),
            (TinyJSON.make(merges: "[42]"), "neither"),
            (TinyJSON.make(merges: #""a b""#), "model.merges is not an array"),
        ]
        for (json, expected) in cases {
            let message = try Self.tokenizerJSON(folder, json)
            #expect(message.contains(expected), "\(message)")
            #expect(message.contains("tokenizer.json"), "\(message)")
        }
    }

    @Test func truncatedTokenizerJSON() throws {
        let data = try Data(contentsOf: Fixtures.url("hf_tiny/tokenizer.json"))
        let folder = try TemporaryFolder()
        for fraction in [0.1, 0.5, 0.99] {
            let url = try folder.write("tokenizer.json", data.prefix(Int(Double(data.count) * fraction)))
            #expect(Self.failure { try BPETokenizer(tokenizerJSON: url) }.contains("malformed JSON"))
        }
    }

    @Test func unsupportedPipelinePieces() throws {
        let folder = try TemporaryFolder()
        let base = TinyJSON.make(merges: "[]")
        let noByteLevel = base.replacingOccurrences(
            of: #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
            with: #"{"type": "Whitespace"}"#)
        #expect(try Self.tokenizerJSON(folder, noByteLevel).contains("unsupported pre_tokenizer Whitespace"))
        let normalized = base.replacingOccurrences(of: #""normalizer": null"#, with: #""normalizer": {"type": "NFC"}"#)
        #expect(try Self.tokenizerJSON(folder, normalized).contains("unsupported normalizer NFC"))
        // Dropping a byte token breaks round-tripping, so it is refused.
        let missingByte = base.replacingOccurrences(of: #""a": 97, "#, with: "")
        #expect(try Self.tokenizerJSON(folder, missingByte).contains("no token for byte 0x61"))
        let llama3Split = base.replacingOccurrences(
            of: #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
            with: #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "#
                + #""behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "use_regex": false}]}"#)
        #expect(try Self.tokenizerJSON(folder, llama3Split).contains("unsupported Split pre_tokenizer"))
        // The well-formed base loads.
        #expect(try BPETokenizer(tokenizerJSON: folder.write("ok.json", base)).vocabularySize == 259)
    }

    @Test func malformedVocabAndMerges() throws {
        let folder = try TemporaryFolder()
        let vocab = try folder.write("vocab.json", "{" + TinyJSON.vocabEntries().joined(separator: ", ") + "}")
        let merges = try folder.write("merges.txt", "#version: 0.2\na b\nĠ zzz\n")
        let message = Self.failure { try BPETokenizer(vocabJSON: vocab, merges: merges) }
        #expect(message.contains("merges.txt:3:") && message.contains("unknown token \"zzz\""), "\(message)")

        try folder.write("merges.txt", "a b\nabc\n")
        #expect(Self.failure { try BPETokenizer(vocabJSON: vocab, merges: merges) }.contains("merges.txt:2:"))

        try folder.write("vocab.json", #"{"a": "one"}"#)
        #expect(Self.failure { try BPETokenizer(vocabJSON: vocab, merges: merges) }.contains("vocab.json"))

        try folder.write("vocab.json", #"{"a": 1"#)
        #expect(Self.failure { try BPETokenizer(vocabJSON: vocab, merges: merges) }.contains("malformed JSON"))
    }

    @Test func malformedTiktoken() throws {
        let real = try String(contentsOf: Fixtures.url("gpt2.tiktoken"), encoding: .utf8)
        var lines = real.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let folder = try TemporaryFolder()
        let special = ["<|endoftext|>": 50256]

        func load(_ lines: [String]) throws -> String {
            let url = try folder.write("gpt2.tiktoken", lines.joined(separator: "\n"))
            return Self.failure { try BPETokenizer(tiktokenRanks: url, specialTokens: special) }
        }

        let original = lines[4]
        lines[4] = "Z@@@ 4"
        #expect(try load(lines).contains("gpt2.tiktoken:5: invalid base64"))
        lines[4] = "IQ=== 4"  // too much padding
        #expect(try load(lines).contains(":5: invalid base64"))
        lines[4] = "IQ== four"
        #expect(try load(lines).contains(":5: rank is not a non-negative integer"))
        lines[4] = "IQ=="
        #expect(try load(lines).contains(":5: expected"))
        lines[4] = original
        lines[5] = lines[6]
        #expect(try load(lines).contains(":7: token listed twice"))

        // Special tokens may not take an id that is already a rank.
        let url = try folder.write("gpt2.tiktoken", real)
        let clash = Self.failure { try BPETokenizer(tiktokenRanks: url, specialTokens: ["<|endoftext|>": 100]) }
        #expect(clash.contains("already the rank"))

        // A truncated file lacks byte tokens.
        let firstLines = real.split(separator: "\n").prefix(100)
        let truncated = try folder.write("short.tiktoken", firstLines.joined(separator: "\n"))
        #expect(Self.failure { try BPETokenizer(tiktokenRanks: truncated, specialTokens: special) }
            .contains("no token for byte"))
        let empty = try folder.write("empty.tiktoken", "")
        #expect(Self.failure { try BPETokenizer(tiktokenRanks: empty, specialTokens: special) }.contains("no ranks"))
    }

    @Test func missingFilesAndFolders() throws {
        let folder = try TemporaryFolder()
        let missing = folder.url("nope.json")
        #expect(Self.failure { try BPETokenizer(tokenizerJSON: missing) }.contains("nope.json: cannot read file"))
        #expect(Self.failure { try BPETokenizer.load(directory: folder.folder) }.contains("no tokenizer.json"))
    }
}
