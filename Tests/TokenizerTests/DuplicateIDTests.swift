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
}
