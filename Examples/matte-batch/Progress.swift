import Foundation
import MattingFiles
import MattingKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Standard output, unbuffered, with a status line that can be redrawn in place on a terminal.
final class Console: Sendable {
    /// Whether standard output is a terminal (then the progress bar is drawn).
    let isTerminal = isatty(STDOUT_FILENO) == 1

    /// The terminal's width in columns (80 if unknown).
    var columns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    init() {
        // A closed pipe (`matte-batch … | head`) must not kill the batch: the photos matter
        // more than the log, so writes to it just fail.
        signal(SIGPIPE, SIG_IGN)
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            bytes = bytes.dropFirst(count)
        }
    }

    /// A whole line (on a terminal, over the status line, which the caller redraws).
    func line(_ text: String) { write(isTerminal ? "\r\u{1B}[K\(text)\n" : "\(text)\n") }

    /// Replaces the status line, cut to the terminal's width so it never wraps.
    func status(_ text: String) { write("\r\(String(text.prefix(max(columns - 1, 10))))\u{1B}[K") }
}

/// A batch's progress: on a terminal a bar redrawn in place (done/total, rate, ETA, the
/// photos in flight); otherwise one plain line per finished photo.
final class Progress: Sendable {
    struct State {
        var done = 0
        var failed = 0
        var inFlight: [String] = []
        var finished = false
    }

    let total: Int
    let console: Console
    let start = Date()
    let state = Mutex(State())

    init(total: Int, console: Console) {
        self.total = total
        self.console = console
        guard console.isTerminal && total > 0 else { return }
        state.withLock { draw($0) }
        // Redraw twice a second too, so rate and ETA stay current while large photos take their time.
        Thread { [weak self] in
            while let self, self.state.withLock({ state in
                if !state.finished { self.draw(state) }
                return !state.finished
            }) {
                usleep(500_000)
            }
        }.start()
    }

    func handle(_ event: MatteBatch.Event) {
        state.withLock { state in
            switch event {
            case let .started(item):
                state.inFlight.append(item.relativePath)
            case let .finished(record):
                state.inFlight.removeAll { $0 == record.relativePath }
                state.done += 1
                let failed = record.status == .failed
                if failed { state.failed += 1 }
                let width = String(total).count
                let count = "[\(String(repeating: " ", count: width - String(state.done).count))\(state.done)/\(total)]"
                if failed {
                    console.line("\(count) failed \(record.relativePath): \(record.reason ?? "")")
                    // Also on stderr, one line per failure, for logs that keep only errors.
                    FileHandle.standardError.write(Data("matte-batch: \(record.input): \(record.reason ?? "failed")\n".utf8))
                } else if !console.isTerminal {
                    console.line(String(format: "%@ %@ %.2f s", count, record.relativePath, record.seconds ?? 0))
                }
            }
            if console.isTerminal { draw(state) }
        }
    }

    /// Ends the status line.
    func finish() {
        state.withLock { state in
            if console.isTerminal && total > 0 && !state.finished { console.write("\n") }
            state.finished = true
        }
    }

    func draw(_ state: State) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(state.done) / elapsed : 0
        let fraction = total > 0 ? Double(state.done) / Double(total) : 1
        let cells = 24, filled = Int(fraction * Double(cells))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled)
        let eta = rate > 0 ? Self.clock(Double(total - state.done) / rate) : "--:--"
        var text = String(format: "%d/%d %@ %3.0f%%  %.2f/s  %@ elapsed, ETA %@",
                          state.done, total, bar, fraction * 100, rate, Self.clock(elapsed), eta)
        if state.failed > 0 { text += "  \(state.failed) failed" }
        if let current = state.inFlight.first { text += "  \(current)" }
        console.status(text)
    }

    /// `m:ss` or `h:mm:ss`.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
