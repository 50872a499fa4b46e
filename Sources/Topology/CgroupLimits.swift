#if canImport(Glibc)
import Glibc
#endif

/// Reads cgroup v2 CPU limits of this process.
enum CgroupLimits {
    /// The tightest `cpu.max` quota on the path from this process's cgroup to
    /// the root, in CPUs (`"150000 100000"` → 1.5); `nil` when unlimited.
    static func cpuQuota(cgroupFile: String = "/proc/self/cgroup", mount: String = "/sys/fs/cgroup") -> Double? {
        guard let text = readSmallFile(cgroupFile) else { return nil }
        // cgroup v2: a single line "0::/path".
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        var path = String(line.dropFirst(3))
        var best: Double?
        while true {
            if let q = parseCPUMax(readSmallFile(mount + (path == "/" ? "" : path) + "/cpu.max")) {
                best = min(best ?? q, q)
            }
            if path == "/" || path.isEmpty { break }
            if let slash = path.lastIndex(of: "/") {
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            } else { break }
        }
        return best
    }

    /// `"max 100000"` → nil; `"200000 100000"` → 2.0.
    static func parseCPUMax(_ text: String?) -> Double? {
        guard let f = text?.split(whereSeparator: { $0 == " " || $0 == "\n" }), f.count >= 1 else { return nil }
        guard f[0] != "max", let quota = Double(f[0]) else { return nil }
        let period = f.count > 1 ? Double(f[1]) ?? 100_000 : 100_000
        guard period > 0, quota > 0 else { return nil }
        return quota / period
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }
}
