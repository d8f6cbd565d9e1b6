import Dispatch
import EarlyExit
import Foundation
import Kernels
import Model

/// Measures prefill throughput and per-token decode latency of the full-depth
/// model, next to the memory-bandwidth bound for reading the weights and KV cache.
///
/// Thread counts are measured interleaved (1, 2, 1, 2, …) in one run so that a
/// noisy neighbour affects both alike.
public struct DecodeBenchmark: Sendable {
    /// What to measure.
    public struct Options: Sendable {
        public var contexts: [Int] = [64, 256, 512]
        public var threads: [Int] = [1, 2]
        /// Tokens decoded per measurement; the last one sees the full context.
        public var decodeTokens: Int = 32
        public var repeats: Int = 5
        public var prefillLength: Int = 512
        /// Row counts of one full-depth pass with every row's logits (a speculative verification of
        /// rows − 1 drafts), measured against a one-token decode step at `passContext`; empty: none.
        public var passRows: [Int] = []
        public var passContext: Int = 256
        public init() {}
    }

    /// One full-depth pass over `rows` tokens (all logits), against a decode step at the same context.
    public struct PassRow: Sendable, Codable {
        public var threads: Int
        public var context: Int
        public var rows: Int
        public var msMedian: Double
        /// The pass ÷ a one-token decode step at the same context (medians).
        public var steps: Double
    }

    /// Decode latency at one context length and thread count.
    public struct DecodeRow: Sendable, Codable {
        public var threads: Int
        public var context: Int
        public var msPerTokenMedian: Double
        public var msPerTokenP95: Double
        /// Bytes of weights + KV cache read per token ÷ measured bandwidth, in ms.
        public var boundMs: Double
    }

    /// Prefill throughput at one thread count.
    public struct PrefillRow: Sendable, Codable {
        public var threads: Int
        public var tokens: Int
        public var tokensPerSecond: Double
    }

    /// Everything one run measured.
    public struct Report: Sendable, Codable {
        public var machine: MachineInfo
        public var model: String
        public var layers: Int, width: Int, heads: Int, vocabulary: Int
        public var precision: String
        public var weightBytesPerToken: Int
        /// Streaming read bandwidth, GB/s, by thread count.
        public var bandwidthGBps: [String: Double]
        public var prefill: [PrefillRow]
        public var decode: [DecodeRow]
        public var passes: [PassRow] = []
        public var peakRSSBytes: Int
    }

    public let options: Options
    public init(options: Options = Options()) { self.options = options }

    /// Runs the benchmark on `network`'s weights (shared by every thread count).
    public func run(network: any Transformer, modelName: String, progress: (String) -> Void = { _ in }) throws -> Report {
        let config = network.shape
        let models = options.threads.map { network.withThreads($0) }
        var rng = SplitMix64(seed: 42)
        let promptLength = min(options.prefillLength, config.contextLength)
        let prompt = (0..<config.contextLength).map { _ in Int(rng.next() % UInt64(config.vocabularySize)) }
        let contexts = options.contexts.map { min($0, config.contextLength) }

        var prefillTimes = [[Double]](repeating: [], count: models.count)
        var decodeTimes = [[[Double]]](repeating: [[Double]](repeating: [], count: contexts.count), count: models.count)
        let passContext = min(options.passContext, config.contextLength)
        let passRows = options.passRows.filter { $0 >= 1 && $0 < passContext }
        var passTimes = [[[Double]]](repeating: [[Double]](repeating: [], count: passRows.count + 1), count: models.count)
        // One cache per model for the whole run, as a completion session keeps one: its pages become
        // resident when first written (lazily zeroed), which a fresh cache per measurement would time.
        let caches = models.map { $0.makeCache() }
        for repeatIndex in 0..<options.repeats {
            progress("repeat \(repeatIndex + 1)/\(options.repeats)")
            for (m, model) in models.enumerated() {
                let cache = caches[m]
                cache.truncate(to: 0)
                let start = DispatchTime.now()
                _ = try model.prefill(Array(prompt.prefix(promptLength)), cache: cache)
                prefillTimes[m].append(elapsedSeconds(since: start))

                let ws = model.makeWorkspace()
                for (c, context) in contexts.enumerated() {
                    let steps = min(options.decodeTokens, context)
                    cache.truncate(to: 0)
                    _ = try model.prefill(Array(prompt.prefix(context - steps)), cache: cache)
                    for step in 0..<steps {
                        let t0 = DispatchTime.now()
                        _ = try model.decode(prompt[context - steps + step], cache: cache, workspace: ws)
                        decodeTimes[m][c].append(elapsedSeconds(since: t0))
                    }
                }
                // Passes over r rows ending at passContext, each after a one-token step there
                // (slot 0), alternated so both see the same machine.
                for (i, rows) in passRows.enumerated() {
                    cache.truncate(to: 0)
                    _ = try model.prefill(Array(prompt.prefix(passContext - 1)), cache: cache)
                    let t0 = DispatchTime.now()
                    _ = try model.decode(prompt[passContext - 1], cache: cache, workspace: ws)
                    passTimes[m][0].append(elapsedSeconds(since: t0))
                    cache.truncate(to: passContext - rows)
                    let t1 = DispatchTime.now()
                    _ = try model.prefill(Array(prompt[(passContext - rows)..<passContext]), cache: cache, allLogits: true)
                    passTimes[m][i + 1].append(elapsedSeconds(since: t1))
                }
            }
        }
        let peak = peakResidentBytes()
        progress("measuring memory bandwidth")
        var bandwidth: [String: Double] = [:]
        for t in options.threads { bandwidth[String(t)] = Self.measureBandwidth(threads: t) }

        let weightBytes = network.bytesPerToken
        var decodeRows: [DecodeRow] = []
        for (m, model) in models.enumerated() {
            for (c, context) in contexts.enumerated() {
                let times = decodeTimes[m][c]
                // KV read by the last decoded token: keys and values of every layer.
                let kvBytes = 2 * config.layerCount * context * config.kvWidth * 4
                let gbps = bandwidth[String(model.pool.threadCount)] ?? .nan
                decodeRows.append(DecodeRow(threads: model.pool.threadCount, context: context,
                                            msPerTokenMedian: quantile(times, 0.5) * 1e3,
                                            msPerTokenP95: quantile(times, 0.95) * 1e3,
                                            boundMs: Double(weightBytes + kvBytes) / (gbps * 1e9) * 1e3))
            }
        }
        let prefillRows = models.enumerated().map { m, model in
            PrefillRow(threads: model.pool.threadCount, tokens: promptLength,
                       tokensPerSecond: Double(promptLength) / quantile(prefillTimes[m], 0.5))
        }
        var passes: [PassRow] = []
        for (m, model) in models.enumerated() where !passRows.isEmpty {
            let step = quantile(passTimes[m][0], 0.5)
            for (i, rows) in passRows.enumerated() {
                let t = quantile(passTimes[m][i + 1], 0.5)
                passes.append(PassRow(threads: model.pool.threadCount, context: passContext, rows: rows,
                                      msMedian: t * 1e3, steps: t / step))
            }
        }
        return Report(machine: .current(), model: modelName, layers: config.layerCount, width: config.embeddingSize,
                      heads: config.headCount, vocabulary: config.vocabularySize,
                      precision: network.weightFormat, weightBytesPerToken: weightBytes,
                      bandwidthGBps: bandwidth, prefill: prefillRows, decode: decodeRows, passes: passes, peakRSSBytes: peak)
    }

    /// Best-of-five streaming read bandwidth over a 256 MiB buffer (far larger than any cache), GB/s.
    public static func measureBandwidth(threads: Int) -> Double {
        let count = 64 << 20 // floats
        let buffer = FloatBuffer(count: count)
        for i in stride(from: 0, to: count, by: 1024) { buffer.pointer[i] = 1 } // touch every page
        let pool = ComputePool(threads: threads)
        var best = 0.0
        var sink: Float = 0
        for _ in 0..<5 {
            let partial = FloatBuffer(count: threads * 16)
            let start = DispatchTime.now()
            pool.run { worker in
                let lo = count / threads * worker, hi = count / threads * (worker + 1)
                var acc0 = Vec16(), acc1 = Vec16(), acc2 = Vec16(), acc3 = Vec16()
                var i = lo
                let p = UnsafeRawPointer(buffer.pointer)
                while i + 64 <= hi {
                    acc0 += p.loadUnaligned(fromByteOffset: i * 4, as: Vec16.self)
                    acc1 += p.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Vec16.self)
                    acc2 += p.loadUnaligned(fromByteOffset: (i + 32) * 4, as: Vec16.self)
                    acc3 += p.loadUnaligned(fromByteOffset: (i + 48) * 4, as: Vec16.self)
                    i += 64
                }
                partial.pointer[worker * 16] = (acc0 + acc1 + acc2 + acc3).sum()
            }
            let seconds = elapsedSeconds(since: start)
            sink += partial.pointer[0]
            best = max(best, Double(count * 4) / seconds / 1e9)
        }
        if sink.isNaN { print("") } // keeps the reads observable
        return best
    }
}
