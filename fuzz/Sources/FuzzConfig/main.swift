import FuzzSupport
import Foundation
import Model

/// config.json → GPT2Config: decoding plus validation never traps, and a config that passes
/// validation has sizes whose products (what the loader allocates) do not overflow.
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = data ?? emptyInput
    let json = Data(bytes: data, count: count)
    guard let config = try? JSONDecoder().decode(GPT2Config.self, from: json), (try? config.validate()) != nil else { return 0 }
    fuzzCheck(config.headSize * config.headCount == config.embeddingSize, "head size × head count != embedding size")
    for (a, b) in [(config.vocabularySize, config.embeddingSize), (config.contextLength, config.embeddingSize),
                   (config.embeddingSize, config.innerSize), (config.embeddingSize, 3 * config.embeddingSize)] {
        fuzzCheck(!a.multipliedReportingOverflow(by: b).overflow, "a product of sizes overflows")
    }
    if let id = config.bosTokenID { fuzzCheck((0..<config.vocabularySize).contains(id), "BOS id \(id) outside the vocabulary") }
    if let id = config.eosTokenID { fuzzCheck((0..<config.vocabularySize).contains(id), "EOS id \(id) outside the vocabulary") }
    fuzzCheck(config.layerNormEpsilon > 0 && config.layerNormEpsilon.isFinite, "epsilon \(config.layerNormEpsilon) is not positive and finite")
    // What the engine writes back must load again, unchanged.
    guard let encoded = try? JSONEncoder().encode(config),
          let again = try? JSONDecoder().decode(GPT2Config.self, from: encoded) else { fatalError("re-encoded config does not load") }
    fuzzCheck(again == config, "config changed through encode/decode")
    return 0
}

/// libFuzzer's entry point by name (its own main refers to it); `runFuzzer` below starts the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzConfig(data, count) }

runFuzzer { fuzzConfig($0, $1) }
