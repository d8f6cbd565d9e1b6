/// A line made of differently styled runs (buffer text, ghost tokens, labels).
struct StyledLine {
    var runs: [(text: String, style: CellStyle)] = []
    var length: Int { runs.reduce(0) { $0 + $1.text.count } }

    mutating func append(_ text: String, _ style: CellStyle) {
        if !text.isEmpty { runs.append((text, style)) }
    }

    /// Draw the columns [skip, skip + width) of this line at (row, column).
    func draw(on screen: Screen, row: Int, column: Int, skip: Int, width: Int) {
        var position = 0
        for run in runs {
            let count = run.text.count
            let start = max(position, skip), end = min(position + count, skip + width)
            if start < end {
                let piece = run.text.dropFirst(start - position).prefix(end - start)
                screen.put(String(piece), row: row, column: column + start - skip, style: run.style)
            }
            position += count
            if position >= skip + width { break }
        }
    }
}

/// Pads or cuts `text` to exactly `width` columns.
func fit(_ text: String, _ width: Int) -> String {
    let n = text.count
    if n >= width { return String(text.prefix(max(0, width))) }
    return text + String(repeating: " ", count: width - n)
}
