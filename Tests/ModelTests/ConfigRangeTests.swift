import Foundation
import Model
import Testing

/// Regression tests for issue #13's config.json reproducers: every value is range-checked before
/// any size is derived from it, and a bad value is one line naming config.json and the field.
@Suite struct ConfigRangeTests {
    /// The tiny fixture's config.json with `field` replaced by the JSON literal `value`.
    func config(_ field: String, _ value: String) throws -> Data {
        let url = Fixtures.modelDirectory("tiny-f32").appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object[field] = nil
        var text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        text.removeLast() // "}"
        text += ",\"\(field)\":\(value)}"
        return Data(text.utf8)
    }

    /// Loads config.json holding `field: value` from a temporary directory; the error's one line.
    func loadError(_ field: String, _ value: String) throws -> String? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try config(field, value).write(to: url)
        do {
            _ = try GPT2Config.load(from: url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func expectRefused(_ field: String, _ value: String, mentioning word: String? = nil) throws {
        let message = try loadError(field, value)
        guard let message else { Issue.record("\(field) = \(value) was accepted"); return }
        #expect(message.hasPrefix("config.json: "), "\(message)")
        #expect(message.contains(word ?? field), "\(message)")
        #expect(!message.contains("\n"))
    }

    /// Was SIGILL: `n_inner` null defaulted to `4 * n_embd`, which overflowed before the range check.
    @Test(arguments: ["2305843009213693952", "4611686018427387904", "9223372036854775807",
                      "-4611686018427387904", "-9223372036854775808"])
    func hugeEmbeddingWithDefaultInnerSizeIsRefused(_ value: String) throws {
        try expectRefused("n_embd", value)
    }

    @Test func fixtureConfigStillLoads() throws {
        #expect(try loadError("n_embd", "64") == nil)
        #expect(try loadError("layer_norm_epsilon", "1e-12") == nil)
        #expect(try loadError("eos_token_id", "383") == nil)
    }

    @Test(arguments: ["1e12", "null", "0", "-1e-5", "0.5"])
    func layerNormEpsilonOutOfRange(_ value: String) throws {
        try expectRefused("layer_norm_epsilon", value)
    }

    @Test(arguments: ["bos_token_id", "eos_token_id"], ["-100", "9223372036854775807", "384"])
    func tokenIDsOutsideTheVocabulary(_ field: String, _ value: String) throws {
        try expectRefused(field, value)
    }

    @Test func directInitialiserWithHugeWidthDoesNotTrap() {
        let config = GPT2Config(layerCount: 1, headCount: 1, embeddingSize: Int.max / 2, contextLength: 8, vocabularySize: 8)
        #expect(throws: ModelError.self) { try config.validate() }
    }
}
