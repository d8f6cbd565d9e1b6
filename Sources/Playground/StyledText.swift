/// A line made of differently styled runs (buffer text, ghost tokens, labels).
struct StyledLine {
    var runs: [(text: String, style: CellStyle)] = []
    /// Width in terminal columns (漢 takes two).
    var length: Int { runs.reduce(0) { $0 + DisplayWidth.of($1.text) } }

    mutating func append(_ text: String, _ style: CellStyle) {
        if !text.isEmpty { runs.append((text, style)) }
    }

    /// Draw the columns [skip, skip + width) of this line at (row, column). Columns are display
    /// columns: a wide character cut by either edge shows as a blank in the half that is inside,
    /// as terminals do, so nothing after it moves.
    func draw(on screen: Screen, row: Int, column: Int, skip: Int, width: Int) {
        let end = skip + width
        var position = 0
        for run in runs {
            var piece = "", pieceStart = max(position, skip)
            func flush() {
                if !piece.isEmpty { screen.put(piece, row: row, column: column + pieceStart - skip, style: run.style) }
                piece = ""
            }
            for ch in run.text {
                let w = DisplayWidth.of(ch)
                if position >= end && w > 0 { break }
                if position >= skip && position + w <= end {
                    if piece.isEmpty { pieceStart = position }
                    piece.append(ch)
                } else if position + w > skip && position < end {
                    // Half of a wide character: a blank where its visible half would be.
                    flush()
                    pieceStart = max(position, skip)
                    piece = " "
                    flush()
                }
                position += w
            }
            flush()
            if position >= end { break }
        }
    }
}

/// Pads or cuts `text` to exactly `width` columns.
func fit(_ text: String, _ width: Int) -> String {
    let (cut, used) = prefix(of: text, fitting: max(0, width))
    return cut + String(repeating: " ", count: max(0, width - used))
}
