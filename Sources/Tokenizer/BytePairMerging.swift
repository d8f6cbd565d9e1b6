/// The merge table and the two merge loops.
///
/// Pieces are merged pair by pair, always the adjacent pair of lowest rank,
/// leftmost on ties — the rule shared by GPT-2's reference code, Hugging Face
/// `tokenizers` and tiktoken. Short pieces (almost all) use a linear scan over
/// cached pair ranks; long ones (e.g. a run of 500 spaces or a minified line)
/// use a heap so the cost stays O(n log n) instead of O(n²).
struct MergeTable: Sendable {
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    private var table: [UInt64: UInt64] = [:]

    static let noRank = UInt32.max

    /// Pieces up to this many bytes use the scan; longer ones the heap.
    static let heapThreshold = 64

    init() {}

    var count: Int { table.count }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Adds a merge unless the pair already has one (the first, lowest rank wins).
    mutating func add(left: Int, right: Int, rank: Int, merged: Int) {
        let key = Self.key(Int32(left), Int32(right))
        if table[key] == nil {
            table[key] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(merged))
        }
    }

    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let value = table[Self.key(left, right)] else { return nil }
        return (UInt32(value >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
    }

    @inline(__always)
    func rank(_ left: Int32, _ right: Int32) -> UInt32 {
        lookup(left, right)?.rank ?? Self.noRank
    }

    /// Merges `symbols` (initially one id per byte) to completion.
    func merge(_ symbols: [Int32], forceHeap: Bool = false) -> [Int32] {
        if symbols.count < 2 { return symbols }
        if forceHeap || symbols.count > Self.heapThreshold {
            return mergeWithHeap(symbols)
        }
        return mergeWithScan(symbols)
    }

    private func mergeWithScan(_ symbols: [Int32]) -> [Int32] {
        var ids = symbols
        // ranks[i] is the rank of the pair (ids[i], ids[i + 1]).
        var ranks = [UInt32](unsafeUninitializedCapacity: ids.count - 1) { buffer, initialized in
            for i in 0..<(ids.count - 1) { buffer[i] = rank(ids[i], ids[i + 1]) }
            initialized = ids.count - 1
        }
        while true {
            var best = Self.noRank
            var position = -1
            for i in 0..<ranks.count where ranks[i] < best {
                best = ranks[i]
                position = i
            }
            guard position >= 0, let merge = lookup(ids[position], ids[position + 1]) else { break }
            ids[position] = merge.merged
            ids.remove(at: position + 1)
            ranks.remove(at: position)
            if position > 0 { ranks[position - 1] = rank(ids[position - 1], ids[position]) }
            if position < ranks.count { ranks[position] = rank(ids[position], ids[position + 1]) }
        }
        return ids
    }

    private func mergeWithHeap(_ symbols: [Int32]) -> [Int32] {
        let count = symbols.count
        var ids = symbols
        var next = (0..<count).map { $0 + 1 }  // `count` = none
        var previous = (0..<count).map { $0 - 1 }  // -1 = none
        var alive = [Bool](repeating: true, count: count)
        // Entries are rank << 32 | position, so the smallest is the lowest
        // rank and, among equal ranks, the leftmost pair.
        var heap = MinHeap()
        for i in 0..<(count - 1) {
            let r = rank(ids[i], ids[i + 1])
            if r != Self.noRank { heap.push(UInt64(r) << 32 | UInt64(i)) }
        }
        while let entry = heap.pop() {
            let position = Int(entry & 0xFFFF_FFFF)
            let entryRank = UInt32(entry >> 32)
            let right = next[position]
            // Skip entries made stale by earlier merges.
            guard alive[position], right < count,
                let merge = lookup(ids[position], ids[right]), merge.rank == entryRank
            else { continue }
            ids[position] = merge.merged
            alive[right] = false
            let after = next[right]
            next[position] = after
            if after < count { previous[after] = position }
            let before = previous[position]
            if before >= 0 {
                let r = rank(ids[before], ids[position])
                if r != Self.noRank { heap.push(UInt64(r) << 32 | UInt64(before)) }
            }
            if after < count {
                let r = rank(ids[position], ids[after])
                if r != Self.noRank { heap.push(UInt64(r) << 32 | UInt64(position)) }
            }
        }
        var result: [Int32] = []
        var i = 0
        while i < count {
            result.append(ids[i])
            i = next[i]
        }
        return result
    }
}

/// A binary min-heap of packed `UInt64` keys (no generic overhead in debug builds).
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ value: UInt64) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left] < items[smallest] { smallest = left }
                if right < items.count, items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
