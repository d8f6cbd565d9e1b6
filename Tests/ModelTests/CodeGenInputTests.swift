import Foundation
import Model
import SafeTensors
import Testing

/// Bad CodeGen directories: one line naming the file and the field or tensor, never a crash.
@Suite struct CodeGenInputTests {
    /// A copy of `tiny-codegen` with config.json fields replaced (nil removes one) and tensors dropped.
    func loadError(config edits: [String: Any?] = [:], dropping tensor: String? = nil) throws -> String? {
        let source = Fixtures.modelDirectory("tiny-codegen")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-codegen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        for (key, value) in edits { object[key] = value }
        try JSONSerialization.data(withJSONObject: object).write(to: dir.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(path: source.appendingPathComponent("model.safetensors").path)
        let tensors = try file.names.filter { $0 != tensor }.map {
            SafeTensorsWriter.Tensor(name: $0, shape: try #require(file.entry($0)).shape, values: try file.floats($0))
        }
        try Data(try SafeTensorsWriter.encode(tensors)).write(to: dir.appendingPathComponent("model.safetensors"))
        do {
            _ = try loadNetwork(directory: dir)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func expectRefused(_ message: String?, file: String, mentioning word: String) {
        guard let message else { Issue.record("accepted; expected an error about \(word)"); return }
        #expect(message.hasPrefix("\(file)") && message.contains(word) && !message.contains("\n"), "\(message)")
    }

    @Test func unchangedCopyLoads() throws {
        #expect(try loadError() == nil)
    }

    @Test func badConfigValuesAreOneLine() throws {
        expectRefused(try loadError(config: ["rotary_dim": nil]), file: "config.json", mentioning: "rotary_dim")
        expectRefused(try loadError(config: ["rotary_dim": 7]), file: "config.json", mentioning: "rotary_dim")
        expectRefused(try loadError(config: ["rotary_dim": 10]), file: "config.json", mentioning: "rotary_dim") // head size 8
        // 5 heads of 6: divisible by the heads, not by the 4 qkv shards.
        expectRefused(try loadError(config: ["n_embd": 30]), file: "config.json", mentioning: "mp_num")
        expectRefused(try loadError(config: ["n_head": 3]), file: "config.json", mentioning: "n_head")
        expectRefused(try loadError(config: ["activation_function": "relu"]), file: "config.json", mentioning: "activation_function")
        expectRefused(try loadError(config: ["vocab_size": 1 << 40]), file: "config.json", mentioning: "vocab_size")
        expectRefused(try loadError(config: ["eos_token_id": 400]), file: "config.json", mentioning: "eos_token_id")
    }

    @Test func missingTensorsAreNamed() throws {
        for tensor in ["lm_head.bias", "transformer.h.2.attn.qkv_proj.weight", "transformer.h.0.mlp.fc_out.bias", "lm_head.weight"] {
            expectRefused(try loadError(dropping: tensor), file: "model.safetensors", mentioning: tensor)
        }
    }

    /// A larger model vocabulary than the config's embedding: the shape check names the tensor.
    @Test func vocabularyMismatchIsNamed() throws {
        expectRefused(try loadError(config: ["vocab_size": 401]), file: "model.safetensors", mentioning: "transformer.wte.weight")
    }
}
