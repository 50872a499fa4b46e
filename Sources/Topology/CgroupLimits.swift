import MTSupport
#if canImport(Glibc)
import Glibc
#endif

/// Reads the cgroup CPU bandwidth limit of this process.
///
/// A container given "2 CPUs" by `docker run --cpus 2` usually still sees
/// every CPU of the host in its affinity mask; the limit is a quota of CPU
/// time per period instead:
///
/// - cgroup v2: `cpu.max` holds `"QUOTA PERIOD"` (`"200000 100000"` = 2
///   CPUs) or `"max PERIOD"` (no limit);
/// - cgroup v1: `cpu.cfs_quota_us` (`-1` = no limit) over `cpu.cfs_period_us`.
///
/// A limit on any ancestor cgroup applies too, so the walk goes from this
/// process's cgroup up to the root of the mount and keeps the tightest.
enum CgroupLimits {
    /// The tightest CPU quota, in CPUs (`1.5` for 150 ms per 100 ms), on the
    /// path from this process's cgroup to the root; `nil` when unlimited or
    /// unknown.
    ///
    /// - Parameters:
    ///   - cgroupFile: the `/proc/self/cgroup` to read (a fake one in tests).
    ///   - mount: where the cgroup file systems are mounted.
    static func cpuQuota(cgroupFile: String = "/proc/self/cgroup", mount: String = "/sys/fs/cgroup") -> Double? {
        guard let text = SmallFile.text(cgroupFile) else { return nil }
        var best: Double?
        func keep(_ q: Double?) { if let q { best = min(best ?? q, q) } }
        for line in text.split(separator: "\n") {
            // "hierarchy-id:controllers:path"; the path may contain ':'.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                // cgroup v2 (unified): /sys/fs/cgroup, or /sys/fs/cgroup/unified
                // on a hybrid system.
                for dir in [mount, mount + "/unified"] {
                    walk(path) { keep(parseCPUMax(SmallFile.text(dir + $0 + "/cpu.max"))) }
                }
            } else if fields[1].split(separator: ",").contains("cpu") {
                // cgroup v1 with the cpu controller, mounted as "cpu",
                // "cpu,cpuacct" or "cpuacct,cpu".
                let names = Set([String(fields[1]), "cpu", "cpu,cpuacct", "cpuacct,cpu"])
                for name in names.sorted() {
                    let dir = mount + "/" + name
                    walk(path) {
                        keep(parseCFS(quota: SmallFile.text(dir + $0 + "/cpu.cfs_quota_us"),
                                      period: SmallFile.text(dir + $0 + "/cpu.cfs_period_us")))
                    }
                }
            }
        }
        return best
    }

    /// Calls `body` with `path` and each ancestor up to `""` (the root),
    /// e.g. `"/a/b"`, `"/a"`, `""`.
    static func walk(_ path: String, _ body: (String) -> Void) {
        var p = path.hasSuffix("/") ? String(path.dropLast()) : path
        while true {
            body(p)
            guard let slash = p.lastIndex(of: "/") else { return }
            p = String(p[..<slash])
        }
    }

    /// Parses cgroup v2 `cpu.max`: `"max 100000"` → nil; `"200000 100000"`
    /// → 2.0; `"50000"` (period omitted) → 0.5 of the default 100 ms
    /// period. Anything else (garbage, zero, negative) → nil.
    static func parseCPUMax(_ text: String?) -> Double? {
        guard let text else { return nil }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard f.count == 1 || f.count == 2, f[0] != "max", let quota = UInt64(f[0]), quota > 0 else { return nil }
        var period: UInt64 = 100_000
        if f.count == 2 {
            guard let p = UInt64(f[1]), p > 0 else { return nil }
            period = p
        }
        return Double(quota) / Double(period)
    }

    /// Parses cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`: `-1` →
    /// nil; `"150000"` / `"100000"` → 1.5.
    static func parseCFS(quota: String?, period: String?) -> Double? {
        guard let q = quota.flatMap({ Int64($0.trimmingASCIIWhitespace()) }), q > 0,
              let p = period.flatMap({ Int64($0.trimmingASCIIWhitespace()) }), p > 0 else { return nil }
        return Double(q) / Double(p)
    }
}
