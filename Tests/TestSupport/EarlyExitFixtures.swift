import EarlyExit
import Foundation
import Model
import SafeTensors

/// The early-exit fixture models and PyTorch references from `training/early_exit_fixtures.py`
/// (two tiny random 6-layer GPT-2s with exit heads and a controller; `ee-codegen`, a CodeGen with heads
/// at layers 1, 4 and 7, from `training/codegen_fixtures.py`), shared by the EarlyExit,
/// Completion, Evaluation and Playground tests.
public enum EarlyExitFixtures {
    /// `ee-shared` (shared heads) and `ee-separate` (a Linear head per layer).
    public static let names = ["ee-shared", "ee-separate"]

    /// The model directory, loadable by `LanguageModel.load` and `exitlens --model`.
    public static func directory(_ name: String = "ee-shared") -> URL {
        TestFixtures.resources.appendingPathComponent(name)
    }

    public struct Prompt: Decodable, Sendable { public let text: String; public let ids: [Int] }
    public struct Expected: Decodable, Sendable { public let prompts: [Prompt]; public let pairs: [[Float]]; public let layers: Int }

    public static func expected(_ name: String) throws -> (Expected, SafeTensorsFile) {
        let meta = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: TestFixtures.resources.appendingPathComponent("expected-\(name).json")))
        return (meta, try SafeTensorsFile(path: TestFixtures.resources.appendingPathComponent("expected-\(name).safetensors").path))
    }

    public static func model(_ name: String, threads: Int = 1) throws -> EarlyExitModel {
        let dir = directory(name)
        return try EarlyExitModel(network: loadNetwork(directory: dir, threads: threads), directory: dir)
    }

    /// Full-depth greedy continuation through the plain decode path: the reference.
    public static func fullGreedy(_ network: any Transformer, prompt: [Int], count: Int) throws -> [Int] {
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
    public static func policyGreedy(_ model: EarlyExitModel, policy: any ExitPolicy, prompt: [Int], count: Int) throws -> (ids: [Int], traces: [TokenTrace]) {
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
