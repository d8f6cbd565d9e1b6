import Completion
import Foundation
import FuzzSupport
import GGUF
import Model
import Tokenizer

/// The reader memory-maps files, so each input is written to one scratch file (on tmpfs where
/// there is one). Every error must name it.
let scratch = FuzzScratch.file("model.gguf")

/// Read from the logits so that the decode's output is touched (ASan checks the read).
var lastLogit: Float = 0

/// A refusal is one line that names the file; anything else (a trap, a giant allocation) is a finding.
func checkRefusal(_ error: any Error, _ step: String) {
    let text = "\(error)"
    fuzzCheck(error is GGUFError || error is ModelError || error is TokenizerError, "\(step): unexpected error type: \(text)")
    fuzzCheck(text.contains("model.gguf"), "\(step): error does not name the file: \(text)")
    fuzzCheck(!text.contains("\n"), "\(step): error is not one line: \(text)")
}

/// A GGUF file as `exitlens --model x.gguf` reads it: the validated header, every metadata value
/// through the typed accessors, the tokenizer from `tokenizer.ggml.*`, the network from the
/// tensors (`loadNetwork(gguf:)`), and one decoded token when both load.
func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    _ = FileManager.default.createFile(atPath: scratch.path, contents: Data(bytes: data, count: count))
    let file: GGUFFile
    do { file = try GGUFFile(path: scratch.path) } catch { checkRefusal(error, "open"); return 0 }

    // The header the reader validated: every tensor lies inside the data section, whole blocks.
    fuzzCheck(file.metadataKeys.count == file.metadata.count, "metadata keys and entries differ")
    for tensor in file.tensors {
        fuzzCheck(tensor.offset >= file.dataOffset && tensor.offset <= file.fileSize - tensor.byteCount, "tensor outside the file")
        fuzzCheck(tensor.dims.allSatisfy { $0 > 0 } && tensor.dims[0] % tensor.type.blockSize == 0, "tensor dims")
        fuzzCheck(tensor.elementCount / tensor.type.blockSize * tensor.type.typeSize == tensor.byteCount, "tensor size")
        fuzzCheck(file.bytes(of: tensor).count == tensor.byteCount, "tensor bytes")
    }
    // Every value through every accessor: a wrong type is a refusal, never a trap.
    for key in file.metadataKeys {
        let reads: [() throws -> Any] = [
            { try file.string(key) }, { try file.int(key) }, { try file.float(key) }, { try file.bool(key) },
            { try file.stringArray(key) }, { try file.intArray(key) }, { try file.floatArray(key) },
        ]
        for read in reads {
            do { _ = try read() } catch { checkRefusal(error, "metadata") }
        }
    }

    // The tokenizer, read as LanguageModel.load reads it.
    var tokenizer: BPETokenizer?
    do {
        tokenizer = try BPETokenizer(
            ggufModel: try file.string("tokenizer.ggml.model"), tokens: try file.stringArray("tokenizer.ggml.tokens"),
            tokenTypes: try file.optionalIntArray("tokenizer.ggml.token_type"),
            merges: try file.optionalStringArray("tokenizer.ggml.merges") ?? [], pre: try file.optionalString("tokenizer.ggml.pre"),
            bosTokenID: try file.optionalInt("tokenizer.ggml.bos_token_id"), eosTokenID: try file.optionalInt("tokenizer.ggml.eos_token_id"),
            addBOS: try file.optionalBool("tokenizer.ggml.add_bos_token"), source: "model.gguf")
    } catch {
        checkRefusal(error, "tokenizer")
    }
    var probe: [Int] = []
    if let tokenizer {
        // A GGUF vocabulary may lack byte tokens (SmolLM2 does), so bytes need not round-trip; ids must be real.
        probe = tokenizer.encode("def f(x):\n\treturn x  # é 漢 <|endoftext|>")
        fuzzCheck(probe.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "tokenizer produced an id out of range")
        _ = tokenizer.decode(probe)
    }

    // The network, with the context the playground asks for.
    let network: any Transformer
    do {
        network = try loadNetwork(gguf: file, threads: 1, contextLimit: LanguageModel.defaultGGUFContext)
    } catch {
        checkRefusal(error, "network")
        return 0
    }
    // One token through every block (LanguageModel refuses a tokenizer larger than the vocabulary).
    let token = probe.first { $0 < network.shape.vocabularySize } ?? 0
    let cache = network.makeCache(capacity: 2), workspace = network.makeWorkspace()
    do {
        // The logits live in the workspace, so it must outlive this read.
        try withExtendedLifetime(workspace) {
            let logits = try network.decode(token, cache: cache, workspace: workspace)
            fuzzCheck(logits.count == network.shape.vocabularySize, "logits length")
            lastLogit = logits[logits.count - 1]
        }
    } catch {
        fatalError("a loaded network cannot decode token \(token): \(error)")
    }
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzGGUF(data, count) }

runFuzzer { fuzzGGUF($0, $1) }
