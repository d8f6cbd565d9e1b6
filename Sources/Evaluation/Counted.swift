/// "1 token", "2 tokens": a count with its noun, singular for one (regular plurals only).
public func counted(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
