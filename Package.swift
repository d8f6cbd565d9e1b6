// swift-tools-version: 6.0
import PackageDescription

// The engine's inner loops rely on SIMD fused multiply-add. Swift targets
// baseline x86-64 by default, where `addingProduct` becomes a library call
// (~30x slower), so numeric targets are compiled for Haswell (AVX2 + FMA).
// They are also optimised in debug builds: the parity and speculative tests run
// thousands of forward passes, ~50x slower unoptimised.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "ExitLens",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "exitlens", targets: ["exitlens"]),
        // For the libFuzzer package under fuzz/, which links the targets it fuzzes by path.
        .library(name: "ExitLensFuzzable", targets: ["SafeTensors", "GGUF", "Tokenizer", "Model", "Completion", "Playground"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Half-precision panel products in C: Swift does not vectorise Float16 widening (F16C).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-mf16c"])]),
        // Low-level numeric kernels: matrix-vector, matrix-matrix, norms, a tiny thread pool.
        .target(name: "Kernels", dependencies: ["CKernels"], swiftSettings: engineFlags),
        // Atomic whole-file writes (temporary file, fsync, rename), shared by the writers below and the playground.
        .target(name: "FileIO"),
        // Validating reader (and writer) for the safetensors format.
        .target(name: "SafeTensors", dependencies: ["FileIO"]),
        // Validating reader (and writer) for llama.cpp's GGUF format.
        .target(name: "GGUF", dependencies: ["FileIO"]),
        // GPT-2 byte-level BPE.
        .target(name: "Tokenizer"),
        // Architectures (GPT-2, Llama/Qwen2) behind one Transformer protocol; weights from
        // safetensors or GGUF; KV cache; sampling.
        .target(name: "Model", dependencies: ["Kernels", "SafeTensors", "GGUF"], swiftSettings: engineFlags),
        // Dynamic inference: exit heads, Stop&Exit Controller, policies, state copying, speculative decoding.
        .target(name: "EarlyExit", dependencies: ["Kernels", "Model", "SafeTensors"], swiftSettings: engineFlags),
        // Completion sessions: prompt → streamed tokens, with timings.
        .target(name: "Completion", dependencies: ["EarlyExit", "GGUF", "Kernels", "Model", "Tokenizer"], swiftSettings: engineFlags),
        // Study, evaluation and benchmarks, beside Completion.
        .target(name: "Evaluation", dependencies: ["Completion", "EarlyExit", "Model", "Tokenizer", "Kernels"], swiftSettings: engineFlags),
        // ncursesw for the playground (system library; the shim wraps macros Swift cannot import).
        .systemLibrary(name: "CNcurses"),
        // The terminal playground: editor, ghost text coloured by exit layer, sidebar, inspector.
        .target(name: "Playground", dependencies: ["Completion", "EarlyExit", "FileIO", "Model"]),
        // The playground's terminal side, apart from its core as swift-nio keeps transports apart:
        // the ncurses `Screen` and the poll loop. Everything else is tested without a terminal.
        .target(name: "PlaygroundTerminal", dependencies: ["Playground", "CNcurses"]),
        // The thin command-line front end.
        .executableTarget(
            name: "exitlens",
            dependencies: [
                "Completion", "EarlyExit", "Evaluation", "Model", "Tokenizer", "Playground", "PlaygroundTerminal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: engineFlags
        ),
        // Shared by the tests: one seeded RNG, temporary directories, and the early-exit fixture
        // models (found through its own bundle, not by paths into another target).
        .target(
            name: "TestSupport",
            dependencies: ["EarlyExit", "Model", "SafeTensors"],
            path: "Tests/TestSupport",
            resources: [.copy("Resources")]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], resources: [.copy("Resources")], swiftSettings: engineFlags),
        .testTarget(name: "FileIOTests", dependencies: ["FileIO"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TestSupport"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(
            name: "EarlyExitTests",
            dependencies: ["EarlyExit", "Kernels", "Model", "SafeTensors", "TestSupport"],
            swiftSettings: engineFlags
        ),
        .testTarget(
            name: "CompletionTests",
            dependencies: ["Completion", "EarlyExit", "Model", "TestSupport"],
            swiftSettings: engineFlags
        ),
        .testTarget(
            name: "PlaygroundTests",
            dependencies: ["Playground", "Completion", "EarlyExit", "TestSupport"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Completion", "EarlyExit", "Model", "TestSupport"],
            resources: [.copy("Resources")],
            swiftSettings: engineFlags
        ),
        .testTarget(
            name: "exitlensTests",
            dependencies: ["exitlens", "EarlyExit", "Model", "Playground", "SafeTensors"],
            swiftSettings: engineFlags
        ),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model", "Kernels", "SafeTensors", "GGUF", "Tokenizer"],
            resources: [.copy("Resources")],
            swiftSettings: engineFlags
        ),
    ]
)
