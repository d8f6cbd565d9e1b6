// swift-tools-version: 6.0
// libFuzzer targets for ExitLens (issue #13). A separate package so that the main build and
// `swift test` never see `-sanitize=fuzzer`. Build and run with `make fuzz` from the repository
// root, or by hand:
//
//     cd fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --product FuzzConfig
//     .build/release/FuzzConfig corpus/config -max_total_time=60
//
// Build one product at a time: a plain `swift build` would also link the main package's
// `exitlens` with libFuzzer, which fails. On Linux SwiftPM links executables with
// `--defsym main=<Target>_main`, so each target's main.swift hands its test function to
// libFuzzer's driver itself (`runFuzzer`). gold crashes reporting link errors; lld does not.
import PackageDescription

let fuzzed: [Target.Dependency] = [.product(name: "ExitLensFuzzable", package: "ExitLens"), "FuzzSupport"]

let package = Package(
    name: "ExitLensFuzz",
    dependencies: [.package(name: "ExitLens", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer", .product(name: "ExitLensFuzzable", package: "ExitLens")]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: fuzzed),
        .executableTarget(name: "FuzzConfig", dependencies: fuzzed),
        .executableTarget(name: "FuzzTokenizerJSON", dependencies: fuzzed),
        .executableTarget(name: "FuzzVocabMerges", dependencies: fuzzed),
        .executableTarget(name: "FuzzBPERoundTrip", dependencies: fuzzed),
        .executableTarget(name: "FuzzEditor", dependencies: fuzzed),
        .executableTarget(name: "FuzzGGUF", dependencies: fuzzed),
    ],
    // Harness globals (loaded tokenizers, scratch paths) are read from libFuzzer's callback;
    // Swift 5 mode keeps that simple, and none of this code ships.
    swiftLanguageModes: [.v5]
)
