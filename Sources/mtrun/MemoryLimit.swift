import MTSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The most memory this process can get now: the least of the kernel's
/// MemAvailable, the cgroup's memory limit less its usage, and RLIMIT_AS.
/// `mtrun init` refuses bigger sizes instead of being killed mid-fill.
struct MemoryLimit {
    var bytes: Int
    /// Which limit it is ("MemAvailable", "cgroup memory.max", "RLIMIT_AS").
    var source: String

    static func obtainable() -> MemoryLimit? {
        var best: MemoryLimit?
        func consider(_ bytes: Int?, _ source: String) {
            guard let bytes, bytes >= 0 else { return }
            if best == nil || bytes < best!.bytes { best = MemoryLimit(bytes: bytes, source: source) }
        }
        if let text = readSmallFile("/proc/meminfo") {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let kib = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
                consider(kib.map { $0 * 1024 }, "MemAvailable")
            }
        }
        if let max = readSmallFile("/sys/fs/cgroup/memory.max").flatMap({ Int($0.filter { $0 != "\n" }) }) {
            let used = readSmallFile("/sys/fs/cgroup/memory.current").flatMap { Int($0.filter { $0 != "\n" }) } ?? 0
            consider(max - used, "cgroup memory.max")
        }
        var r = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &r) == 0, r.rlim_cur != rlim_t.max {
            consider(Int(clamping: r.rlim_cur), "RLIMIT_AS")
        }
        return best
    }

    private static func readSmallFile(_ path: String) -> String? { SmallFile.text(path, maxBytes: 4096) }
}
