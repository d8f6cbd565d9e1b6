import Foundation
import Testing
import Tokenizer

/// Issue #13: two vocabulary entries with one id loaded silently (decoding then depended on
/// dictionary order). Both formats refuse them, naming the file, the tokens and the id.
@Suite struct DuplicateIDTests {
    static let duplicated = TinyJSON.make(merges: "[]").replacingOccurrences(of: #""Ġab": 258"#, with: #""Ġab": 258, "xy": 257"#)

    @Test func tokenizerJSONWithDuplicateIDIsRefused() throws {
        let folder = try TemporaryFolder()
        let message = try MalformedInputTests.tokenizerJSON(folder, Self.duplicated)
        #expect(message.contains("tokenizer.json"), "\(message)")
        #expect(message.contains(#""ab" and "xy" both have id 257"#), "\(message)")
    }

    @Test func vocabJSONWithDuplicateIDIsRefused() throws {
        let folder = try TemporaryFolder()
        let vocab = try folder.write("vocab.json", "{" + (TinyJSON.vocabEntries() + [#""xy": 258"#]).joined(separator: ", ") + "}")
        let merges = try folder.write("merges.txt", "#version: 0.2\n")
        let message = MalformedInputTests.failure { try BPETokenizer(vocabJSON: vocab, merges: merges) }
        #expect(message.contains("vocab.json"), "\(message)")
        #expect(message.contains(#""xy" and "Ġab" both have id 258"#) || message.contains(#""Ġab" and "xy" both have id 258"#), "\(message)")
    }

    @Test func theUnduplicatedFileStillLoads() throws {
        let folder = try TemporaryFolder()
        let url = try folder.write("tokenizer.json", TinyJSON.make(merges: "[]"))
        _ = try BPETokenizer(tokenizerJSON: url)
    }

    /// Found by CI's fuzzing: an added token that reuses a vocabulary id ("a" is id 97) made
    /// "xyz" encode to 97 and decode to "a". HF lets the added token win silently; one id
    /// standing for two strings is refused instead.
    @Test func addedTokenReusingAVocabularyIDIsRefused() throws {
        let folder = try TemporaryFolder()
        let json = TinyJSON.make(merges: "[]").replacingOccurrences(
            of: #"[{"id": 256, "content": "<|endoftext|>", "special": true}]"#,
            with: #"[{"id": 256, "content": "<|endoftext|>", "special": true}, {"id": 97, "content": "xyz"}]"#)
        let message = try MalformedInputTests.tokenizerJSON(folder, json)
        #expect(message.contains("tokenizer.json"), "\(message)")
        #expect(message.contains(#"special token "xyz" has id 97, which already stands for "a""#), "\(message)")
    }

    /// Two added tokens with one id: which one decoding gave depended on dictionary order,
    /// so the round trip failed in some runs only.
    @Test func twoAddedTokensWithOneIDAreRefused() throws {
        let folder = try TemporaryFolder()
        let json = TinyJSON.make(merges: "[]").replacingOccurrences(
            of: #"[{"id": 256, "content": "<|endoftext|>", "special": true}]"#,
            with: #"[{"id": 256, "content": "<|endoftext|>", "special": true}, {"id": 256, "content": "<pad>"}]"#)
        let message = try MalformedInputTests.tokenizerJSON(folder, json)
        #expect(message.contains("tokenizer.json"), "\(message)")
        #expect(message.contains(#"special tokens "<pad>" and "<|endoftext|>" both have id 256"#), "\(message)")
    }
}
