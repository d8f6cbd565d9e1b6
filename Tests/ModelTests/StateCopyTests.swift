import Foundation
import Kernels
import Model
import Testing

/// `copyState` must store exactly the keys and values the block itself would store for the same input:
/// its attention norm, K/V projections, biases and (Llama) the keys' rotation at that position.
@Suite struct TransformerStateCopyTests {
    @Test(arguments: ["tiny-f32", "tiny-f16", "tiny-llama", "tiny-qwen2", "tiny-codegen", "tiny-codegen-f16"])
    func copiedKeysAndValuesEqualTheBlocksOwn(name: String) throws {
        let network = try Fixtures.model(name)
        let (expected, _) = try Fixtures.expected(name)
        let prompt = expected.prompts[1].ids
        let d = network.shape.embeddingSize
        var rng = SplitMix64(seed: 5)
        let h = (0..<d).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 }
        for block in 0..<network.shape.layerCount {
            // copyState into one cache…
            let copied = network.makeCache()
            _ = try network.prefill(prompt, cache: copied)
            let ws = network.makeWorkspace()
            h.withUnsafeBufferPointer { network.copyState(from: $0.baseAddress!, block: block, position: prompt.count, workspace: ws, cache: copied) }
            // …and the block's own forward pass on the same input into another.
            let direct = network.makeCache()
            _ = try network.prefill(prompt, cache: direct)
            let ws2 = network.makeWorkspace()
            h.withUnsafeBufferPointer { ws2.residual.pointer.update(from: $0.baseAddress!, count: d) }
            network.forward(block: block, rows: 1, firstPosition: prompt.count, workspace: ws2, cache: direct)
            let keys = maxAbsDifference(copied.key(layer: block, position: prompt.count), direct.key(layer: block, position: prompt.count))
            let values = maxAbsDifference(copied.value(layer: block, position: prompt.count), direct.value(layer: block, position: prompt.count))
            #expect(keys <= 1e-5 && values <= 1e-5, "\(name) block \(block): |ΔK| = \(keys), |ΔV| = \(values)")
        }
    }
}
