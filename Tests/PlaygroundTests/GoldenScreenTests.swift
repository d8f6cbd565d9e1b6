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

    @Test func tooSmall() throws {
        try check(Harness(width: 50, height: 10).render(), "too-small")
    }
}
