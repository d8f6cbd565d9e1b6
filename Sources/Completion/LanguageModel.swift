import EarlyExit
import Foundation
import GGUF
import Kernels
import Model
import Tokenizer

/// A model directory loaded for completion: the network, its tokenizer, and the exit heads
/// and Stop&Exit Controller when the directory has them.
///
/// The directory uses Hugging Face's layout: `config.json`, `model.safetensors`,
/// `tokenizer.json` (or `vocab.json` + `merges.txt`), plus optional `exits.safetensors`,
/// `controller.safetensors` and `skip-draft.json`.
public struct LanguageModel: Sendable {
    public let directory: URL
    public let earlyExit: EarlyExitModel
    public let tokenizer: BPETokenizer

    public var network: any Transformer { earlyExit.network }
    /// Short display name (the directory's name, or the .gguf file's without its extension).
    public var name: String { directory.pathExtension == "gguf" ? directory.deletingPathExtension().lastPathComponent : directory.lastPathComponent }

    public init(earlyExit: EarlyExitModel, tokenizer: BPETokenizer, directory: URL) {
        self.earlyExit = earlyExit
        self.tokenizer = tokenizer
        self.directory = directory
    }

    /// The same model with the untrained logit lens as its exit heads (the controller is kept).
    public func withLogitLens() -> LanguageModel {
        LanguageModel(earlyExit: EarlyExitModel(network: network, heads: .logitLens(shape: network.shape),
                                                controller: earlyExit.controller, skipDraftLayers: earlyExit.skipDraftLayers),
                      tokenizer: tokenizer, directory: directory)
    }

    /// Positions a GGUF model's KV cache holds unless asked otherwise: its own context (8,192 for
    /// SmolLM2) would cost 377 MB of keys and values, far beyond what an editor completion needs.
    public static let defaultGGUFContext = 2048

    /// Loads and cross-checks a model: a Hugging Face directory (`config.json` + `model.safetensors`),
    /// a `.gguf` file, or a directory holding exactly one `.gguf` file and no `model.safetensors`.
    ///
    /// Exit heads and the controller sit beside the weights: `exits.safetensors` and
    /// `controller.safetensors` in the model's directory, or `NAME.exits.safetensors` and
    /// `NAME.controller.safetensors` next to a `NAME.gguf` named directly.
    public static func load(directory url: URL, threads: Int = 1, precision: WeightPrecision? = nil,
                            contextLimit: Int? = nil) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelError.file(url.path, "is not a model directory or .gguf file (nothing is there)")
        }
        if !isDirectory.boolValue {
            guard url.pathExtension == "gguf" else { throw ModelError.file(url.path, "is neither a model directory nor a .gguf file") }
            let stem = url.deletingPathExtension().lastPathComponent
            let beside = url.deletingLastPathComponent()
            return try loadGGUF(url, threads: threads, contextLimit: contextLimit, location: url,
                                exits: beside.appendingPathComponent("\(stem).exits.safetensors"),
                                controller: beside.appendingPathComponent("\(stem).controller.safetensors"),
                                skipDraft: beside.appendingPathComponent("\(stem).\(SkipDraftFile.name)"))
        }
        let hasSafetensors = FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path)
        let ggufFiles = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasSuffix(".gguf") }
        if !hasSafetensors, !ggufFiles.isEmpty {
            guard ggufFiles.count == 1 else {
                throw ModelError.file(url.lastPathComponent, "holds \(ggufFiles.count) .gguf files; name one with --model DIR/FILE.gguf")
            }
            return try loadGGUF(url.appendingPathComponent(ggufFiles[0]), threads: threads, contextLimit: contextLimit, location: url,
                                exits: url.appendingPathComponent("exits.safetensors"),
                                controller: url.appendingPathComponent("controller.safetensors"),
                                skipDraft: url.appendingPathComponent(SkipDraftFile.name))
        }
        let network = try loadNetwork(directory: url, threads: threads, precision: precision)
        let tokenizer = try BPETokenizer.load(directory: url)
        return try LanguageModel(network: network, tokenizer: tokenizer, location: url, vocabularyField: "config.json vocab_size",
                                 exits: url.appendingPathComponent("exits.safetensors"),
                                 controller: url.appendingPathComponent("controller.safetensors"),
                                 skipDraft: url.appendingPathComponent(SkipDraftFile.name))
    }

    private static func loadGGUF(_ file: URL, threads: Int, contextLimit: Int?, location: URL, exits: URL,
                                 controller: URL, skipDraft: URL) throws -> LanguageModel {
        let gguf = try GGUFFile(path: file.path)
        let network = try loadNetwork(gguf: gguf, threads: threads, contextLimit: contextLimit ?? defaultGGUFContext)
        let tokenizer = try BPETokenizer(
            ggufModel: try gguf.string("tokenizer.ggml.model"), tokens: try gguf.stringArray("tokenizer.ggml.tokens"),
            tokenTypes: try gguf.optionalIntArray("tokenizer.ggml.token_type"),
            merges: try gguf.optionalStringArray("tokenizer.ggml.merges") ?? [], pre: try gguf.optionalString("tokenizer.ggml.pre"),
            bosTokenID: try gguf.optionalInt("tokenizer.ggml.bos_token_id"), eosTokenID: try gguf.optionalInt("tokenizer.ggml.eos_token_id"),
            addBOS: try gguf.optionalBool("tokenizer.ggml.add_bos_token"), source: file.lastPathComponent)
        return try LanguageModel(network: network, tokenizer: tokenizer, location: location,
                                 vocabularyField: "token_embd.weight rows", exits: exits, controller: controller,
                                 skipDraft: skipDraft)
    }

    /// Cross-checks the parts and loads the exit files when present. `vocabularyField` says where the
    /// model's vocabulary size comes from (config.json's vocab_size, or the GGUF embedding's rows).
    init(network: any Transformer, tokenizer: BPETokenizer, location: URL, vocabularyField: String, exits: URL, controller: URL,
         skipDraft: URL) throws {
        // A tokenizer that can emit ids the embedding does not have would fail mid-completion; refuse it up
        // front, naming the tokenizer's file (the one whose vocabulary is refused), not the directory.
        guard tokenizer.vocabularySize <= network.shape.vocabularySize else {
            throw ModelError.file(tokenizer.sourceFile,
                                  "the vocabulary has \(tokenizer.vocabularySize) tokens (ids up to \(tokenizer.vocabularySize - 1)) but "
                                  + "the model has \(network.shape.vocabularySize) (\(vocabularyField))")
        }
        let earlyExit = EarlyExitModel(network: network,
                                       heads: try ExitHeads.load(url: exits, shape: network.shape),
                                       controller: try StopExitController.load(url: controller, shape: network.shape),
                                       skipDraftLayers: try SkipDraftFile.load(url: skipDraft, layerCount: network.shape.layerCount)?.layers)
        self.init(earlyExit: earlyExit, tokenizer: tokenizer, directory: location)
    }
}

/// Re-exported so callers can pick a weight precision without importing Kernels.
public typealias WeightPrecision = Kernels.WeightPrecision
