/// A set of 1-based layers, written as a list of layers and ranges: `8,10,12-15`.
///
/// Skip-layer drafting names the layers whose blocks the draft leaves out (layer ℓ is block ℓ−1, as
/// for exit layers). One parser and one printer, used by the policy spec (`speculative:skip:8,10-12:4`),
/// `--skip-layers`, and the model's `skip-draft.json`.
public struct LayerSet: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The layers, ascending, each once.
    public let layers: [Int]

    /// Layers sorted and deduplicated; each must be ≥ 1.
    public init(_ layers: some Sequence<Int>) throws {
        let sorted = Array(Set(layers)).sorted()
        guard !sorted.isEmpty else { throw LayerSetError("names no layer") }
        if let bad = sorted.first, bad < 1 { throw LayerSetError("layer \(bad) is not ≥ 1") }
        self.layers = sorted
    }

    /// Parses `8,10,12-15`. Bounded: a range spans at most 4,096 layers, so `1-99999999` is refused
    /// rather than allocated.
    public init(parsing text: String) throws {
        var layers: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let low = Int(ends[0]), let high = Int(ends[ends.count - 1]) else {
                throw LayerSetError("'\(part)' is not a layer or a range like 3-5")
            }
            guard low >= 1, low <= high else { throw LayerSetError("'\(part)' is not a range of layers ≥ 1, low to high") }
            guard high - low < 4096 else { throw LayerSetError("'\(part)' spans more layers than any model has") }
            layers += low...high
        }
        try self.init(layers)
    }

    /// Refuses a layer outside 1…L (skipping every layer is allowed: the draft is then a bigram guess).
    public func validate(layerCount L: Int) throws {
        if let last = layers.last, last > L {
            throw LayerSetError("layer \(last) is outside 1…\(L) for this \(L)-layer model")
        }
    }

    /// Block indices (0-based) that are run, i.e. those not skipped, for an `L`-layer model.
    public func keptBlocks(layerCount L: Int) -> [Int] {
        let skipped = Set(layers)
        return (0..<L).filter { !skipped.contains($0 + 1) }
    }

    /// Consecutive layers written as ranges: `8,10,12-15`.
    public var description: String {
        var parts: [String] = []
        var i = 0
        while i < layers.count {
            var j = i
            while j + 1 < layers.count && layers[j + 1] == layers[j] + 1 { j += 1 }
            parts.append(j == i ? "\(layers[i])" : "\(layers[i])-\(layers[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// A model without a searched set (`skip-draft.json`) skips every second layer of its middle
    /// half: the first and last layers matter most to the output (Draft & Verify, SWIFT), the middle
    /// ones least. Layers ⌊L/4⌋+1, ⌊L/4⌋+3, … up to ⌈3L/4⌉; at least one layer for L ≥ 2.
    public static func fallback(layerCount L: Int) -> LayerSet? {
        guard L >= 2 else { return nil }
        let low = L / 4 + 1, high = max(low, (3 * L + 3) / 4)
        return try? LayerSet(stride(from: low, through: min(high, L), by: 2))
    }
}

/// A layer list that cannot be used, as one line.
public struct LayerSetError: Error, CustomStringConvertible, Equatable {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { problem }
}
