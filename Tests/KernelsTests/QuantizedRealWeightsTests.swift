import Foundation
import Kernels
import Testing

/// Real SmolLM2 tensors (extracted by `training/quant_fixtures.py --real MODEL.gguf --out DIR`, not
/// committed): bit-exact dequantization against the `gguf` package and the int8-activation error
/// on real weight distributions. Skipped unless EXITLENS_QUANT_REAL=DIR.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["EXITLENS_QUANT_REAL"] != nil))
struct QuantizedRealWeightsTests {
    struct Entry: Decodable { let name: String; let format: String; let inCount: Int; let outCount: Int }

    @Test func realTensorsDequantizeExactlyAndMultiplyWithinTheContract() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["EXITLENS_QUANT_REAL"] ?? "")
        let entries = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: dir.appendingPathComponent("real.json")))
        #expect(!entries.isEmpty)
        for e in entries {
            let format = try #require(BlockFormat(rawValue: e.format))
            let bytes = try Data(contentsOf: dir.appendingPathComponent("\(e.name).bin"))
            let expected = QuantizedMatrixTests.floats(try Data(contentsOf: dir.appendingPathComponent("\(e.name).f32")))
            let m = try bytes.withUnsafeBytes { try QuantizedMatrix(format: format, inCount: e.inCount, outCount: e.outCount, bytes: $0) }
            var row = [Float](repeating: .nan, count: e.inCount)
            var exact = true
            for r in 0..<e.outCount {
                row.withUnsafeMutableBufferPointer { m.dequantizeRow(r, into: $0.baseAddress!) }
                exact = exact && row.map(\.bitPattern) == expected[(r * e.inCount)..<((r + 1) * e.inCount)].map(\.bitPattern)
            }
            #expect(exact, "\(e.name)")

            // Activations like a normalised hidden state: unit normal, then with a few large
            // outliers (every 97th ×20), which coarsen their blocks' int8 grid.
            for outliers in [false, true] {
                var g = QuantizedMatrixTests.Generator(state: 42)
                let x: [Float] = (0..<e.inCount).map { i in
                    let u1 = max(1e-9, Double(g.next() % 1_000_000) / 1_000_000), u2 = Double(g.next() % 1_000_000) / 1_000_000
                    let normal = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
                    return outliers && i % 97 == 0 ? normal * 20 : normal
                }
                var y = [Float](repeating: .nan, count: e.outCount)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { m.gemv(xp.baseAddress!, $0.baseAddress!, bias: nil, pool: .serial) } }
                var squaredError = 0.0, squaredValue = 0.0
                for o in 0..<e.outCount {
                    var reference = 0.0
                    for i in 0..<e.inCount { reference += Double(expected[o * e.inCount + i]) * Double(x[i]) }
                    squaredError += (Double(y[o]) - reference) * (Double(y[o]) - reference)
                    squaredValue += reference * reference
                }
                let relative = (squaredError / squaredValue).squareRoot()
                print("\(e.name) \(e.format) \(e.outCount)×\(e.inCount) outliers \(outliers): RMS relative error \(relative)")
                #expect(relative < (outliers ? 3e-2 : 1e-2), "\(e.name) outliers \(outliers): \(relative)")
            }
        }
    }
}
