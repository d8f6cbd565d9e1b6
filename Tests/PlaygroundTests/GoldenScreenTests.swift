import Completion
import Foundation
import Testing
@testable import Playground

/// Whole-screen goldens of the main states, compared exactly (text, every cell's style).
/// `EXITLENS_UPDATE_GOLDEN=1 swift test --filter GoldenScreenTests` rewrites them.
@Suite struct GoldenScreenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/golden")
    static let source = "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    ret\n"
    static let tokens = [Fixtures.token(10, "urn", layer: 1, topTokens: true), Fixtures.token(11, " a", layer: 3, topTokens: true),
                         Fixtures.token(12, "\n\n", layer: 4, topTokens: true), Fixtures.token(13, "def", layer: 6, topTokens: true)]

    func check(_ screen: MemoryScreen, _ name: String) throws {
        let actual = screen.dump()
        let url = Self.directory.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["EXITLENS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if actual != expected {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = Array(zip(a, e)).firstIndex { $0 != $1 } ?? min(a.count, e.count)
            Issue.record("\(name): screen differs from golden at dump line \(first + 1):\n got: \(first < a.count ? a[first] : "")\nwant: \(first < e.count ? e[first] : "")")
        }
    }

    func atEndOfRet(_ h: Harness) {
        h.press(.down, .down, .down, .down, .end)
    }

    @Test func emptyBuffer() throws {
        try check(Harness().render(), "empty")
    }

    @Test func ghostTextStreaming() throws {
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.tokens, hold: true))
        atEndOfRet(h)
        h.press(.ctrlSpace)
        h.waitForTokens(4)
        try check(h.render(), "streaming")
        h.engine.release()
    }

    @Test func ghostTextWithoutColour() throws {
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.tokens), mode: .none)
        atEndOfRet(h)
        h.press(.ctrlSpace)
        h.waitForModel()
        try check(h.render(), "nocolor")
    }

    @Test func stopped() throws {
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: [], stop: Fixtures.stopTrace(layer: 4, p: 0.93)))
        atEndOfRet(h)
        h.press(.ctrlSpace)
        h.waitForModel()
        try check(h.render(), "stopped")
    }

    @Test func inspectorOpen() throws {
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.tokens), height: 36)
        atEndOfRet(h)
        h.press(.function(4), .ctrlSpace)
        h.waitForModel()
        h.press(.alt("n"))
        try check(h.render(), "inspector")
    }

    @Test func help() throws {
        let h = Harness(text: Self.source)
        h.press(.function(1))
        try check(h.render(), "help")
    }

    /// A suggestion whose tokens exited at `layers` in a model of `L` layers (first from the prompt pass).
    static func deepTokens(_ layers: [Int], of L: Int) -> [GeneratedToken] {
        let texts = ["urn", " a", " +", " b", "\n", "\n", "def", " main", "():", "\n", "    ", "pass"]
        return layers.enumerated().map { i, layer in
            Fixtures.token(20 + i, texts[i % texts.count], layer: layer, topTokens: true, layerCount: L)
        }
    }

    /// The numbered legend, exit strip and histogram at 12 and 30 layers, in 256 colours,
    /// truecolor, 8 colours and without colour.
    @Test(arguments: [(12, ColorMode.full256), (30, .full256), (30, .truecolor), (30, .eight), (30, .none), (64, .full256)])
    func legendPerLayer(layers L: Int, mode: ColorMode) throws {
        let exits = [L, 1, L / 3, L / 2, L - 1, 2, L]
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.deepTokens(exits, of: L)), mode: mode,
                        width: 140, height: 40, policy: .fixed, model: Fixtures.model(layers: L))
        atEndOfRet(h)
        h.press(.ctrlSpace)
        h.waitForModel()
        try check(h.render(), "legend-\(L)L-\(mode.rawValue)")
    }

    /// 80×24: the sidebar folds into one status line and the code keeps the width.
    @Test func smallTerminal() throws {
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.deepTokens([30, 4, 12, 29], of: 30)),
                        width: 80, height: 24, policy: .fixed, model: Fixtures.model(layers: 30))
        atEndOfRet(h)
        h.press(.ctrlSpace)
        h.waitForModel()
        let screen = h.render()
        try check(screen, "small-80x24")
        // No stray cells: every row is the editor, the one-line summary, status or key bar.
        #expect(screen.row(21).hasPrefix("│ fixed"))
        h.press(.function(1))
        try check(h.render(), "small-80x24-help")
    }

    @Test func tooSmall() throws {
        try check(Harness(width: 50, height: 10).render(), "too-small")
    }
}

extension GoldenScreenTests {
    /// The inspector at 30 layers: the selected ghost token reversed in the editor, the layers
    /// around its exit layer when not all fit, no line cut; then the first token, which has
    /// no per-layer decisions.
    @Test func inspectorAt30Layers() throws {
        let exits = [30, 24, 12, 29]
        let h = Harness(text: Self.source, engine: ScriptedEngine(tokens: Self.deepTokens(exits, of: 30)), width: 140, height: 40,
                        policy: .sec, model: Fixtures.model(layers: 30))
        atEndOfRet(h)
        h.press(.function(4), .ctrlSpace)
        h.waitForModel()
        let requests = h.engine.requests.count
        h.press(.alt("n"), .alt("n"))
        try check(h.render(), "inspector-30L")
        h.press(.alt("p"), .alt("p"), .alt("p"))
        try check(h.render(), "inspector-30L-first")
        #expect(h.engine.requests.count == requests) // selecting never asks the model
    }
}
