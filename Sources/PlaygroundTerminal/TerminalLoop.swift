import Foundation
import Playground

/// Signal number caught (0: none). Written by the handler, read by the loop.
nonisolated(unsafe) private var caughtSignal: Int32 = 0
/// Write end of the self-pipe: the handler's only job is to wake `poll` (async-signal-safe).
nonisolated(unsafe) private var signalWakeFD: Int32 = -1


/// The interactive loop: `poll` on the keyboard and a wake pipe the worker and signal
/// handlers write to, so the process sleeps until something happens (no busy loop), wakes for
/// the debounce deadline, and redraws after every batch.
public struct TerminalLoop {
    public let session: PlaygroundSession
    public let screen: CursesScreen
    private let wakeRead: Int32

    /// `wakeRead` is the read end of the pipe the worker's `wake` writes to.
    public init(session: PlaygroundSession, screen: CursesScreen, wakeRead: Int32, wakeWrite: Int32) {
        self.session = session
        self.screen = screen
        self.wakeRead = wakeRead
        signalWakeFD = wakeWrite
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { number in
                caughtSignal = number
                var byte: UInt8 = 1
                _ = write(signalWakeFD, &byte, 1)
            }
        }
    }

    /// Runs until Ctrl-Q; returns the exit status (128+n after signal n).
    public func run() -> Int32 {
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var scratch = [UInt8](repeating: 0, count: 256)
        session.render(to: screen)
        while true {
            var timeout: Int32 = -1
            if let deadline = session.nextDeadline {
                timeout = Int32(max(0, min(60_000, (deadline - monotonicSeconds()) * 1000 + 1)))
            }
            // Look at the file on disk about once a second (a stat; the bytes only when it moved).
            if session.path != nil { timeout = timeout < 0 ? 1000 : min(timeout, 1000) }
            if screen.hasBufferedInput { timeout = 0 }
            _ = poll(&fds, 2, timeout)
            while read(wakeRead, &scratch, scratch.count) > 0 {}
            if caughtSignal != 0 { return handleSignal(caughtSignal) }
            // The terminal went away without a SIGHUP reaching us (its shell ignored it):
            // stdin reports a hangup for ever, so stop as SIGHUP would, keeping the text.
            if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return handleSignal(SIGHUP) }
            let now = monotonicSeconds()
            session.receive(session.drainWorker(), now: now)
            for key in screen.readKeys() {
                if key == .resize { session.resize(width: screen.width, height: screen.height) }
                if session.handle(key, now: monotonicSeconds()) == .quit { return 0 }
            }
            session.tick(now: monotonicSeconds())
            session.checkDisk()
            session.render(to: screen)
        }
    }

    /// SIGINT/SIGTERM/SIGHUP: keep the user's text in a recovery file, restore the terminal.
    /// After SIGHUP the terminal is gone, so every write to it may fail: nothing here may trap
    /// on that (FileHandle.write traps on EIO; a plain write(2) just returns an error).
    private func handleSignal(_ number: Int32) -> Int32 {
        session.shutdown()
        session.keepUnsavedText()
        screen.end()
        let note = session.farewell.map { "; " + $0 } ?? ""
        writeToStandardError("exitlens: stopped by signal \(number)\(note)\n")
        return 128 + number
    }
}

/// Best effort: the terminal may be gone (SIGHUP), and then there is no one to tell.
public func writeToStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
