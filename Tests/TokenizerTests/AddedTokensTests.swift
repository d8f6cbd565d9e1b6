import Foundation
import Testing
import Tokenizer

/// CodeGen's tokenizer is vocab.json + merges.txt plus an added_tokens.json of space and tab runs
/// (ids past the BPE vocabulary). The ids must be transformers' CodeGenTokenizer's
/// (`hf_tiny_added_tokens.json`, from training/codegen_fixtures.py), and the runs must decode.
@Suite struct AddedTokensTests {
    struct Reference: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int] }
        let added_tokens: [String: Int]
        let cases: [Case]
    }

    /// hf_tiny's vocab.json and merges.txt with the reference's added_tokens.json, in a temporary directory.
    func directory(_ reference: Reference) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let source = try Fixtures.url("hf_tiny")
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.url(name))
        }
        _ = try folder.write("added_tokens.json", try JSONEncoder().encode(reference.added_tokens))
        return folder
    }

    @Test func addedTokensJSONMatchesTransformers() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("hf_tiny_added_tokens.json")))
        let folder = try directory(reference)
        let tokenizer = try BPETokenizer.load(directory: folder.folder)
        #expect(tokenizer.vocabularySize == 1004)
        for c in reference.cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.decodeText(c.ids) == c.text)
        }
    }

    @Test func badAddedTokensAreOneLine() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("hf_tiny_added_tokens.json")))
        let folder = try directory(reference)
        _ = try folder.write("added_tokens.json", #"{"    ": "x"}"#)
        let message = MalformedInputTests.failure { try BPETokenizer.load(directory: folder.folder) }
        #expect(message.contains("added_tokens.json") && !message.contains("\n"), "\(message)")
    }
}
