import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// The one way the package starts an operating-system thread (workers,
/// the watchdog, a detached run, the hashing engine's mapper and meter):
/// a `pthread` running a closure, optionally named.
package enum OSThread {
    /// `pthread_create` failed with this error number (e.g. `EAGAIN` at a
    /// thread limit).
    package struct StartError: Error, Sendable {
        package let code: Int32
    }

    /// Starts `body` on a new joinable thread named `name` (the first 15
    /// bytes show in `top -H` and profilers). The caller joins it with
    /// ``join(_:)`` or detaches it with ``detach(_:)``.
    package static func start(name: String? = nil, _ body: @escaping @Sendable () -> Void) throws(StartError) -> pthread_t {
        var tid = pthread_t()
        let rc = create(&tid, Box(name: name, body: body))
        if rc != 0 { throw StartError(code: rc) }
        return tid
    }

    private static func create(_ tid: inout pthread_t, _ box: Box) -> Int32 {
        let raw = Unmanaged.passRetained(box).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            if let name = b.name { OSThread.setCurrentName(name) }
            b.body()
            return nil
        }, raw)
        if rc != 0 { Unmanaged<Box>.fromOpaque(raw).release() }
        return rc
    }

    /// Starts `body` on a new thread nobody joins.
    package static func startDetached(name: String? = nil, _ body: @escaping @Sendable () -> Void) throws(StartError) {
        detach(try start(name: name, body))
    }

    package static func join(_ thread: pthread_t) { pthread_join(thread, nil) }

    package static func detach(_ thread: pthread_t) { pthread_detach(thread) }

    /// Names the calling thread (at most 15 bytes show).
    package static func setCurrentName(_ name: String) {
        _ = mtj_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }

    private final class Box {
        let name: String?
        let body: @Sendable () -> Void
        init(name: String?, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
