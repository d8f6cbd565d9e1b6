import EarlyExit
import Foundation
import Kernels
import Model
import Tokenizer

/// A model directory loaded for completion: the network, its tokenizer, and the exit heads
/// and Stop&Exit Controller when the directory has them.
///
/// The directory uses Hugging Face's layout: `config.json`, `model.safetensors`,
/// `tokenizer.json` (or `vocab.json` + `merges.txt`), plus optional `exits.safetensors`
/// and `controller.safetensors`.
public struct LanguageModel: Sendable {
    public let directory: URL
    public let earlyExit: EarlyExitModel
    public let tokenizer: BPETokenizer

    public var network: any Transformer { earlyExit.network }
    /// Short display name (the directory's name).
    public var name: String { directory.lastPathComponent }

    public init(earlyExit: EarlyExitModel, tokenizer: BPETokenizer, directory: URL) {
        self.earlyExit = earlyExit
        self.tokenizer = tokenizer
        self.directory = directory
    }

    /// Loads and cross-checks a model directory.
    public static func load(directory: URL, threads: Int = 1, precision: WeightPrecision? = nil) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.file(directory.path, "is not a model directory")
        }
        let network = try loadNetwork(directory: directory, threads: threads, precision: precision)
        let tokenizer = try BPETokenizer.load(directory: directory)
        // A tokenizer that can emit ids the embedding does not have would fail mid-completion; refuse it up front.
        guard tokenizer.vocabularySize <= network.shape.vocabularySize else {
            throw ModelError.file(directory.lastPathComponent,
                                  "tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocab_size is \(network.shape.vocabularySize)")
        }
        return LanguageModel(earlyExit: try EarlyExitModel(network: network, directory: directory), tokenizer: tokenizer, directory: directory)
    }
}

/// Re-exported so callers can pick a weight precision without importing Kernels.
public typealias WeightPrecision = Kernels.WeightPrecision
