import Synchronization

/// How many colours the terminal offers (NO_COLOR counts as none).
public enum ColorMode: String, Sendable {
    case none, eight, full256, truecolor
}

/// Every style the playground draws with, for one colour mode.
///
/// The exit-layer ramp goes from shallow (cheap, blue) through cyan, green and yellow to deep
/// (expensive, red). With 256 colours or truecolor every layer of a model of up to 64 layers
/// (and more) gets its own colour; with 8 colours layers share a few numbered bands; without
/// colour the depth is carried by attribute steps (underline, underline+bold, bold) and the
/// numbers in the sidebar and the inspector.
public struct Theme: Sendable {
    public let mode: ColorMode

    public init(mode: ColorMode) { self.mode = mode }

    /// Anchors of the continuous ramp, shallow to deep (RGB).
    static let anchors: [(Double, Double, Double)] = [
        (60, 100, 255), (0, 190, 255), (40, 215, 90), (235, 220, 0), (255, 140, 0), (225, 25, 25),
    ]
    /// 8-colour bands, shallow to deep: blue, cyan, green, yellow, red.
    static let ramp8 = [4, 6, 2, 3, 1]
    /// The six intensities of the xterm 6×6×6 colour cube.
    static let cubeLevels = [0, 95, 135, 175, 215, 255]

    /// The ramp's colour at `t` in 0…1.
    static func rampColor(_ t: Double) -> (Double, Double, Double) {
        let x = min(max(t, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(x), anchors.count - 2)
        let f = x - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// Position of `layer` (1-based) on the ramp of a `layerCount`-layer model.
    static func position(layer: Int, layerCount: Int) -> Double {
        guard layerCount > 1 else { return 1 }
        return Double(min(max(layer, 1), layerCount) - 1) / Double(layerCount - 1)
    }

    /// Truecolor: one point of the ramp per layer.
    public static func rgb(layer: Int, layerCount: Int) -> TerminalColor {
        let c = rampColor(position(layer: layer, layerCount: layerCount))
        return .rgb(Int(c.0.rounded()), Int(c.1.rounded()), Int(c.2.rounded()))
    }

    /// 256 colours: for each layer, shallow first, the cube colour nearest its ramp point that no
    /// shallower layer took, so up to 216 layers get distinct colours that still follow the ramp.
    public static func palette(layerCount: Int) -> [Int] {
        let n = max(1, layerCount)
        // Every ghost token's style asks for it, so it is computed once per layer count: a search
        // over the cube per layer is ~6,500 set lookups, which made a frame cost milliseconds.
        if let known = paletteCache.withLock({ $0[n] }) { return known }
        let out = nearestDistinctColours(layerCount: n)
        paletteCache.withLock { $0[n] = out }
        return out
    }

    private static let paletteCache = Mutex<[Int: [Int]]>([:])

    private static func nearestDistinctColours(layerCount n: Int) -> [Int] {
        var used = Set<Int>()
        var out: [Int] = []
        out.reserveCapacity(n)
        for layer in 1...n {
            let target = rampColor(position(layer: layer, layerCount: n))
            var best = 16, bestDistance = Double.infinity
            for index in 16..<232 where !used.contains(index) {
                let c = cubeRGB(index)
                let d = (c.0 - target.0) * (c.0 - target.0) + (c.1 - target.1) * (c.1 - target.1) + (c.2 - target.2) * (c.2 - target.2)
                if d < bestDistance { bestDistance = d; best = index }
            }
            used.insert(best)
            out.append(best)
        }
        return out
    }

    static func cubeRGB(_ index: Int) -> (Double, Double, Double) {
        let i = index - 16
        return (Double(cubeLevels[i / 36]), Double(cubeLevels[(i / 6) % 6]), Double(cubeLevels[i % 6]))
    }

    /// Number of bands (8 colours, no colour) or colours (256, truecolor) for `layerCount` layers.
    public func rampSteps(layerCount: Int) -> Int {
        switch mode {
        case .none: return min(3, max(1, layerCount))
        case .eight: return min(Self.ramp8.count, max(1, layerCount))
        case .full256, .truecolor: return max(1, layerCount)
        }
    }

    /// The band (or colour) index of `layer`, 0 = shallowest.
    public func step(layer: Int, layerCount: Int) -> Int {
        let steps = rampSteps(layerCount: layerCount)
        let l = min(max(layer, 1), max(1, layerCount))
        return min(steps - 1, (l - 1) * steps / max(1, layerCount))
    }

    /// The layers (first, last) of band `step`.
    public func band(_ step: Int, layerCount: Int) -> ClosedRange<Int> {
        let steps = rampSteps(layerCount: layerCount), L = max(1, layerCount)
        // Smallest layer l with (l-1)*steps/L >= step.
        let first = (step * L + steps - 1) / steps + 1
        let last = ((step + 1) * L + steps - 1) / steps
        return first...max(first, last)
    }

    /// Style of a ghost token that exited at `layer`.
    public func layer(_ layer: Int, of layerCount: Int) -> CellStyle {
        switch mode {
        case .none:
            let s = step(layer: layer, layerCount: layerCount)
            let steps = rampSteps(layerCount: layerCount)
            // Every step carries an attribute, so no depth looks like plain text.
            return CellStyle(bold: s > 0 && (s == steps - 1 || s == 1), underline: s < steps - 1 || steps == 1)
        case .eight:
            let s = step(layer: layer, layerCount: layerCount)
            return CellStyle(foreground: .ansi(Self.ramp8[min(s, Self.ramp8.count - 1)]))
        case .full256:
            let palette = Self.palette(layerCount: layerCount)
            return CellStyle(foreground: .palette(palette[min(max(layer, 1), palette.count) - 1]))
        case .truecolor:
            return CellStyle(foreground: Self.rgb(layer: layer, layerCount: layerCount))
        }
    }

    /// The first token of a suggestion comes from the prompt's full-depth pass, not from a
    /// decision of the policy: it is drawn apart from the ramp (grey, underlined; dim without colour).
    public var prefillToken: CellStyle {
        switch mode {
        case .none: return CellStyle(dim: true)
        case .eight: return CellStyle(foreground: .ansi(7), underline: true)
        case .full256: return CellStyle(foreground: .palette(250), underline: true)
        case .truecolor: return CellStyle(foreground: .rgb(200, 200, 200), underline: true)
        }
    }

    public var text: CellStyle { .plain }
    public var lineNumber: CellStyle { mode == .none ? CellStyle(dim: true) : CellStyle(foreground: mode == .eight ? .ansi(6) : .palette(244)) }
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
