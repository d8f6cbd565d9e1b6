import Model

/// The one seeded generator of the tests (SplitMix64, the one sampling uses), so a random test
/// fails the same way every run.
public typealias SeededRandom = SplitMix64
