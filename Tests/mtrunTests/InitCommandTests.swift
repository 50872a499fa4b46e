import Foundation
import Testing

/// Runs the built `mtrun` (beside the test bundle; see MTRunBinary).
func runMTRun(_ arguments: [String]) -> MTRunBinary.Output {
    MTRunBinary.mtrun(bytesArgs(arguments))
}

@Suite("mtrun init")
struct InitCommandTests {
    @Test("prints bytes, threads, chunk size, seconds, GB/s and pages per NUMA node")
    func human() throws {
        let r = runMTRun(["init", "--size", "8MiB", "--threads", "2"])
        #expect(r.status == 0, "\(r.err)")
        for key in ["bytes", "threads", "chunk size", "seconds", "GB/s", "pages per node"] {
            #expect(r.out.contains(key), "missing \(key) in \(r.out)")
        }
        #expect(r.out.contains("8388608"))
    }

    @Test("--json prints one object with bytes, threads, chunk_bytes, seconds, gbps, pages_per_node; --verify checks every byte")
    func json() throws {
        let r = runMTRun(["init", "--size", "6MiB", "--pattern", "0xA5", "--verify", "--json", "--numa"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let o = try #require(obj)
        #expect(o["bytes"] as? Int == 6 << 20)
        #expect((o["threads"] as? Int ?? 0) >= 1)
        #expect((o["chunk_bytes"] as? Int ?? 0) > 0)
        #expect((o["seconds"] as? Double ?? -1) >= 0)
        #expect((o["gbps"] as? Double ?? -1) > 0)
        #expect(o["verified"] as? Bool == true)
        #expect(o["pattern"] as? Int == 0xA5)
        if let pages = o["pages_per_node"] as? [String: Int] {
            #expect(pages.values.reduce(0, +) == (6 << 20) / Int(sysconf(Int32(_SC_PAGESIZE))))
        } else {
            #expect(o["pages_per_node"] is NSNull)
        }
    }

    @Test("sizes with units parse (KiB, MB, bare bytes)")
    func units() throws {
        for (arg, bytes) in [("64KiB", 65536), ("1MB", 1_000_000), ("4097", 4097), ("1.5MiB", 1_572_864)] {
            let r = runMTRun(["init", "--size", arg, "--json", "--verify"])
            #expect(r.status == 0, "\(arg): \(r.err)")
            #expect(r.out.contains("\"bytes\": \(bytes),"), "\(arg): \(r.out)")
        }
    }

    @Test("bad sizes, patterns and thread counts (negative ones included) give a clear error and exit status 1", arguments: [
        ["--size", "4XB"], ["--size", "0"], ["--size=-5"], ["--size", "lots"], ["--size", "100TiB"],
        ["--size", "1MiB", "--pattern", "300"], ["--size", "1MiB", "--threads", "0"],
        ["--size", "-1"], ["--size", "1MiB", "--threads", "-3"], ["--bogus"], [],
    ])
    func badInput(args: [String]) throws {
        let r = runMTRun(["init"] + args)
        #expect(r.status == 1, "\(args): status \(r.status)")
        #expect(r.err.contains("rror"), "\(args): \(r.err)")
        #expect(!r.err.contains("Missing value"), "\(args): \(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test("a size larger than MemAvailable is refused before any allocation, exit 1")
    func beyondAvailable() {
        let r = runMTRun(["init", "--size", "\(MemoryProbe.available() + (64 << 20))"])
        #expect(r.status == 1)
        #expect(r.err.contains("more than this process can get"), "\(r.err)")
    }

    @Test("--threads beyond the CPUs is capped: threads used never exceed those started, nor the CPUs")
    func threadsCapped() {
        let r = runMTRun(["init", "--size", "1MiB", "--threads", "1000", "--json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.contains("\"threads_started\": 999"), "\(r.out)")
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let started = r.out.split(separator: ",").first { $0.contains("threads_started") }
            .flatMap { Int($0.split(separator: ":").last!.filter { $0 != " " }) }
        #expect(started != nil && started! <= cpus, "\(r.out)")
    }
}

enum MemoryProbe {
    static func available() -> Int {
        let text = String(decoding: MTRunBinary.read(Array("/proc/meminfo".utf8)), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
        }
        return 0
    }
}
