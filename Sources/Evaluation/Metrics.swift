/// Completion quality metrics, as the paper (ROUGE-L over token ids) and ExitLens define them.
public enum Metrics {
    /// Length of the longest common subsequence.
    public static func lcsLength<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: b.count + 1)
        var current = previous
        for x in a {
            for (j, y) in b.enumerated() {
                current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// ROUGE-L F-measure (β = 1, as `rouge-score` computes it): 2PR / (P + R) with
    /// P = LCS / |candidate| and R = LCS / |reference|; 0 when either is empty.
    public static func rougeL<T: Equatable>(candidate: [T], reference: [T]) -> Double {
        let lcs = Double(lcsLength(candidate, reference))
        guard lcs > 0 else { return 0 }
        let p = lcs / Double(candidate.count), r = lcs / Double(reference.count)
        return 2 * p * r / (p + r)
    }

    /// Levenshtein distance over Unicode scalars (insert, delete, substitute: 1 each).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// Character edit similarity: 1 − distance / max(length); 1 when both are empty.
    public static func editSimilarity(_ a: String, _ b: String) -> Double {
        let longest = max(a.unicodeScalars.count, b.unicodeScalars.count)
        return longest == 0 ? 1 : 1 - Double(editDistance(a, b)) / Double(longest)
    }

    /// The acceptance proxy: a non-empty completion that the reference starts with — text a
    /// user would have typed exactly.
    public static func accepted(completion: String, reference: String) -> Bool {
        !completion.isEmpty && reference.hasPrefix(completion)
    }
}
