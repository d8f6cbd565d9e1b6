import EarlyExit
import Foundation
import Model
import SafeTensors

/// The early-exit fixture models and PyTorch references from `training/early_exit_fixtures.py`.
enum Fixtures {
    static var resources: URL {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else { fatalError("test resources are missing") }
        return url
    }

    static let names = ["ee-shared", "ee-separate"]

    struct Prompt: Decodable { let text: String; let ids: [Int] }
    struct Expected: Decodable { let prompts: [Prompt]; let pairs: [[Float]]; let layers: Int }

    static func expected(_ name: String) throws -> (Expected, SafeTensorsFile) {
        let meta = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: resources.appendingPathComponent("expected-\(name).json")))
        return (meta, try SafeTensorsFile(path: resources.appendingPathComponent("expected-\(name).safetensors").path))
    }

    static func model(_ name: String, threads: Int = 1) throws -> EarlyExitModel {
        let dir = resources.appendingPathComponent(name)
        return try EarlyExitModel(network: GPT2.load(directory: dir, threads: threads), directory: dir)
    }

    /// Full-depth greedy continuation through the plain decode path: the reference.
    static func fullGreedy(_ network: any Transformer, prompt: [Int], count: Int) throws -> [Int] {
        let cache = network.makeCache()
        let ws = network.makeWorkspace()
        var logits = try network.prefill(prompt, cache: cache).logits
        var out: [Int] = []
        while out.count < count && cache.length < cache.capacity {
            let next = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
            out.append(next)
            if out.count == count { break }
            logits = Array(try network.decode(next, cache: cache, workspace: ws))
        }
        return out
    }

    /// Greedy continuation through the early-exit decoder with `policy`.
    static func policyGreedy(_ model: EarlyExitModel, policy: any ExitPolicy, prompt: [Int], count: Int) throws -> (ids: [Int], traces: [TokenTrace]) {
        let decoder = EarlyExitDecoder(model: model, policy: policy)
        let cache = model.network.makeCache()
        let first = try model.network.prefill(prompt, cache: cache).logits
        var next = first.withUnsafeBufferPointer { Sampler.argmax($0) }
        var ids = [next]
        var traces: [TokenTrace] = []
        while ids.count < count && cache.length < cache.capacity {
            switch try decoder.step(next, cache: cache) {
            case .logits(let logits, let trace):
                next = Sampler.argmax(logits)
                ids.append(next)
                traces.append(trace)
            case .stopped(let trace):
                traces.append(trace)
                return (ids, traces)
            }
        }
        return (ids, traces)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
