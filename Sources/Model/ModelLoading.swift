import Foundation
import Kernels

/// Loads the network in a Hugging Face model directory, choosing the architecture from
/// `config.json`'s `model_type` (`gpt2`, or absent, for GPT-2; `llama`; `qwen2`).
public func loadNetwork(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> any Transformer {
    let configURL = directory.appendingPathComponent("config.json")
    switch try modelType(ofConfig: configURL) {
    case nil, "gpt2":
        return try GPT2.load(directory: directory, threads: threads, precision: precision)
    case "llama", "qwen2":
        return try Llama.load(directory: directory, threads: threads, precision: precision)
    case let other?:
        throw ModelError.file("config.json", "model_type '\(other)' is not supported (gpt2, llama, qwen2)")
    }
}
