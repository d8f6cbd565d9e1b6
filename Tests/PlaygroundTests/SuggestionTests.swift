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
        #expect(CursesScreen.controlSequence("1~") == .home)
        #expect(CursesScreen.controlSequence("4~") == .end)
        #expect(CursesScreen.controlSequence("1;5C") == .ctrlRight)
        #expect(CursesScreen.controlSequence("17~") == .function(6))
        #expect(CursesScreen.controlSequence("99~") == nil)
    }

    @Test func themeRampCoversShallowToDeep() {
        let t = Theme(mode: .full256)
        #expect(t.step(layer: 1, layerCount: 12) == 0)
        #expect(t.step(layer: 12, layerCount: 12) == t.rampSteps - 1)
        let mono = Theme(mode: .none)
        // Without colour the steps stay distinguishable through attributes.
        let styles = Set((1...6).map { mono.layer($0, of: 6) })
        #expect(styles.count == 3)
        #expect(!styles.contains(.plain))
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

