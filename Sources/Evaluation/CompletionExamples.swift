import Foundation
import Model
import Tokenizer

/// One completion example cut from a source file, the paper's way.
public struct CompletionExample: Sendable, Codable, Equatable {
    public var file: String
    /// Split point s in the file's token ids.
    public var split: Int
    /// The last ≤ `context` tokens before s.
    public var prompt: [Int]
    /// The next ≤ `targetLength` tokens (or, in line mode, the rest of the line).
    public var target: [Int]
}

/// How examples are cut.
public struct ExampleProtocol: Sendable {
    public var seed: UInt64 = 42
    public var context = 256
    public var targetLength = 10
    /// Target = the rest of the current line, as an editor would complete.
    public var lineMode = false
    public init() {}
}

/// A deterministic integer generator for split points: a tiny PCG-style step over SplitMix64,
/// so a seed gives the same examples on every machine.
public struct ExampleSampler {
    private var rng: SplitMix64
    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    /// Uniform in `lower...upper` (inclusive, like Python's `randint`).
    public mutating func randint(_ lower: Int, _ upper: Int) -> Int {
        precondition(lower <= upper)
        let span = UInt64(upper - lower + 1)
        return lower + Int(rng.next() % span)
    }
}

extension ExampleProtocol {
    /// Examples from `files`: per file, tokenize, choose `s ~ randint(min(len−10, 50), len−1)`,
    /// prompt = the last ≤ `context` tokens before s, target = the next ≤ `targetLength` tokens
    /// (or the rest of the line). Files shorter than 12 tokens are skipped. With `count`, files
    /// are visited round-robin (path order) until that many examples exist; the RNG advances once
    /// per example, so a seed always gives the same examples.
    public func examples(files: [URL], tokenizer: BPETokenizer, count: Int? = nil) -> [CompletionExample] {
        var sequences: [(String, [Int])] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            guard let data = FileManager.default.contents(atPath: file.path),
                  let text = String(data: data, encoding: .utf8) else { continue }
            let ids = tokenizer.encode(text)
            if ids.count >= 12 { sequences.append((file.lastPathComponent, ids)) }
        }
        guard !sequences.isEmpty else { return [] }
        var sampler = ExampleSampler(seed: seed)
        var out: [CompletionExample] = []
        let total = count ?? sequences.count
        for i in 0..<total {
            let (name, ids) = sequences[i % sequences.count]
            let s = sampler.randint(min(ids.count - 10, 50), ids.count - 1)
            let prompt = Array(ids[max(0, s - context)..<s])
            var target: [Int] = []
            if lineMode {
                // The rest of the current line: tokens up to and including the first newline.
                for id in ids[s...] {
                    target.append(id)
                    if tokenizer.decode([id]).contains(0x0A) || target.count >= 64 { break }
                }
            } else {
                target = Array(ids[s..<min(ids.count, s + targetLength)])
            }
            out.append(CompletionExample(file: name, split: s, prompt: prompt, target: target))
        }
        return out
    }
}
