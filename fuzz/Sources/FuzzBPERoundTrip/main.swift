import FuzzSupport
import Foundation
import Tokenizer

/// GPT-2's real ranks (tiktoken file) and the tiny HF fixture (tokenizer.json, with added tokens).
let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../Tests/TokenizerTests/Resources").standardized
let tokenizers: [BPETokenizer] = {
    do {
        return [
            try BPETokenizer(tiktokenRanks: resources.appendingPathComponent("gpt2.tiktoken"), specialTokens: ["<|endoftext|>": 50256]),
            try BPETokenizer(tokenizerJSON: resources.appendingPathComponent("hf_tiny/tokenizer.json")),
        ]
    } catch {
        fatalError("cannot load the fuzzing tokenizers: \(error)")
    }
}()

/// decode(encode(x)) == x for every byte string (and for its UTF-8 reading with special tokens).
func fuzzBPERoundTrip(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    for tokenizer in tokenizers {
        let ids = tokenizer.encode(bytes: bytes)
        fuzzCheck(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "id out of range")
        fuzzCheck(tokenizer.decode(ids) == bytes, "decode(encode(bytes)) differs")
        let text = String(decoding: bytes, as: UTF8.self)
        fuzzCheck(tokenizer.decode(tokenizer.encode(text)) == Array(text.utf8), "decode(encode(text)) differs")
    }
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzBPERoundTrip(data, count) }

runFuzzer { fuzzBPERoundTrip($0, $1) }
