import Foundation
import Testing
import Tokenizer

/// Loaders for Hugging Face's formats against HF `tokenizers` itself.
@Suite struct HFParityTests {
    @Test func tokenizerJSONMatchesHF() throws {
        let tokenizer = try Fixtures.hfTiny()
        #expect(tokenizer.vocabularySize == 1000)
        #expect(tokenizer.endOfTextID == 0)
        let cases = try Fixtures.cases("hf_tiny_cases.json")
        #expect(cases.count >= 200)
        expectParity(cases, name: "tokenizer.json vs HF tokenizers") { tokenizer.encode($0.text) }
    }

    @Test func vocabAndMergesMatchHF() throws {
        let tokenizer = try BPETokenizer(
            vocabJSON: Fixtures.url("hf_tiny/vocab.json"), merges: Fixtures.url("hf_tiny/merges.txt"))
        #expect(tokenizer.endOfTextID == 0)
        let cases = try Fixtures.cases("hf_tiny_cases.json")
        expectParity(cases, name: "vocab.json+merges.txt vs HF tokenizers") { tokenizer.encode($0.text) }
    }

    @Test func loadDirectoryPrefersTokenizerJSON() throws {
        let folder = try Fixtures.url("hf_tiny")
        let tokenizer = try BPETokenizer.load(directory: folder)
        let text = "def load_config(path):\n    return 42 <|endoftext|>"
        #expect(tokenizer.encode(text) == (try Fixtures.hfTiny()).encode(text))

        // Without tokenizer.json it falls back to vocab.json + merges.txt.
        let copy = try TemporaryFolder()
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: copy.url(name))
        }
        #expect(try BPETokenizer.load(directory: copy.folder).encode(text) == tokenizer.encode(text))
    }

    /// Converters from tiktoken write `Sequence[Split(GPT-2 regex), ByteLevel(use_regex: false)]`.
    @Test func splitThenByteLevelEqualsByteLevel() throws {
        let folder = try TemporaryFolder()
        let base = TinyJSON.make(merges: #"["a b", "Ġ ab"]"#)
        let pattern = TinyJSON.jsonString(#"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#)
        let split = base.replacingOccurrences(
            of: #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
            with: #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "#
                + pattern + #"}, "behavior": "Isolated", "invert": false}, "#
                + #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}"#)
        #expect(split != base)
        let plain = try BPETokenizer(tokenizerJSON: folder.write("plain.json", base))
        let sequence = try BPETokenizer(tokenizerJSON: folder.write("split.json", split))
        let text = "ab abab  ab's\n\tab<|endoftext|>"
        #expect(sequence.encode(text) == plain.encode(text))
        #expect(plain.encode(" ab") == [258])
    }

    /// Older tokenizer.json files write merges as "a b" strings.
    @Test func stringMergesAndPrefixSpace() throws {
        let folder = try TemporaryFolder()
        let json = try folder.write("tokenizer.json", TinyJSON.make(merges: #"["a b", "Ġ ab"]"#, addPrefixSpace: true))
        let tokenizer = try BPETokenizer(tokenizerJSON: json)
        let a = try #require(tokenizer.id(forToken: "a"))
        let spaceAB = try #require(tokenizer.id(forToken: "Ġab"))
        // add_prefix_space puts a space before each segment that lacks one.
        #expect(tokenizer.encode("ab") == [spaceAB])
        #expect(tokenizer.encode("ab<|endoftext|>ab") == [spaceAB, 256, spaceAB])
        #expect(tokenizer.encode(" a") == [tokenizer.id(forToken: "Ġ"), a].compactMap { $0 })
        #expect(tokenizer.decodeText(tokenizer.encode("ab")) == " ab")
    }
}

/// A minimal byte-level tokenizer.json: all 256 byte tokens (ids 0–255), the
/// special token 256, then "ab" (257) and "Ġab" (258).
enum TinyJSON {
    static func vocabEntries() -> [String] {
        var entries: [String] = []
        for byte in 0..<256 {
            let spelling = BPETokenizer.byteLevelSpelling([UInt8(byte)])
            entries.append("\(jsonString(spelling)): \(byte)")
        }
        entries.append(#""<|endoftext|>": 256, "ab": 257, "Ġab": 258"#)
        return entries
    }

    static func make(merges: String, addPrefixSpace: Bool = false, modelType: String = "BPE") -> String {
        """
        {"version": "1.0", "normalizer": null,
         "added_tokens": [{"id": 256, "content": "<|endoftext|>", "special": true}],
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": \(addPrefixSpace), "use_regex": true},
         "decoder": {"type": "ByteLevel"},
         "model": {"type": "\(modelType)", "vocab": {\(vocabEntries().joined(separator: ", "))},
                   "merges": \(merges)}}
        """
    }

    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [])) ?? Data()
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// A scratch folder removed when the value goes away.
final class TemporaryFolder {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("TokenizerTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> URL {
        let url = url(name)
        try data.write(to: url)
        return url
    }
}
