import Foundation
import FuzzSupport
import Tokenizer

/// The loader reads files, so each input is written to one scratch file (on tmpfs where there is one).
let scratch = FuzzScratch.file("tokenizer.json")

/// tokenizer.json: either a TokenizerError naming the file, or a tokenizer for which
/// decode(encode(x)) == x on a few probe strings.
func fuzzTokenizerJSON(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    _ = FileManager.default.createFile(atPath: scratch.path, contents: Data(bytes: data, count: count))
    do {
        let tokenizer = try BPETokenizer(tokenizerJSON: scratch)
        FuzzScratch.checkRoundTrip(tokenizer, Array(UnsafeBufferPointer(start: data, count: min(count, 64))))
    } catch let error as TokenizerError {
        fuzzCheck(error.description.contains("tokenizer.json"), "error does not name the file: \(error)")
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzTokenizerJSON(data, count) }

runFuzzer { fuzzTokenizerJSON($0, $1) }
