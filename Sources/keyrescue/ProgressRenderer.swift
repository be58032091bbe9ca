import Foundation
import Glibc
import RescueController

/// Renders ProgressEvents: on a terminal one live line per step with elapsed seconds; plain
/// timestamped lines when piped; one JSON object per line with `--json`.
final class ProgressRenderer: @unchecked Sendable {
    enum Mode: Sendable { case terminal, plain, json }
    let mode: Mode
    private let started = Date()
    private let lock = NSLock()
    private var liveLine = false

    init(mode: Mode) { self.mode = mode }

    static func forStdout(json: Bool) -> ProgressRenderer {
        ProgressRenderer(mode: json ? .json : (isatty(1) == 1 ? .terminal : .plain))
    }

    func handle(_ event: ProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch mode {
        case .json: emitJSON(event.json)
        case .plain: out(plainLine(event))
        case .terminal: terminal(event)
        }
    }

    /// Any other JSON object on the same stream (the summary, an error).
    func emitJSON(_ object: [String: Any]) {
        var object = object
        object["t"] = String(format: "%.1f", Date().timeIntervalSince(started))
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        out(String(decoding: data, as: UTF8.self))
    }

    func plainLine(_ event: ProgressEvent) -> String {
        let t = String(format: "[%6.1fs]", Date().timeIntervalSince(started))
        switch event {
        case .stepStarted(let s, let d): return "\(t) \(s): \(d)"
        case .stepFinished(let s, let secs): return "\(t) \(s): done in \(String(format: "%.1f", secs)) s"
        case .waiting(let s, let o, let e): return "\(t) \(s): \(o) (\(Int(e)) s)"
        case .created(let k, let i): return "\(t) created \(k) \(i)"
        case .note(let m): return "\(t) \(m)"
        case .warning(let m): return "\(t) warning: \(m)"
        }
    }

    private func terminal(_ event: ProgressEvent) {
        switch event {
        case .stepStarted(let s, let d):
            endLive()
            write("  … \(s): \(d)")
            liveLine = true
        case .waiting(let s, let o, let e):
            write("\r\u{1B}[2K  … \(s): \(o) (\(Int(e)) s)")
            liveLine = true
        case .stepFinished(let s, let secs):
            write("\r\u{1B}[2K  ✓ \(s) (\(String(format: "%.1f", secs)) s)\n")
            liveLine = false
        default:
            endLive()
            out("    " + plainLine(event).drop { $0 != "]" }.dropFirst(2))
        }
    }

    private func endLive() {
        if liveLine { write("\n") }
        liveLine = false
    }

    private func out(_ line: String) { write(line + "\n") }
    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
