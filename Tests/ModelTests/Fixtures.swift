import Foundation
import Model
import SafeTensors

/// Loads the fixture models and PyTorch references written by `training/fixtures.py`.
enum Fixtures {
    static var resources: URL {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            fatalError("test resources are missing")
        }
        return url
    }

    static let names = ["tiny-f32", "tiny-f16", "tiny-llama", "tiny-llama-tied", "tiny-qwen2", "tiny-codegen", "tiny-codegen-f16"]

    static func modelDirectory(_ name: String) -> URL { resources.appendingPathComponent(name) }

    struct Prompt: Decodable {
        let text: String
        let ids: [Int]
        let greedy: [Int]
    }

    struct Expected: Decodable {
        let prompts: [Prompt]
        let layers: Int
    }

    static func expected(_ name: String) throws -> (Expected, SafeTensorsFile) {
        let meta = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: resources.appendingPathComponent("expected-\(name).json")))
        let tensors = try SafeTensorsFile(path: resources.appendingPathComponent("expected-\(name).safetensors").path)
        return (meta, tensors)
    }

    static func model(_ name: String, threads: Int = 1) throws -> any Transformer {
        try loadNetwork(directory: modelDirectory(name), threads: threads)
    }

    static func gpt2(_ name: String, threads: Int = 1) throws -> GPT2 {
        try GPT2.load(directory: modelDirectory(name), threads: threads)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}
