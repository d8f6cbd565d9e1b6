import Foundation
import FuzzSupport
import Tokenizer

let vocabURL = FuzzScratch.file("vocab.json")
let mergesURL = FuzzScratch.file("merges.txt")

/// vocab.json + merges.txt: the input is split at its first NUL byte into the two files.
func fuzzVocabMerges(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let cut = bytes.firstIndex(of: 0) ?? bytes.count
    _ = FileManager.default.createFile(atPath: vocabURL.path, contents: Data(bytes[..<cut]))
    _ = FileManager.default.createFile(atPath: mergesURL.path, contents: Data(bytes[min(cut + 1, bytes.count)...]))
    do {
        let tokenizer = try BPETokenizer(vocabJSON: vocabURL, merges: mergesURL)
        FuzzScratch.checkRoundTrip(tokenizer, Array(bytes.prefix(64)))
    } catch let error as TokenizerError {
        let text = error.description
        fuzzCheck(text.contains("vocab.json") || text.contains("merges.txt"), "error does not name a file: \(text)")
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzVocabMerges(data, count) }

runFuzzer { fuzzVocabMerges($0, $1) }
