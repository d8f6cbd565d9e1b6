import EarlyExit
import Testing
@testable import Playground

@Suite struct SuggestionTests {
    func suggestion(_ texts: [String]) -> Suggestion {
        var s = Suggestion(job: 1)
        for (i, t) in texts.enumerated() { s.append(Fixtures.token(i, t, layer: i + 1)) }
        return s
    }

    @Test func dropPrefixSpansPiecesAndKeepsLayers() {
        var s = suggestion(["ret", "urn", " a"])
        s.dropPrefix(4)
        #expect(s.text == "rn a")
        #expect(s.pieces.map(\.layer) == [2, 3])
    }

    @Test func nextWordAndLine() {
        let s = suggestion(["  total", "(x", ")\n", "    pass"])
        #expect(s.nextWord == "  total")
        #expect(s.nextLine == "  total(x)\n")
        var t = suggestion(["(", "x"])
        #expect(t.nextWord == "(")
        t.dropPrefix(2)
        #expect(t.nextWord == "")
    }

    @Test func percentiles() {
        #expect(SessionStats.percentile([], 50) == nil)
        #expect(SessionStats.percentile([3, 1, 2, 4], 50) == 2)
        #expect(SessionStats.percentile(Array(1...100).map(Double.init), 95) == 95)
    }

    @Test func keyNamesParse() {
        #expect(Key(name: "Ctrl-S") == .ctrl("s"))
        #expect(Key(name: "Alt-]") == .alt("]"))
        #expect(Key(name: "F2") == .function(2))
        #expect(Key(name: "Alt-Enter") == .alt("\n"))
        #expect(Key(name: "bogus") == nil)
    }

    @Test func controlSequencesTerminfoMayNotKnow() {
        #expect(Key.controlSequence("1~") == .home)
        #expect(Key.controlSequence("4~") == .end)
        #expect(Key.controlSequence("1;5C") == .ctrlRight)
        #expect(Key.controlSequence("17~") == .function(6))
        #expect(Key.controlSequence("99~") == nil)
    }

    @Test func themeRampCoversShallowToDeep() {
        let t = Theme(mode: .eight)
        #expect(t.step(layer: 1, layerCount: 12) == 0)
        #expect(t.step(layer: 12, layerCount: 12) == t.rampSteps(layerCount: 12) - 1)
        let mono = Theme(mode: .none)
        // Without colour the steps stay distinguishable through attributes.
        let styles = Set((1...6).map { mono.layer($0, of: 6) })
        #expect(styles.count == 3)
        #expect(!styles.contains(.plain))
    }
}

@Suite struct LayerRampTests {
    /// One distinct colour per layer, for every depth up to 64, in 256 colours and truecolor.
    @Test(arguments: [ColorMode.full256, .truecolor]) func everyLayerHasItsOwnColour(mode: ColorMode) {
        let theme = Theme(mode: mode)
        for L in 1...64 {
            let colours = (1...L).map { theme.layer($0, of: L).foreground }
            #expect(Set(colours).count == L, "\(mode) L=\(L): \(Set(colours).count) distinct colours")
        }
    }

    /// Shallow is blue, deep is red (as the README says), and the ramp moves through the middle.
    @Test func rampRunsBlueToRed() {
        guard case .rgb(let r1, _, let b1) = Theme.rgb(layer: 1, layerCount: 30),
              case .rgb(let r30, _, let b30) = Theme.rgb(layer: 30, layerCount: 30) else { Issue.record("not rgb"); return }
        #expect(b1 > 200 && r1 < 100)
        #expect(r30 > 200 && b30 < 60)
        let palette = Theme.palette(layerCount: 12)
        #expect(palette.first == 16 + 36 * 1 + 6 * 1 + 5 || palette.first == 16 + 36 * 0 + 6 * 1 + 5)
        #expect(palette.last == 196 || palette.last == 160)
    }

    /// 8 colours and no colour: bands that cover every layer once, in order, each numbered.
    @Test(arguments: [ColorMode.eight, .none]) func bandsPartitionTheLayers(mode: ColorMode) {
        let theme = Theme(mode: mode)
        for L in [1, 2, 6, 12, 30, 64] {
            let bands = (0..<theme.rampSteps(layerCount: L)).map { theme.band($0, layerCount: L) }
            #expect(bands.flatMap { Array($0) } == Array(1...L), "L=\(L): \(bands)")
            for (i, band) in bands.enumerated() {
                for layer in band { #expect(theme.step(layer: layer, layerCount: L) == i) }
            }
        }
    }

    /// Without colour every depth and the first token are distinct from plain text and each other.
    @Test func noColourDepthIsNeverPlain() {
        let mono = Theme(mode: .none)
        for L in [3, 12, 30, 64] {
            let styles = Set((1...L).map { mono.layer($0, of: L) })
            #expect(styles.count == 3)
            #expect(!styles.contains(.plain))
            #expect(!styles.contains(mono.prefillToken))
        }
    }
}

@Suite struct PolicyKnobsTests {
    @Test func cycleSkipsWhatTheModelCannotRun() {
        var k = PolicyKnobs(.full, layerCount: 6)
        k.cycle { $0.kind != .sec }
        #expect(k.kind == .softmax)
        k.cycle { _ in true }
        #expect(k.kind == .saturation)
    }

    @Test func adjustClampsAndSelects() {
        var k = PolicyKnobs(.sec, layerCount: 6)
        k.adjust(by: 1)
        #expect(k.configuration.tauExit == 0.95)
        k.adjust(by: 10)
        #expect(k.configuration.tauExit == 1.05)
        k.selectNextKnob()
        k.adjust(by: -2)
        #expect(k.configuration.tauStop == 0.7)
        #expect(k.summary == "sec τexit=1.05 ▸τstop=0.7")
        var f = PolicyKnobs(.fixed, layerCount: 6)
        f.adjust(by: 100)
        #expect(f.configuration.exitLayer == 6)
    }
}

