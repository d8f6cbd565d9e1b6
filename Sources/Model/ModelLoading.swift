import Foundation
import GGUF
import Kernels

/// Loads the network in a Hugging Face model directory, choosing the architecture from
/// `config.json`'s `model_type` (`gpt2`, or absent, for GPT-2; `llama`; `qwen2`; `codegen`).
public func loadNetwork(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> any Transformer {
    let configURL = directory.appendingPathComponent("config.json")
    switch try modelType(ofConfig: configURL) {
    case nil, "gpt2":
        return try GPT2.load(directory: directory, threads: threads, precision: precision)
    case "llama", "qwen2":
        return try Llama.load(directory: directory, threads: threads, precision: precision)
    case "codegen":
        return try CodeGen.load(directory: directory, threads: threads, precision: precision)
    case let other?:
        throw ModelError.file("config.json", "model_type '\(other)' is not supported (gpt2, llama, qwen2, codegen)")
    }
}

/// Loads only the network behind `--model`: a Hugging Face directory, a `.gguf` file, or a directory
/// holding one `.gguf` (see `LanguageModel.load` for the full rule).
public func loadNetwork(at url: URL, threads: Int = 1, precision: WeightPrecision? = nil, contextLimit: Int? = nil) throws -> any Transformer {
    if url.pathExtension == "gguf" {
        return try loadNetwork(gguf: GGUFFile(path: url.path), threads: threads, contextLimit: contextLimit)
    }
    let hasSafetensors = FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path)
    let ggufFiles = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasSuffix(".gguf") }
    if !hasSafetensors, ggufFiles.count == 1 {
        return try loadNetwork(gguf: GGUFFile(path: url.appendingPathComponent(ggufFiles[0]).path), threads: threads,
                              contextLimit: contextLimit)
    }
    return try loadNetwork(directory: url, threads: threads, precision: precision)
}
