import Foundation
import Model
import SafeTensors
import Testing

/// Broken model directories must fail to load with one clear line naming the file and tensor.
@Suite struct MalformedModelTests {
    /// Copies the F32 fixture model into a temporary directory, replacing `model.safetensors` by `bytes`.
    func directory(with bytes: [UInt8], config: String? = nil) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exitlens-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = Fixtures.modelDirectory("tiny-f32")
        if let config {
            try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        } else {
            try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        }
        try Data(bytes).write(to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    func validTensors() throws -> [SafeTensorsWriter.Tensor] {
        let file = try SafeTensorsFile(path: Fixtures.modelDirectory("tiny-f32").appendingPathComponent("model.safetensors").path)
        return try file.names.map { name in
            SafeTensorsWriter.Tensor(name: name, shape: file.entry(name)!.shape, values: try file.floats(name))
        }
    }

    func validBytes() throws -> [UInt8] { try SafeTensorsWriter.encode(try validTensors()) }

    /// Loads and returns the error's one-line description.
    func loadError(_ dir: URL) -> String? {
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try GPT2.load(directory: dir)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func expectOneLine(_ message: String?, mentions words: [String]) {
        guard let message else { Issue.record("loading succeeded but should have failed"); return }
        #expect(!message.contains("\n"), "not one line: \(message)")
        for word in words { #expect(message.contains(word), "\(message.debugDescription) should mention \(word)") }
    }

    /// Rewrites the header JSON of a valid file (keeping the data section) via `edit`.
    func withHeader(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        var header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        edit(&header)
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = (0..<8).map { UInt8((json.count >> (8 * $0)) & 0xff) }
        out += json
        out += bytes[(8 + n)...]
        return out
    }

    @Test func validCopyLoads() throws {
        #expect(loadError(try directory(with: try validBytes())) == nil)
    }

    @Test func truncatedFile() throws {
        let bytes = try validBytes()
        expectOneLine(loadError(try directory(with: Array(bytes.dropLast(100)))), mentions: ["model.safetensors"])
    }

    @Test func headerLengthPastEndOfFile() throws {
        var bytes = try validBytes()
        for i in 0..<8 { bytes[i] = i == 3 ? 0x7f : 0 }
        expectOneLine(loadError(try directory(with: bytes)), mentions: ["model.safetensors", "header"])
    }

    @Test func overlappingOffsets() throws {
        let bytes = try withHeader(try validBytes()) { header in
            var a = header["transformer.h.0.ln_1.bias"] as! [String: Any]
            let b = header["transformer.h.0.ln_1.weight"] as! [String: Any]
            a["data_offsets"] = b["data_offsets"]
            header["transformer.h.0.ln_1.bias"] = a
        }
        expectOneLine(loadError(try directory(with: bytes)), mentions: ["model.safetensors", "overlap"])
    }

    @Test func wrongDtype() throws {
        let bytes = try withHeader(try validBytes()) { header in
            var entry = header["transformer.h.1.attn.c_attn.bias"] as! [String: Any]
            entry["dtype"] = "I32" // same width, so only the dtype check can catch it
            header["transformer.h.1.attn.c_attn.bias"] = entry
        }
        expectOneLine(loadError(try directory(with: bytes)), mentions: ["model.safetensors", "transformer.h.1.attn.c_attn.bias", "I32"])
    }

    @Test func missingTensor() throws {
        let tensors = try validTensors().filter { $0.name != "transformer.h.2.mlp.c_fc.weight" }
        expectOneLine(loadError(try directory(with: try SafeTensorsWriter.encode(tensors))),
                      mentions: ["model.safetensors", "transformer.h.2.mlp.c_fc.weight", "missing"])
    }

    /// config.json asks for more blocks than model.safetensors holds: the error names the file, the
    /// first missing tensor and both counts (either file may be the wrong one).
    @Test func moreLayersInConfigThanInTheFile() throws {
        let source = Fixtures.modelDirectory("tiny-f32").appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
        let layers = config["n_layer"] as! Int
        config["n_layer"] = layers + 2
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        expectOneLine(loadError(try directory(with: try validBytes(), config: json)),
                      mentions: ["model.safetensors", "tensor 'transformer.h.\(layers).", "missing",
                                 "n_layer = \(layers + 2)", "has \(layers) blocks"])
    }

    @Test func shapeMismatch() throws {
        let tensors = try validTensors().map { t in
            // Same element count, different shape: only a shape check can catch it.
            t.name == "transformer.h.0.attn.c_proj.weight"
                ? SafeTensorsWriter.Tensor(name: t.name, shape: [32, 128], values: t.values) : t
        }
        expectOneLine(loadError(try directory(with: try SafeTensorsWriter.encode(tensors))),
                      mentions: ["model.safetensors", "transformer.h.0.attn.c_proj.weight", "[64, 64]"])
    }

    @Test func badConfig() throws {
        let bytes = try validBytes()
        expectOneLine(loadError(try directory(with: bytes, config: "{\"n_layer\": 4}")), mentions: ["config.json", "n_head"])
        expectOneLine(loadError(try directory(with: bytes, config: "not json")), mentions: ["config.json"])
        let odd = #"{"n_layer": 4, "n_head": 5, "n_embd": 64, "n_positions": 128, "vocab_size": 384}"#
        expectOneLine(loadError(try directory(with: bytes, config: odd)), mentions: ["config.json", "divisible"])
    }
}
