import Foundation
import Kernels
import Testing

/// Block-quantized weights: dequantization against the `gguf` package (fixtures from
/// `training/quant_fixtures.py`), products against float math on the dequantized weights.
@Suite struct QuantizedMatrixTests {
    static func resource(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw QuantizationError("test resources are missing")
        }
        return try Data(contentsOf: url.appendingPathComponent(name))
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    struct Manifest: Decodable { let formats: [String: [Int]] }

    @Test(arguments: BlockFormat.allCases)
    func dequantizationIsBitExactWithGGUF(format: BlockFormat) throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: try Self.resource("quant.json"))
        let shape = try #require(manifest.formats[format.rawValue])
        let (fixtureRows, fixtureCols) = (shape[0], shape[1])
        let bytes = try Self.resource("quant-\(format.rawValue).bin")
        let expected = Self.floats(try Self.resource("quant-\(format.rawValue).f32"))
        let count = fixtureRows * fixtureCols
        #expect(expected.count == count)
        #expect(try format.byteCount(elements: count) == bytes.count)

        var got = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { raw in
            got.withUnsafeMutableBufferPointer { dequantize(format, raw, count: count, into: $0.baseAddress!) }
        }
        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))

        // Rows read back through the matrix's regrouped storage are the same bits.
        let matrix = try bytes.withUnsafeBytes {
            try QuantizedMatrix(format: format, inCount: fixtureCols, outCount: fixtureRows, bytes: $0)
        }
        var row = [Float](repeating: .nan, count: fixtureCols)
        for r in 0..<fixtureRows {
            row.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0.baseAddress!) }
            let want = expected[(r * fixtureCols)..<((r + 1) * fixtureCols)]
            #expect(row.map(\.bitPattern) == want.map(\.bitPattern), "row \(r)")
        }
    }

    @Test(arguments: [("half", false), ("bfloat16", true)])
    func halfConversionsMatchNumpy(name: String, brain: Bool) throws {
        let bytes = try Self.resource("\(name).bin")
        let expected = Self.floats(try Self.resource("\(name).f32"))
        #expect(expected.count == bytes.count / 2 && expected.count > 3000)
        var got = [Float](repeating: .nan, count: expected.count)
        bytes.withUnsafeBytes { raw in
            got.withUnsafeMutableBufferPointer {
                if brain { convertBFloat16(raw, count: expected.count, into: $0.baseAddress!) }
                else { convertHalf(raw, count: expected.count, into: $0.baseAddress!) }
            }
        }
        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    // MARK: products

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        /// Uniform in [-1, 1).
        mutating func unit() -> Float { Float(next() % 2_000_001) / 1_000_000 - 1 }
    }

    /// Random GGUF block bytes with realistic scales (|d| ~ 1e-3…5e-2, m of either sign; K-quants
    /// smaller, as their sub-block scales multiply d by up to 63 or 127).
    static func randomBlocks(_ format: BlockFormat, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var g = Generator(state: seed)
        var bytes: [UInt8] = []
        func appendHalf(_ v: Float) {
            let bits = Float16(v).bitPattern
            bytes.append(UInt8(bits & 0xFF)); bytes.append(UInt8(bits >> 8))
        }
        if format.blockSize == 256 {
            for _ in 0..<(rows * cols / 256) {
                if format == .q4_K { appendHalf(0.0005 + 0.001 * abs(g.unit())); appendHalf(0.003 * abs(g.unit())) }
                let rest = format == .q4_K ? 140 : 208
                for _ in 0..<rest { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
                if format == .q6_K { appendHalf(0.0001 + 0.0003 * abs(g.unit())) }
            }
            return bytes
        }
        for _ in 0..<(rows * cols / 32) {
            appendHalf(0.001 + 0.05 * abs(g.unit()))
            if format == .q4_1 { appendHalf(-0.4 * abs(g.unit())) }
            for _ in 0..<(format.bytesPerBlock - (format == .q4_1 ? 4 : 2)) { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
        }
        return bytes
    }

    struct Case {
        let w: QuantizedMatrix
        let dense: [Float] // dequantized, row-major [out][in]
    }

    static func makeCase(_ format: BlockFormat, inCount: Int, outCount: Int, seed: UInt64) throws -> Case {
        let bytes = randomBlocks(format, rows: outCount, cols: inCount, seed: seed)
        let w = try bytes.withUnsafeBytes { try QuantizedMatrix(format: format, inCount: inCount, outCount: outCount, bytes: $0) }
        var dense = [Float](repeating: 0, count: inCount * outCount)
        bytes.withUnsafeBytes { raw in
            dense.withUnsafeMutableBufferPointer { dequantize(format, raw, count: inCount * outCount, into: $0.baseAddress!) }
        }
        return Case(w: w, dense: dense)
    }

    static func shapes(_ format: BlockFormat) -> [(Int, Int)] {
        format.blockSize == 256
            ? [(256, 1), (256, 13), (512, 37), (1536, 77), (768, 8)]
            : [(32, 1), (32, 13), (96, 37), (576, 203), (1536, 77), (64, 8), (160, 9)]
    }

    /// The int8 activation rounding moves each x[i] by at most half a step (max|x_block|/254);
    /// the bound below is that worst case over the row, plus float rounding of the scales and
    /// block sums (1e-5 relative to Σ|W·x|, far above float's ~nb·6e-8).
    @Test(arguments: BlockFormat.allCases)
    func productsMatchFloatMathWithinTheActivationRounding(format: BlockFormat) throws {
        for (index, (inCount, outCount)) in Self.shapes(format).enumerated() {
            let c = try Self.makeCase(format, inCount: inCount, outCount: outCount, seed: UInt64(index + 1))
            var g = Generator(state: UInt64(100 + index))
            let maxRows = 9
            let x = (0..<(maxRows * inCount)).map { _ in g.unit() * (g.next() % 7 == 0 ? 8 : 1) }
            let bias = (0..<outCount).map { _ in g.unit() }
            for threads in [1, 2] {
                let pool = ComputePool(threads: threads)
                for rows in 1...maxRows {
                    for withBias in [false, true] {
                        var y = [Float](repeating: .nan, count: rows * outCount)
                        x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                if rows == 1 { c.w.gemv(xp.baseAddress!, yp.baseAddress!, bias: withBias ? bp.baseAddress! : nil, pool: pool) }
                                else { c.w.gemm(xp.baseAddress!, rows: rows, yp.baseAddress!, bias: withBias ? bp.baseAddress! : nil, pool: pool) }
                            }
                        } }
                        var worst = 0.0
                        for r in 0..<rows {
                            let xr = Array(x[(r * inCount)..<((r + 1) * inCount)])
                            let step = (0..<(inCount / 32)).flatMap { b in
                                let m = xr[(32 * b)..<(32 * b + 32)].map { abs(Double($0)) }.max() ?? 0
                                return [Double](repeating: m / 254, count: 32)
                            }
                            for o in 0..<outCount {
                                var exact = withBias ? Double(bias[o]) : 0, bound = 0.0, magnitude = 0.0
                                for i in 0..<inCount {
                                    let wv = Double(c.dense[o * inCount + i])
                                    exact += wv * Double(xr[i])
                                    bound += abs(wv) * step[i]
                                    magnitude += abs(wv * Double(xr[i]))
                                }
                                let error = abs(Double(y[r * outCount + o]) - exact)
                                worst = max(worst, error / (bound + 1e-5 * magnitude + 1e-6))
                            }
                        }
                        #expect(worst <= 1, "\(format) \(inCount)→\(outCount) rows \(rows) threads \(threads) bias \(withBias): error/bound \(worst)")
                    }
                }
            }
        }
    }

    /// Typical error is far inside the worst-case bound: ~1e-2 of the output's scale at most.
    @Test(arguments: BlockFormat.allCases)
    func typicalErrorIsSmall(format: BlockFormat) throws {
        let inCount = format.blockSize == 256 ? 1536 : 576, outCount = 203
        let c = try Self.makeCase(format, inCount: inCount, outCount: outCount, seed: 7)
        var g = Generator(state: 9)
        let x = (0..<inCount).map { _ in g.unit() }
        var y = [Float](repeating: .nan, count: outCount)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { c.w.gemv(xp.baseAddress!, $0.baseAddress!, bias: nil, pool: .serial) } }
        var squaredError = 0.0, squaredValue = 0.0
        for o in 0..<outCount {
            var exact = 0.0
            for i in 0..<inCount { exact += Double(c.dense[o * inCount + i]) * Double(x[i]) }
            squaredError += (Double(y[o]) - exact) * (Double(y[o]) - exact)
            squaredValue += exact * exact
        }
        let relative = (squaredError / squaredValue).squareRoot()
        #expect(relative < 1e-2, "\(format): RMS relative error \(relative)")
    }

    /// Speculative decoding verifies with gemm what it drafted with gemv: each gemm row must be
    /// bit-identical to the gemv of that row, at any thread count.
    @Test(arguments: BlockFormat.allCases)
    func gemmRowsAreBitIdenticalToGemv(format: BlockFormat) throws {
        let inCount = 1536, outCount = 101, rows = 21 // more rows than one tile of 16
        let c = try Self.makeCase(format, inCount: inCount, outCount: outCount, seed: 11)
        var g = Generator(state: 12)
        let x = (0..<(rows * inCount)).map { _ in g.unit() }
        let bias = (0..<outCount).map { _ in g.unit() }
        var batched = [Float](repeating: .nan, count: rows * outCount)
        var single = [Float](repeating: .nan, count: rows * outCount)
        x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in
            batched.withUnsafeMutableBufferPointer { c.w.gemm(xp.baseAddress!, rows: rows, $0.baseAddress!, bias: bp.baseAddress!, pool: ComputePool(threads: 2)) }
            single.withUnsafeMutableBufferPointer { yp in
                for r in 0..<rows { c.w.gemv(xp.baseAddress! + r * inCount, yp.baseAddress! + r * outCount, bias: bp.baseAddress!, pool: .serial) }
            }
        } }
        #expect(batched.map(\.bitPattern) == single.map(\.bitPattern))
    }

    @Test func malformedShapesThrowOneLineErrors() throws {
        let bytes = [UInt8](repeating: 0, count: 20 * 6)
        func attempt(_ format: BlockFormat, _ inCount: Int, _ outCount: Int, count: Int? = nil) -> String? {
            bytes.withUnsafeBytes { raw in
                let view = UnsafeRawBufferPointer(rebasing: raw[0..<(count ?? raw.count)])
                do { _ = try QuantizedMatrix(format: format, inCount: inCount, outCount: outCount, bytes: view); return nil }
                catch { return "\(error)" }
            }
        }
        #expect(attempt(.q4_1, 64, 3) == nil) // 3 rows × 2 blocks × 20 bytes = 120: well formed
        #expect(attempt(.q4_1, 64, 3, count: 119) == "q4_1 matrix 3×64: expected 120 bytes, got 119")
        #expect(attempt(.q4_0, 64, 3) == "q4_0 matrix 3×64: expected 108 bytes, got 120")
        #expect(attempt(.q8_0, 48, 2)?.contains("not a multiple of the block size 32") == true)
        #expect(attempt(.q8_0, 0, 2)?.contains("must be positive") == true)
        #expect(attempt(.q4_1, 32, -1)?.contains("must be positive") == true)
        #expect(attempt(.q4_1, 32 << 40, 1 << 40)?.contains("overflows") == true)
        #expect(throws: QuantizationError.self) { try BlockFormat.q4_1.byteCount(elements: 33) }
        #expect(throws: QuantizationError.self) { try BlockFormat.q8_0.byteCount(elements: Int.max - 31) }
        #expect(try BlockFormat.q4_1.byteCount(elements: 64) == 40)
    }

    /// GGML type ids as the gguf package numbers them (GGMLQuantizationType).
    @Test func ggmlTypeIds() {
        #expect(BlockFormat(ggmlType: 2) == .q4_0 && BlockFormat(ggmlType: 3) == .q4_1 && BlockFormat(ggmlType: 8) == .q8_0)
        #expect(BlockFormat(ggmlType: 12) == .q4_K && BlockFormat(ggmlType: 14) == .q6_K)
        #expect(BlockFormat(ggmlType: 0) == nil && BlockFormat(ggmlType: 1) == nil && BlockFormat(ggmlType: 13) == nil)
    }
}
