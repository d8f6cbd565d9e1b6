import Foundation
import Testing
@testable import GGUF

/// SmolLM2-135M-Instruct Q4_1 (98 MB, not committed): runs when the file is present, at
/// `$EXITLENS_SMOLLM2` (as `make test-smollm2` sets it) or where `make smollm2` puts it.
/// Expected values are those the `gguf` package's reader reports for that file.
enum RealModel {
    static let path = ProcessInfo.processInfo.environment["EXITLENS_SMOLLM2"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static var present: Bool { FileManager.default.fileExists(atPath: path) }
}

@Suite(.enabled(if: RealModel.present, "SmolLM2 GGUF not found"))
struct RealModelTests {
    @Test func smolLM2Header() throws {
        let f = try GGUFFile(path: RealModel.path)
        #expect(f.version == 3 && f.alignment == 32 && f.dataOffset == 1_785_664)
        #expect(f.metadataKeys.count == 33)
        #expect(try f.string("general.architecture") == "llama")
        #expect(try f.int("llama.block_count") == 30)
        #expect(try f.int("llama.embedding_length") == 576)
        #expect(try f.int("llama.feed_forward_length") == 1536)
        #expect(try f.int("llama.attention.head_count") == 9)
        #expect(try f.int("llama.attention.head_count_kv") == 3)
        #expect(try f.int("llama.context_length") == 8192)
        #expect(try f.float("llama.rope.freq_base") == 100_000)
        #expect(try f.float("llama.attention.layer_norm_rms_epsilon") == 1e-5)
        #expect(try f.string("tokenizer.ggml.model") == "gpt2")
        #expect(try f.string("tokenizer.ggml.pre") == "smollm")
        #expect(try f.int("tokenizer.ggml.bos_token_id") == 1)
        #expect(try f.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(try f.optionalBool("tokenizer.ggml.add_bos_token") == false)

        let tokens = try f.stringArray("tokenizer.ggml.tokens")
        #expect(tokens.count == 49_152 && tokens[0] == "<|endoftext|>" && tokens[49_151] == "ectable")
        let merges = try f.stringArray("tokenizer.ggml.merges")
        #expect(merges.count == 48_900 && merges[0] == "Ġ t" && merges[48_899] == "ect able")
        let types = try #require(try f.optionalIntArray("tokenizer.ggml.token_type"))
        #expect(types.count == 49_152 && types.reduce(0, +) == 49_186)

        #expect(f.tensors.count == 272)
        #expect(f.tensors.filter { $0.type == .q4_1 }.count == 210)
        #expect(f.tensor("output.weight") == nil) // tied to token_embd
        let embd = try #require(f.tensor("token_embd.weight"))
        #expect(embd.dims == [576, 49_152] && embd.type == .q8_0 && embd.offset == 1_785_664 && embd.byteCount == 30_081_024)
        let down = try #require(f.tensor("blk.0.ffn_down.weight"))
        #expect(down.dims == [1536, 576] && down.type == .q4_1 && down.offset == 31_868_992 && down.byteCount == 552_960)
        let last = try #require(f.tensors.max { $0.offset < $1.offset })
        #expect(last.offset + last.byteCount == f.fileSize)
    }
}
