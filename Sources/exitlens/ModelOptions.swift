import ArgumentParser
import Completion
import Foundation

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a Hugging Face directory (GPT-2, Llama, Qwen2, CodeGen), a .gguf file, or a directory holding one (default: models/smollm2-135m when it holds its .gguf, else models/default).")
    var model: String = ""

    /// SmolLM2-135M, once `make smollm2` has fetched its GGUF: the default model.
    static let smolLM2Directory = "models/smollm2-135m"
    /// The from-scratch GPT-2 `training/` writes: the default when SmolLM2 is not there.
    static let fallbackDirectory = "models/default"

    /// The default model: SmolLM2 when its directory holds a `.gguf`, else `models/default` with a
    /// one-line note on stderr saying why (`note` receives it).
    static func defaultModel(in base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                             note: (String) -> Void) -> String {
        let smol = base.appendingPathComponent(smolLM2Directory)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: smol.path)) ?? []
        if files.contains(where: { $0.hasSuffix(".gguf") }) { return smolLM2Directory }
        note("exitlens: \(smolLM2Directory) holds no .gguf (make smollm2 fetches it); using \(fallbackDirectory)")
        return fallbackDirectory
    }

    @Option(name: .customLong("exit-heads"), help: "Exit heads: the exits file beside the model (file), or the untrained logit lens at every layer (lens).")
    var exitHeads: ExitHeadSource = .file

    @Option(name: .long, help: "Compute threads.")
    var threads: Int = 2

    @Option(name: .long, help: "Keep weights in memory as f32 or f16 (default: f16 for F16 checkpoints, else f32).")
    var precision: WeightPrecision?

    mutating func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
        if model.isEmpty {
            model = Self.defaultModel { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        }
    }

    var directory: URL { URL(fileURLWithPath: model) }

    func load(threads override: Int? = nil) throws -> LanguageModel {
        let model = try LanguageModel.load(directory: directory, threads: override ?? threads, precision: precision)
        return exitHeads == .lens ? model.withLogitLens() : model
    }
}

/// Where exit heads come from.
enum ExitHeadSource: String, CaseIterable, ExpressibleByArgument {
    case file, lens
}

extension WeightPrecision: ExpressibleByArgument {}

/// A failure reported as one line on stderr with a non-zero exit.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
