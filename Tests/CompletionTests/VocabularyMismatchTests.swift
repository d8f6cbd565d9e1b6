import Completion
import Foundation
import TestSupport
import Testing

/// A tokenizer with more tokens than the model has embeddings is refused by a message that names
/// the tokenizer's file (the field at fault), not the model directory.
@Suite struct VocabularyMismatchTests {
    @Test func tokenizerLargerThanTheVocabularyNamesTokenizerJSON() throws {
        let dir = try TestFixtures.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model-dir")
        try FileManager.default.copyItem(at: EarlyExitFixtures.directory(), to: model)
        // One added token past config.json's vocab_size (384).
        let url = model.appendingPathComponent("tokenizer.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var added = json["added_tokens"] as! [[String: Any]]
        added.append(["id": 384, "content": "<|extra|>", "single_word": false, "lstrip": false, "rstrip": false,
                      "normalized": false, "special": true])
        json["added_tokens"] = added
        try JSONSerialization.data(withJSONObject: json).write(to: url)

        let error = #expect(throws: (any Error).self) { try LanguageModel.load(directory: model) }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.hasPrefix("tokenizer.json: "), "\(message)")
        #expect(message.contains("385 tokens") && message.contains("config.json vocab_size") && message.contains("384"), "\(message)")
        #expect(!message.contains("model-dir"), "\(message)")
        #expect(!message.contains("\n"))
    }
}
