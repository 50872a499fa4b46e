import Foundation
import Testing
@testable import Topology

@Suite("cgroup CPU quota")
struct CgroupLimitsTests {
    @Test("cpu.max parsing", arguments: [
        ("200000 100000", 2.0 as Double?),
        ("150000 100000\n", 1.5),
        ("50000 100000", 0.5),
        ("50000", 0.5),
        ("max 100000", nil),
        ("max", nil),
        ("0 100000", nil),
        ("-5 100000", nil),
        ("100000 0", nil),
        ("abc 100000", nil),
        ("100000 abc", nil),
        ("nan 100000", nil),
        ("inf 100000", nil),
        ("1e5 100000", nil),
        ("1 2 3", nil),
        ("", nil),
    ])
    func parseCPUMax(_ text: String, expected: Double?) {
        #expect(CgroupLimits.parseCPUMax(text) == expected)
    }

    @Test("cgroup v1 cfs quota parsing")
    func parseCFS() {
        #expect(CgroupLimits.parseCFS(quota: "250000\n", period: "100000\n") == 2.5)
        #expect(CgroupLimits.parseCFS(quota: "-1\n", period: "100000\n") == nil)
        #expect(CgroupLimits.parseCFS(quota: "100000", period: nil) == nil)
        #expect(CgroupLimits.parseCFS(quota: nil, period: "100000") == nil)
        #expect(CgroupLimits.parseCFS(quota: "x", period: "100000") == nil)
    }

    /// Builds a fake `/proc/self/cgroup` and cgroup mount in a temp folder.
    struct FakeCgroup {
        let root: URL
        var cgroupFile: String { root.appendingPathComponent("cgroup").path }
        var mount: String { root.appendingPathComponent("mnt").path }

        init(cgroup: String, files: [String: String]) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try cgroup.write(toFile: cgroupFile, atomically: true, encoding: .utf8)
            for (path, content) in files {
                let url = URL(fileURLWithPath: mount + path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try content.write(to: url, atomically: true, encoding: .utf8)
            }
        }

        var quota: Double? { CgroupLimits.cpuQuota(cgroupFile: cgroupFile, mount: mount) }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test("v2: the tightest cpu.max from the process's cgroup up to the root")
    func v2Walk() throws {
        let cases: [(String, [String: String], Double?)] = [
            ("0::/a/b\n", ["/a/b/cpu.max": "max 100000", "/a/cpu.max": "150000 100000"], 1.5),
            ("0::/a/b\n", ["/a/b/cpu.max": "50000 100000", "/a/cpu.max": "150000 100000"], 0.5),
            ("0::/a/b\n", ["/cpu.max": "300000 100000"], 3.0),
            ("0::/\n", ["/cpu.max": "200000 100000"], 2.0),
            ("0::/a/b\n", ["/a/b/cpu.max": "max 100000"], nil),
            ("0::/a/b\n", [:], nil),
            ("0::/a:b/c\n", ["/a:b/cpu.max": "100000 100000"], 1.0),   // ':' inside the path
            // Hybrid mount: v2 under /unified.
            ("0::/s\n", ["/unified/s/cpu.max": "250000 100000"], 2.5),
        ]
        for (cgroup, files, expected) in cases {
            let fake = try FakeCgroup(cgroup: cgroup, files: files)
            defer { fake.remove() }
            #expect(fake.quota == expected, "\(cgroup) \(files)")
        }
    }

    @Test("v1: cpu.cfs_quota_us over cpu.cfs_period_us in the cpu controller's hierarchy")
    func v1Walk() throws {
        let cgroup = "12:memory:/x\n4:cpu,cpuacct:/docker/abc\n0::/\n"
        let fake = try FakeCgroup(cgroup: cgroup, files: [
            "/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n",
            "/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
            "/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        ])
        defer { fake.remove() }
        #expect(fake.quota == 2.0)

        let unlimited = try FakeCgroup(cgroup: "3:cpu:/\n", files: [
            "/cpu/cpu.cfs_quota_us": "-1\n", "/cpu/cpu.cfs_period_us": "100000\n",
        ])
        defer { unlimited.remove() }
        #expect(unlimited.quota == nil)
    }

    @Test("a missing or garbage /proc/self/cgroup means no quota")
    func missingFiles() throws {
        #expect(CgroupLimits.cpuQuota(cgroupFile: "/nonexistent/cgroup", mount: "/nonexistent") == nil)
        let fake = try FakeCgroup(cgroup: "garbage\n\n::\n", files: [:])
        defer { fake.remove() }
        #expect(fake.quota == nil)
    }

    @Test("the walk visits the path and every ancestor, root last")
    func walk() {
        var seen: [String] = []
        CgroupLimits.walk("/a/b/c") { seen.append($0) }
        #expect(seen == ["/a/b/c", "/a/b", "/a", ""])
        seen = []
        CgroupLimits.walk("/") { seen.append($0) }
        #expect(seen == [""])
    }
}
