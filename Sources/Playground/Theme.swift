/// How many colours the terminal offers (NO_COLOR counts as none).
public enum ColorMode: String, Sendable {
    case none, eight, full256
}

/// Every style the playground draws with, for one colour mode. The exit-layer ramp goes from
/// shallow (cheap, green) to deep (expensive, red); without colour the same steps are carried
/// by attributes: shallow underlined, middle plain, deep bold.
public struct Theme: Sendable {
    public let mode: ColorMode

    public init(mode: ColorMode) { self.mode = mode }

    static let ramp256 = [46, 118, 190, 220, 208, 196]
    static let ramp8 = [2, 6, 3, 5, 1]

    /// Number of distinct ramp steps in this mode.
    public var rampSteps: Int {
        switch mode {
        case .none: return 3
        case .eight: return Self.ramp8.count
        case .full256: return Self.ramp256.count
        }
    }

    /// The ramp step of `layer` (1-based) in a model of `layerCount` layers.
    public func step(layer: Int, layerCount: Int) -> Int {
        guard layerCount > 1 else { return rampSteps - 1 }
        let t = Double(min(max(layer, 1), layerCount) - 1) / Double(layerCount - 1)
        return min(rampSteps - 1, Int((t * Double(rampSteps)).rounded(.down)))
    }

    /// Style of a ghost token that exited at `layer`.
    public func layer(_ layer: Int, of layerCount: Int) -> CellStyle {
        let s = step(layer: layer, layerCount: layerCount)
        switch mode {
        case .none:
            return CellStyle(bold: s == 2, dim: s == 1, underline: s == 0)
        case .eight:
            return CellStyle(foreground: .ansi(Self.ramp8[s]), bold: s == rampSteps - 1)
        case .full256:
            return CellStyle(foreground: .palette(Self.ramp256[s]))
        }
    }

    public var text: CellStyle { .plain }
    public var lineNumber: CellStyle { mode == .none ? CellStyle(dim: true) : CellStyle(foreground: mode == .full256 ? .palette(244) : .ansi(6)) }
    public var currentLineNumber: CellStyle { CellStyle(bold: true) }
    public var bar: CellStyle { CellStyle(reverse: true) }
    public var barKey: CellStyle { mode == .none ? CellStyle(bold: true) : CellStyle(foreground: .ansi(0), background: .ansi(6)) }
    public var barLabel: CellStyle { mode == .none ? CellStyle(reverse: true) : CellStyle(foreground: .ansi(7), background: .ansi(4)) }
    public var heading: CellStyle { CellStyle(bold: true) }
    public var muted: CellStyle { CellStyle(dim: true) }
    public var warning: CellStyle { mode == .none ? CellStyle(bold: true) : CellStyle(foreground: .ansi(3), bold: true) }
    public var error: CellStyle { mode == .none ? CellStyle(bold: true, reverse: true) : CellStyle(foreground: .ansi(1), bold: true) }
    public var selected: CellStyle { CellStyle(reverse: true) }
    public var border: CellStyle { mode == .none ? .plain : CellStyle(foreground: .ansi(4)) }
}
