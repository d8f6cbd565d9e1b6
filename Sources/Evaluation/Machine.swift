import Foundation

/// Facts about the machine a benchmark ran on, for the record.
public struct MachineInfo: Sendable, Codable {
    public var cpu: String
    public var cores: Int
    public var date: String

    /// Reads `/proc/cpuinfo` (Linux) for the CPU's name.
    public static func current() -> MachineInfo {
        var cpu = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        let formatter = ISO8601DateFormatter()
        return MachineInfo(cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount, date: formatter.string(from: Date()))
    }
}

/// Peak resident set size of this process, in bytes.
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024 // Linux reports kilobytes.
}


/// The `q`-quantile (0…1) of `values` by nearest rank.
public func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count - 1)).rounded())
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
