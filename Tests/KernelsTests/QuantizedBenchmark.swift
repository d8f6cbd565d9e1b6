import Foundation
import Kernels
import Testing

/// Throughput of quantized gemv on SmolLM2-135M shapes, cold (copies cycled through > 64 MB so
/// they do not sit in L3). Skipped unless EXITLENS_QUANT_BENCH is set; prints numbers, asserts none:
///
///     EXITLENS_QUANT_BENCH=1 swift test --filter QuantizedBenchmark
// Serialized: the benchmarks would otherwise run concurrently and measure each other.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["EXITLENS_QUANT_BENCH"] != nil))
struct QuantizedBenchmark {
    static let repeats = 15
    static let coldBytes = 96 << 20

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    static func matrices(_ format: BlockFormat, _ inCount: Int, _ outCount: Int, totalBytes: Int) throws -> [QuantizedMatrix] {
        let bytes = QuantizedMatrixTests.randomBlocks(format, rows: outCount, cols: inCount, seed: 3)
        let copies = max(1, (totalBytes + bytes.count - 1) / bytes.count)
        return try bytes.withUnsafeBytes { raw in
            try (0..<copies).map { _ in try QuantizedMatrix(format: format, inCount: inCount, outCount: outCount, bytes: raw) }
        }
    }

    static func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Per pass over `work` (after one warm-up pass): best and median wall seconds, and the
    /// least CPU seconds the process spent (all its threads, spinning included). ~6 other
    /// agents share these 2 cores, so wall time includes waits for a core; CPU time does not.
    static func time(_ repeats: Int, _ work: () -> Void) -> (best: Double, median: Double, cpu: Double) {
        work()
        var samples: [Double] = [], cpu = Double.infinity
        for _ in 0..<repeats {
            let start = now(), cpuStart = cpuNow()
            work()
            samples.append(now() - start)
            cpu = min(cpu, cpuNow() - cpuStart)
        }
        samples.sort()
        return (samples[0], samples[samples.count / 2], cpu)
    }

    @Test func gemvThroughputOnSmolLM2Shapes() throws {
        let shapes: [(BlockFormat, Int, Int)] = [
            (.q4_1, 576, 576), (.q4_1, 576, 192), (.q4_1, 576, 1536), (.q4_1, 1536, 576), (.q8_0, 576, 49152),
            // K-quants need inputs in multiples of 256 (SmolLM2's 576 is not): its down projection only.
            (.q4_K, 1536, 576), (.q6_K, 1536, 576),
        ]
        let x = FloatBuffer((0..<1536).map { Float(($0 * 37) % 101) / 50 - 1 })
        let y = FloatBuffer(count: 49152)
        print("shape | threads | GB/s best | GB/s median | GB/s per CPU-second | µs per gemv (best)")
        for (format, inCount, outCount) in shapes {
            let ms = try Self.matrices(format, inCount, outCount, totalBytes: Self.coldBytes)
            let bytes = ms.reduce(0) { $0 + $1.byteCount }
            for threads in [1, 2] {
                let pool = ComputePool(threads: threads)
                let t = Self.time(Self.repeats) { for m in ms { m.gemv(x.pointer, y.pointer, bias: nil, pool: pool) } }
                print(String(format: "%@ %d→%d ×%d | %d | %.1f | %.1f | %.1f | %.1f", format.rawValue, inCount, outCount, ms.count, threads,
                             Double(bytes) / t.best / 1e9, Double(bytes) / t.median / 1e9, Double(bytes) / t.cpu / 1e9,
                             t.best / Double(ms.count) * 1e6))
            }
        }
    }

    /// One 576→1536 Q4_1 matrix (553 kB) used over and over from L2: the kernel's arithmetic limit.
    @Test func warmGemv() throws {
        let m = try Self.matrices(.q4_1, 576, 1536, totalBytes: 1)[0]
        let x = FloatBuffer((0..<576).map { Float(($0 * 37) % 101) / 50 - 1 })
        let y = FloatBuffer(count: 1536)
        for threads in [1, 2] {
            let pool = ComputePool(threads: threads)
            let t = Self.time(Self.repeats) { for _ in 0..<200 { m.gemv(x.pointer, y.pointer, bias: nil, pool: pool) } }
            let bytes = Double(200 * m.byteCount)
            print(String(format: "warm q4_1 576→1536 | threads %d | best %.1f GB/s | median %.1f GB/s | per CPU-second %.1f GB/s",
                         threads, bytes / t.best / 1e9, bytes / t.median / 1e9, bytes / t.cpu / 1e9))
        }
        // Verification-sized batches: time per row relative to one gemv shows what sharing the weights saves.
        let xs = FloatBuffer((0..<(9 * 576)).map { Float(($0 * 37) % 101) / 50 - 1 })
        let ys = FloatBuffer(count: 9 * 1536)
        for rows in [5, 9] {
            let t = Self.time(Self.repeats) { for _ in 0..<100 { m.gemm(xs.pointer, rows: rows, ys.pointer, bias: nil, pool: .serial) } }
            print(String(format: "warm q4_1 576→1536 gemm rows %d | threads 1 | %.1f µs per call (CPU) | %.2f µs per row", rows, t.cpu / 100 * 1e6, t.cpu / 100 / Double(rows) * 1e6))
        }
        let t1 = Self.time(Self.repeats) { for _ in 0..<100 { m.gemv(xs.pointer, ys.pointer, bias: nil, pool: .serial) } }
        print(String(format: "warm q4_1 576→1536 gemv | threads 1 | %.1f µs per call (CPU)", t1.cpu / 100 * 1e6))
        // The other formats' arithmetic limits, one thread, on L2-sized matrices.
        for (format, inCount, outCount) in [(BlockFormat.q8_0, 576, 1536), (.q4_0, 576, 1536), (.q4_K, 1536, 576), (.q6_K, 1536, 576)] {
            let w = try Self.matrices(format, inCount, outCount, totalBytes: 1)[0]
            let t = Self.time(Self.repeats) { for _ in 0..<200 { w.gemv(xs.pointer, ys.pointer, bias: nil, pool: .serial) } }
            print(String(format: "warm %@ %d→%d (%d kB) | threads 1 | per CPU-second %.1f GB/s", format.rawValue, inCount, outCount,
                         w.byteCount / 1000, Double(200 * w.byteCount) / t.cpu / 1e9))
        }
    }

    /// All matrix products of one SmolLM2-135M decode step (30 layers of Q4_1 q, k, v, o, gate,
    /// up, down; the Q8_0 tied LM head), ~96 MB: the kernels' share of a token.
    @Test func smolLM2TokenOfMatrixProducts() throws {
        let layerShapes = [(576, 576), (576, 192), (576, 192), (576, 576), (576, 1536), (576, 1536), (1536, 576)]
        var ms: [QuantizedMatrix] = []
        var cache: [String: [UInt8]] = [:]
        for _ in 0..<30 {
            for (i, o) in layerShapes {
                let key = "\(i)x\(o)"
                let bytes = cache[key] ?? QuantizedMatrixTests.randomBlocks(.q4_1, rows: o, cols: i, seed: 5)
                cache[key] = bytes
                ms.append(try bytes.withUnsafeBytes { try QuantizedMatrix(format: .q4_1, inCount: i, outCount: o, bytes: $0) })
            }
        }
        ms.append(contentsOf: try Self.matrices(.q8_0, 576, 49152, totalBytes: 1))
        let bytes = ms.reduce(0) { $0 + $1.byteCount }
        let x = FloatBuffer((0..<1536).map { Float(($0 * 37) % 101) / 50 - 1 })
        let y = FloatBuffer(count: 49152)
        for threads in [1, 2] {
            let pool = ComputePool(threads: threads)
            let t = Self.time(40) { for m in ms { m.gemv(x.pointer, y.pointer, bias: nil, pool: pool) } }
            print(String(format: "token (%d matrices, %.1f MB) | threads %d | best %.2f ms (%.1f GB/s) | median %.2f ms | CPU %.2f ms", ms.count,
                         Double(bytes) / 1e6, threads, t.best * 1e3, Double(bytes) / t.best / 1e9, t.median * 1e3, t.cpu * 1e3))
        }
    }

    /// Plain streaming read of 128 MB (SIMD sums over floats): what "memory bandwidth" means here.
    @Test func readBandwidth() {
        let buffer = FloatBuffer(count: 32 << 20)
        for i in stride(from: 0, to: buffer.count, by: 1024) { buffer.pointer[i] = 1 }
        for threads in [1, 2] {
            let pool = ComputePool(threads: threads)
            let sums = FloatBuffer(count: 16 * threads)
            let t = Self.time(Self.repeats) {
                pool.run { index in
                    let chunk = buffer.count / threads, base = buffer.pointer + index * chunk
                    var a = SIMD16<Float>(), b = SIMD16<Float>()
                    for i in stride(from: 0, to: chunk, by: 32) {
                        a += UnsafeRawPointer(base + i).load(as: SIMD16<Float>.self)
                        b += UnsafeRawPointer(base + i + 16).load(as: SIMD16<Float>.self)
                    }
                    sums.pointer[16 * index] = (a + b).sum()
                }
            }
            print(String(format: "read bandwidth | threads %d | best %.1f GB/s | median %.1f GB/s | per CPU-second %.1f GB/s", threads,
                         Double(buffer.count * 4) / t.best / 1e9, Double(buffer.count * 4) / t.median / 1e9, Double(buffer.count * 4) / t.cpu / 1e9))
        }
    }
}
