import Foundation
import Kernels
import TestSupport
import Testing

/// Kernels against naive double-precision references.
@Suite struct KernelTests {
    func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float((rng.next() >> 11) % 2000) / 1000 - 1 }
    }

    @Test(arguments: [(16, 16), (64, 768), (40, 100), (7, 33), (256, 1024)])
    func packedProductsMatchNaive(inCount: Int, outCount: Int) {
        let w = randomValues(inCount * outCount, seed: 1)
        let bias = randomValues(outCount, seed: 2)
        let rows = 6
        let x = randomValues(rows * inCount, seed: 3)
        var reference = [Double](repeating: 0, count: rows * outCount)
        for r in 0..<rows { for o in 0..<outCount {
            var s = Double(bias[o])
            for i in 0..<inCount { s += Double(x[r * inCount + i]) * Double(w[i * outCount + o]) }
            reference[r * outCount + o] = s
        } }
        for threads in [1, 2] {
            let pool = ComputePool(threads: threads)
            for precision in WeightPrecision.allCases {
                let m = PackedMatrix(rowMajor: w, inCount: inCount, outCount: outCount, precision: precision)
                let y = FloatBuffer(count: rows * outCount)
                let yv = FloatBuffer(count: outCount)
                x.withUnsafeBufferPointer { xp in
                    bias.withUnsafeBufferPointer { bp in
                        m.gemm(xp.baseAddress!, rows: rows, y.pointer, bias: bp.baseAddress!, pool: pool)
                        m.gemv(xp.baseAddress!, yv.pointer, bias: bp.baseAddress!, pool: pool)
                    }
                }
                // F16 storage rounds weights to 11 significant bits.
                let tolerance = precision == .float32 ? 1e-4 : 2e-3 * Double(inCount).squareRoot()
                let gemmError = zip(y.array, reference).map { abs(Double($0) - $1) }.max() ?? 0
                let gemvError = (0..<outCount).map { abs(Double(yv[$0]) - reference[$0]) }.max() ?? 0
                #expect(gemmError <= tolerance, "gemm \(inCount)×\(outCount) \(precision) threads \(threads): \(gemmError)")
                #expect(gemvError <= tolerance, "gemv \(inCount)×\(outCount) \(precision) threads \(threads): \(gemvError)")
            }
        }
    }

    @Test(arguments: WeightPrecision.allCases)
    func rowMatrixCopiesRows(precision: WeightPrecision) {
        let rows = 7, cols = 40
        let m = randomValues(rows * cols, seed: 4).map { Float(Float16($0)) } // exact in both precisions
        let matrix = RowMatrix(m, rows: rows, cols: cols, precision: precision)
        let out = FloatBuffer(count: cols)
        for r in 0..<rows {
            matrix.copyRow(r, into: out.pointer)
            #expect(out.array == Array(m[(r * cols)..<((r + 1) * cols)]))
        }
    }

    @Test func expMatchesLibm() {
        var worst: Float = 0
        var v: Float = -80
        while v < 80 {
            let got = exp16(Vec16(repeating: v))[0]
            worst = max(worst, abs(got - Foundation.exp(v)) / Foundation.exp(v))
            v += 0.0137
        }
        #expect(worst < 3e-7, "max relative error \(worst)")
    }

    @Test func geluMatchesTanhFormula() {
        let values = (0..<1000).map { Float($0 - 500) / 50 } + [0, -1e-6, 1e-6, 30, -30]
        var y = values
        y.withUnsafeMutableBufferPointer { geluNew($0.baseAddress!, $0.count) }
        for (x, g) in zip(values, y) {
            let reference = 0.5 * Double(x) * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (Double(x) + 0.044715 * pow(Double(x), 3))))
            #expect(abs(Double(g) - reference) <= 2e-6 * max(1, abs(reference)), "gelu(\(x)) = \(g), want \(reference)")
        }
    }

    @Test func softmaxAndLayerNormMatchReference() {
        for n in [1, 5, 16, 37, 300] {
            let x = randomValues(n, seed: UInt64(n)).map { $0 * 20 }
            var p = x
            p.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, n) }
            let m = x.max()!
            let e = x.map { Foundation.exp(Double($0 - m)) }
            let s = e.reduce(0, +)
            for i in 0..<n { #expect(abs(Double(p[i]) - e[i] / s) <= 1e-6) }

            let gamma = randomValues(n, seed: 9), beta = randomValues(n, seed: 10)
            var out = [Float](repeating: 0, count: n)
            x.withUnsafeBufferPointer { xp in gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { layerNorm(xp.baseAddress!, $0.baseAddress!, n, gamma: g.baseAddress!, beta: b.baseAddress!, eps: 1e-5) }
            } } }
            let mean = x.map(Double.init).reduce(0, +) / Double(n)
            let variance = x.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(n)
            for i in 0..<n {
                let want = (Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma[i]) + Double(beta[i])
                #expect(abs(Double(out[i]) - want) <= 1e-4)
            }
        }
    }

    @Test func poolRunsEveryParticipantAndSplitsRanges() {
        let pool = ComputePool(threads: 2)
        for count in [0, 1, 5, 64, 1000] {
            var seen = [Int](repeating: 0, count: count)
            seen.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress
                pool.parallelFor(count, granularity: 4) { range in for i in range { base?[i] += 1 } }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }
}

/// The pool under many back-to-back jobs (the decode pattern), including sleeps between bursts.
@Suite struct ComputePoolStressTests {
    @Test func everyJobRunsExactlyOnceOnEveryParticipant() {
        let pool = ComputePool(threads: 2)
        let counts = FloatBuffer(count: 64)
        for burst in 0..<20 {
            for _ in 0..<2_000 {
                pool.parallelFor(64, granularity: 16) { range in
                    for i in range { counts.pointer[i] += 1 }
                }
            }
            if burst % 5 == 0 { usleep(3_000) } // let the worker park, then wake it
        }
        #expect(counts.array.allSatisfy { $0 == 40_000 }, "\(counts.array.prefix(8))")
    }
}
