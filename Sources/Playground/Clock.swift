import Dispatch
import Foundation

/// Monotonic seconds, for debounce and latency.
public func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// A non-blocking pipe whose write end wakes a `poll` loop (the completion worker and signal
/// handlers write a byte to it).
public func makeWakePipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    return (fds[0], fds[1])
}
