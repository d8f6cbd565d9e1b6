import Foundation

/// `exitlens report`: the session logs summarised per model and policy — how often a shown
/// suggestion was accepted, where its tokens exited, and how long it took.
public struct SessionReport {
    public struct Row: Equatable, Sendable {
        public var model: String
        public var policy: String
        public var shown = 0
        public var accepted = 0
        public var acceptedChars = 0
        public var shownChars = 0
        /// Exit layers of the tokens after the first (the first is always the prompt's full-depth pass).
        public var exitLayers: [Int] = []
        public var layers = 0
        public var firstTokenMs: [Double] = []
        public var perTokenMs: [Double] = []
        public var costRatios: [Double] = []
        public var stopped = 0
    }

    public private(set) var rows: [Row] = []

    /// Reads JSON Lines logs; a bad line is an error naming the file and line.
    public static func load(paths: [String]) throws -> SessionReport {
        var records: [SuggestionRecord] = []
        let decoder = JSONDecoder()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { throw ReportError("\(path): cannot read the file") }
            for (i, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                do { records.append(try decoder.decode(SuggestionRecord.self, from: Data(line))) } catch {
                    throw ReportError("\(path):\(i + 1): not a session-log record (\(Self.field(error)))")
                }
            }
        }
        return SessionReport(records: records)
    }

    static func field(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: return "missing field \(key.stringValue)"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?: return "bad field \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "invalid JSON"
        }
    }

    public init(records: [SuggestionRecord]) {
        var index: [String: Int] = [:]
        for r in records {
            let key = r.model + "\u{0}" + r.policy
            let i = index[key] ?? { rows.append(Row(model: r.model, policy: r.policy)); index[key] = rows.count - 1; return rows.count - 1 }()
            rows[i].shown += 1
            if r.wasAccepted { rows[i].accepted += 1 }
            rows[i].acceptedChars += r.acceptedChars
            rows[i].shownChars += r.shownChars
            rows[i].exitLayers += r.exitLayers.dropFirst()
            rows[i].layers = max(rows[i].layers, r.layers)
            if let ms = r.firstTokenMs { rows[i].firstTokenMs.append(ms) }
            if let ms = r.perTokenMs { rows[i].perTokenMs.append(ms) }
            if let c = r.costRatio { rows[i].costRatios.append(c) }
            if r.stopped { rows[i].stopped += 1 }
        }
        rows.sort { ($0.model, $0.policy) < ($1.model, $1.policy) }
    }

    /// A plain-text table, one row per model and policy.
    public func table() -> String {
        func f(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "–" }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let header = ["model", "policy", "shown", "accepted", "chars acc/shown", "mean exit", "cost", "first p50", "first p95", "ms/token", "stopped"]
        var table = [header]
        for r in rows {
            let meanExit = r.exitLayers.isEmpty ? nil : Double(r.exitLayers.reduce(0, +)) / Double(r.exitLayers.count)
            table.append([
                r.model, r.policy, String(r.shown),
                "\(r.accepted) (\(r.shown > 0 ? Int((Double(r.accepted) / Double(r.shown) * 100).rounded()) : 0)%)",
                "\(r.acceptedChars)/\(r.shownChars)",
                meanExit.map { String(format: "%.1f/%d", $0, r.layers) } ?? "–",
                f(mean(r.costRatios), "%.2f× full"),
                f(SessionStats.percentile(r.firstTokenMs, 50), "%.0f ms"), f(SessionStats.percentile(r.firstTokenMs, 95), "%.0f ms"),
                f(mean(r.perTokenMs), "%.1f"), String(r.stopped),
            ])
        }
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { c, cell in c < 2 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
