import Completion

/// Latency, exit layers and prefix reuse over the whole session, for the sidebar.
public struct SessionStats: Sendable {
    public var layerCount: Int
    /// Seconds from keystroke to the first ghost token, one per suggestion.
    public private(set) var firstTokenLatencies: [Double] = []
    /// Per-token decode times (after the first), seconds.
    public private(set) var tokenSeconds: [Double] = []
    /// exitHistogram[l-1]: tokens that exited at layer l.
    public private(set) var exitHistogram: [Int]
    public private(set) var completions = 0
    public private(set) var reusedPromptTokens = 0
    public private(set) var promptTokens = 0
    public private(set) var stops = 0

    public init(layerCount: Int) {
        self.layerCount = max(1, layerCount)
        exitHistogram = Array(repeating: 0, count: max(1, layerCount))
    }

    /// Suggestions shown and suggestions (partly) accepted, per policy name.
    public private(set) var shown: [String: Int] = [:]
    public private(set) var accepted: [String: Int] = [:]

    public mutating func record(shown policy: String, accepted wasAccepted: Bool) {
        shown[policy, default: 0] += 1
        if wasAccepted { accepted[policy, default: 0] += 1 }
    }

    /// "accepted 3/7 (sec)" for the sidebar, nil before anything was shown under `policy`.
    public func acceptanceSummary(policy: String) -> String? {
        guard let n = shown[policy], n > 0 else { return nil }
        let a = accepted[policy] ?? 0
        return "accepted \(a)/\(n) (\(policy)) \(Int((Double(a) / Double(n) * 100).rounded()))%"
    }

    public mutating func record(firstTokenLatency: Double) { firstTokenLatencies.append(firstTokenLatency) }

    public mutating func record(token: GeneratedToken, isFirst: Bool) {
        let l = min(max(token.trace.exitLayer, 1), layerCount)
        exitHistogram[l - 1] += 1
        if !isFirst { tokenSeconds.append(token.seconds) }
    }

    public mutating func record(result: CompletionResult) {
        completions += 1
        reusedPromptTokens += result.reusedPromptTokens
        promptTokens += result.promptTokenCount
        if result.stop != nil { stops += 1 }
    }

    /// The p-th percentile (0...100) of `values`, nearest rank; nil when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
