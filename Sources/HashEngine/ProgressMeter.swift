#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import MTSupport

/// `--progress`: one status line on standard error, redrawn every 200 ms by
/// its own thread: files done, bytes hashed, rate and, once the walk is over
/// and the total is known, the time left.
///
/// Bytes are counted as they are read (``FileDigester/bytesHashed``), so the
/// line moves during one big file too. The sizes of files still to hash are
/// taken with `stat` when they are submitted, only when progress is shown.
final class ProgressMeter: Sendable {
    let console: Console
    let digester: FileDigester
    /// Files reported by the serial stage; relaxed: a counter.
    let filesDone = Atomic<Int>(0)
    /// Sum of the sizes of files submitted; relaxed: a counter.
    let bytesKnown = Atomic<UInt64>(0)
    /// The walk is over, `bytesKnown` is the total; relaxed: display only.
    let walkDone = Atomic<Bool>(false)
    /// Tells the thread to exit; release pairs with the thread's acquire load.
    let stopping = Atomic<Bool>(false)
    /// The drawing thread; protected by its mutex.
    private let thread = Locked<pthread_t?>(nil)
    let startTime: Double

    init(console: Console, digester: FileDigester) {
        self.console = console
        self.digester = digester
        self.startTime = Self.now()
    }

    static func now() -> Double {
        Double(MonotonicClock.now) / 1e9
    }

    func discovered(_ path: [UInt8]) {
        if let st = TreeWalker.stat(path, follow: true), (st.st_mode & S_IFMT) == S_IFREG {
            bytesKnown.add(UInt64(st.st_size), ordering: .relaxed)
        }
    }

    func walkFinished() { walkDone.store(true, ordering: .relaxed) }

    func finished() { filesDone.add(1, ordering: .relaxed) }

    func start() {
        // No thread to be had: no progress line, the hashing goes on.
        guard let tid = try? OSThread.start({ [self] in loop() }) else { return }
        thread.withLock { $0 = tid }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        if let tid = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) {
            OSThread.join(tid)
        }
        console.endProgress()
    }

    private func loop() {
        while !stopping.load(ordering: .acquiring) {
            var ts = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            nanosleep(&ts, nil)
            if stopping.load(ordering: .acquiring) { break }
            console.showProgress(line())
        }
    }

    func line() -> String {
        let elapsed = max(Self.now() - startTime, 0.001)
        let bytes = digester.bytesHashed.load(ordering: .relaxed)
        let rate = Double(bytes) / elapsed
        var text = "\(filesDone.load(ordering: .relaxed)) files, \(Self.size(Double(bytes))), \(Self.size(rate))/s"
        if walkDone.load(ordering: .relaxed) {
            let total = bytesKnown.load(ordering: .relaxed)
            if rate > 0, total >= bytes {
                let left = Int((Double(total - bytes) / rate).rounded(.up))
                text += ", ETA \(left / 60):" + (left % 60 < 10 ? "0" : "") + "\(left % 60)"
            }
        } else {
            text += ", ETA ?"
        }
        return text
    }

    static func size(_ v: Double) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var x = v
        var u = 0
        while x >= 1000 && u < units.count - 1 { x /= 1000; u += 1 }
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }
}
