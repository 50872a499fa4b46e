#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSystemShims
import MTSupport
import Topology

/// Maps the windows of one big file ahead of the thread hashing it, on a
/// thread of its own, and unmaps the windows it is given back.
///
/// Filling and tearing down the page tables of a window (`mmap` with
/// `MAP_POPULATE`, `munmap`) costs about 8% of the time it takes to hash it.
/// With one big file the other cores are idle, so this helper thread does
/// that work there and the hashing thread only hashes: one 2 GiB file hashes
/// at `openssl speed` rate. With every core busy it only moves the same work
/// to another thread. At most `depth` windows are mapped at once (the one
/// being hashed, the ones mapped ahead and the ones waiting to be unmapped),
/// so the mapped memory stays at `depth × windowSize`. The default, 2 (the
/// window being hashed and the next one), is enough: mapping a window takes
/// about a twentieth of hashing it, so the next one is always ready, and it
/// keeps a 2 GiB file's peak RSS at 56 MB instead of 73 MB with 3, at the
/// same speed (measured).
///
/// Protocol: the consumer calls ``next()`` until it returns nil, hands every
/// window back with ``release(_:)`` once it stopped reading it, and calls
/// ``finish()`` exactly once (also when it stops early); `finish` joins the
/// thread, which unmaps every window still mapped.
final class WindowMapper {
    private let fd: Int32
    private let size: Int64
    private let windowSize: Int
    private let depth: Int

    /// Guards every `var` below; `condition` is signalled on each change.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Mapped, not yet taken by the consumer (in file order).
    private var ready: [FileWindow] = []
    /// Given back, to unmap.
    private var returned: [FileWindow] = []
    /// Windows mapped and not yet unmapped.
    private var outstanding = 0
    /// File offset up to which windows were mapped.
    private var mappedEnd: Int64 = 0
    /// No more windows will come (end reached or `mmap` failed).
    private var exhausted = false
    /// The consumer called `finish`.
    private var stopping = false
    private var thread = pthread_t()
    /// Where the thread binds itself (nil: it stays where it was created).
    private let cpus: CPUSet?

    /// Starts mapping `size` bytes of `fd` in windows of `windowSize`
    /// (a multiple of the page size); nil if the thread cannot start. The
    /// thread runs on `cpus` less the caller's CPU (all of `cpus` if that
    /// leaves none; where the caller may run if nil).
    init?(fd: Int32, size: Int64, windowSize: Int, cpus: CPUSet?, depth: Int = 2) {
        self.fd = fd
        self.size = size
        self.windowSize = windowSize
        self.depth = max(2, depth)
        if var cpus {
            let here = Int(mtj_current_cpu())
            if here >= 0 && cpus.count > 1 { _ = cpus.remove(here) }
            self.cpus = cpus
        } else {
            self.cpus = nil
        }
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        guard let started = try? OSThread.start(name: "mtrun-map", { [self] in produce() }) else { return nil }
        thread = started
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// The next window in file order, waiting for it to be mapped; nil when
    /// there are no more (the end, or `mmap` failed: read from
    /// ``FileWindow/offset`` + count of the last window on).
    func next() -> FileWindow? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while ready.isEmpty && !exhausted { pthread_cond_wait(condition, mutex) }
        return ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Hands `window` back for unmapping.
    func release(_ window: FileWindow) {
        pthread_mutex_lock(mutex)
        returned.append(window)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Stops the thread and waits for it; every window is unmapped after.
    func finish() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        OSThread.join(thread)
    }

    /// The helper thread's loop.
    private func produce() {
        if let cpus { try? Topology.shared.bindCurrentThread(to: cpus) }
        pthread_mutex_lock(mutex)
        while true {
            if !returned.isEmpty {
                let done = returned
                returned.removeAll()
                pthread_mutex_unlock(mutex)
                for w in done { w.unmap() }
                pthread_mutex_lock(mutex)
                outstanding -= done.count
                continue
            }
            if stopping { break }
            if exhausted || outstanding >= depth {
                pthread_cond_wait(condition, mutex)
                continue
            }
            let offset = mappedEnd
            let length = Int(min(Int64(windowSize), size - offset))
            pthread_mutex_unlock(mutex)
            let w = FileWindow.map(fd: fd, offset: offset, length: length, populate: true)
            pthread_mutex_lock(mutex)
            if let w {
                ready.append(w)
                outstanding += 1
                mappedEnd += Int64(length)
                if mappedEnd >= size { exhausted = true }
            } else {
                exhausted = true
            }
            pthread_cond_broadcast(condition)
        }
        let left = ready + returned
        ready.removeAll()
        returned.removeAll()
        outstanding = 0
        pthread_mutex_unlock(mutex)
        for w in left { w.unmap() }
    }
}

// Safe: every mutable field is guarded by `mutex` (see above); `fd`, `size`,
// `windowSize`, `depth` and the lock pointers are immutable, and `thread`
// is written by `init` (the thread never reads it) and read only by `finish`.
extension WindowMapper: @unchecked Sendable {}
