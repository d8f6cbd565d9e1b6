import CFuzzer
import Foundation
import Tokenizer

/// Scratch files for targets whose code under test reads files, and shared checks.
public enum FuzzScratch {
    /// A per-process directory on tmpfs (/dev/shm) when there is one: each input is written
    /// to a file, and tmpfs keeps that from dominating the run.
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("exitlens-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: "/dev/shm/exitlens-fuzz-\(getpid())") }
        return url
    }()

    public static func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// A tokenizer that loaded must round-trip any bytes: the input's own prefix and a few probes.
    public static func checkRoundTrip(_ tokenizer: BPETokenizer, _ sample: [UInt8]) {
        for probe in [sample, Array("def f(x):\n\treturn x  # é 漢 <|endoftext|>".utf8), [0xff, 0x00, 0xc3]] {
            let ids = tokenizer.encode(bytes: probe)
            fuzzCheck(ids.allSatisfy { tokenizer.tokenBytes($0) != nil || tokenizer.specialTokens.values.contains($0) },
                      "encode produced an id with no bytes")
            fuzzCheck(tokenizer.decode(ids) == probe, "decode(encode(x)) != x for a loaded tokenizer: \(probe) -> \(ids)")
        }
    }
}

/// `precondition` that says why in the release builds the fuzzers run as (-O drops
/// precondition's message, leaving CI's log with a bare "deadly signal").
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("Fuzz check failed: \(message()) (\(file):\(line))\n".utf8))
    abort()
}

/// Hands control to libFuzzer with `test` as the target (arguments as libFuzzer takes them:
/// a corpus directory, -max_total_time=N, -runs=N…).
public func runFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    // Leak detection is off (ASAN_OPTIONS=detect_leaks=0: Foundation's caches look like leaks), but
    // libFuzzer still ran every new-coverage input a second time to look for one; -detect_leaks=0
    // stops that. (A later flag on the command line still wins.)
    var arguments = CommandLine.arguments
    arguments.insert("-detect_leaks=0", at: min(1, arguments.count))
    var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    var argc = CInt(arguments.count)
    exit(cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
        var argv = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &argv, test)
    })
}

/// Something to point at for the empty input (libFuzzer may pass a null pointer then).
public let emptyInput: UnsafePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    p.initialize(to: 0)
    return UnsafePointer(p)
}()
