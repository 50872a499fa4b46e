import ArgumentParser
import MTJobs
import MTSupport
import Topology
#if canImport(Glibc)
import Glibc
#endif

/// `mtrun init`: allocate a fresh buffer and initialise it in parallel
/// through MTJobs (``ParallelBuffer``), then report the speed and where
/// the pages landed.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Allocate and initialise a buffer in parallel; print GB/s and pages per NUMA node.",
        discussion: """
            Sizes take a unit: B, K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024) or KB, MB, GB, TB \
            (powers of 1000). Sizes this process cannot get (physical memory, MemAvailable, the cgroup memory limit, \
            RLIMIT_AS) are refused. --threads is capped at the CPUs this process may use. \
            Exit status: 0 on success; 1 on a usage error, an invalid value or a failure.
            """
    )

    @Option(name: .long, parsing: .unconditional, help: "Bytes to allocate, e.g. 4GiB, 512MiB, 1000000.")
    var size: String

    @Option(name: .long, parsing: .unconditional, help: "Byte to fill with (0x5A, 90, 0b1011010).")
    var pattern: String = "0x5A"

    @Option(name: .long, parsing: .unconditional, help: "Most threads to use, the calling thread included (default: the CPUs available).")
    var threads: Int?

    @Flag(name: .long, help: "Spread the work over NUMA nodes so each node's helpers first-touch their span.")
    var numa = false

    @Flag(name: .long, help: "Check every byte afterwards.")
    var verify = false

    @Flag(name: .long, help: "Do not ask for transparent huge pages.")
    var noHugePages = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let bytes: Int
        let byte: UInt8
        do {
            bytes = try InitCommand.parseSize(size)
            byte = try InitCommand.parsePattern(pattern)
            if let t = threads, t < 1 { throw InitInputError("invalid value '\(t)' for '--threads': must be at least 1") }
        } catch let e as InitInputError {
            InitCommand.fail(e.message)
        }
        let buffer: ParallelBuffer
        do { buffer = try ParallelBuffer(bytes: bytes, hugePages: !noHugePages) } catch { InitCommand.fail("\(error)") }

        let t0 = (Double(MonotonicClock.now) * 1e-9)
        let available = Topology.shared.availableParallelism
        let threads = self.threads.map { min($0, max(1, available)) }
        let report = try buffer.fill(byte, threads: threads, numaAware: numa)
        let seconds = (Double(MonotonicClock.now) * 1e-9) - t0
        let gbps = Double(bytes) / seconds / 1e9

        var verified: Bool? = nil
        var mismatch: Int? = nil
        if verify {
            mismatch = try buffer.firstMismatch(byte, threads: threads)
            verified = mismatch == nil
        }
        let pages = try? buffer.pagesPerNode()

        if json {
            var fields: [(String, String)] = [
                ("bytes", "\(bytes)"),
                ("threads", "\(report.threadsUsed)"),
                ("threads_started", "\(report.threadsStarted)"),
                ("chunk_bytes", "\(report.chunkSize)"),
                ("chunks", "\(report.plan.chunkCount)"),
                ("seconds", InitCommand.number(seconds)),
                ("gbps", InitCommand.number(gbps)),
                ("pattern", "\(byte)"),
                ("huge_pages", "\(buffer.hugePages)"),
                ("numa_aware", "\(numa)"),
            ]
            if let pages {
                let items = pages.keys.sorted().map { "\"\($0)\": \(pages[$0]!)" }.joined(separator: ", ")
                fields.append(("pages_per_node", "{\(items)}"))
            } else {
                fields.append(("pages_per_node", "null"))
            }
            if let verified { fields.append(("verified", "\(verified)")) }
            if let mismatch { fields.append(("first_mismatch", "\(mismatch)")) }
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            print("bytes          \(bytes) (\(InitCommand.human(bytes)))")
            print("threads        \(report.threadsUsed) (of \(report.threadsStarted) started)")
            print("chunk size     \(report.chunkSize) bytes (\(InitCommand.human(report.chunkSize))), \(report.plan.chunkCount) chunks")
            print("seconds        \(InitCommand.number(seconds))")
            print("GB/s           \(InitCommand.number(gbps))")
            print("huge pages     \(buffer.hugePages ? "requested (MADV_HUGEPAGE)" : "no")")
            if let pages {
                let text = pages.keys.sorted().map { "node \($0 < 0 ? "untouched" : "\($0)"): \(pages[$0]!)" }.joined(separator: ", ")
                print("pages per node \(text)")
            } else {
                print("pages per node (not available here)")
            }
            if let verified {
                print("verified       \(verified ? "every byte is \(InitCommand.hex(byte))" : "FAILED at offset \(mismatch!)")")
            }
        }
        if verified == false { throw ExitCode(1) }
    }

    // MARK: parsing

    struct InitInputError: Error {
        let message: String
        init(_ m: String) { message = m }
    }

    /// Prints `message` on stderr and exits with status 1 (bad input).
    static func fail(_ message: String) -> Never {
        var err = InitStandardError()
        print("mtrun init: error: \(message)", to: &err)
        exitNow(ExitStatus.failure)
    }

    /// Parses "4GiB", "512M", "1000000", "1.5GB". Rejects 0, negatives,
    /// unknown units and more than the machine's physical memory.
    static func parseSize(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: " ")
        if t.hasPrefix("-") {
            throw InitInputError("invalid value '\(text)' for '--size': a size must be positive, e.g. 4GiB")
        }
        let digits = t.prefix { $0.isNumber || $0 == "." }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: " ")
        guard !digits.isEmpty, let value = Double(digits) else {
            throw InitInputError("invalid size '\(text)': expected a number with an optional unit, e.g. 4GiB")
        }
        let units: [String: Double] = [
            "": 1, "B": 1,
            "K": 0x1p10, "KIB": 0x1p10, "M": 0x1p20, "MIB": 0x1p20, "G": 0x1p30, "GIB": 0x1p30, "T": 0x1p40, "TIB": 0x1p40,
            "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
        ]
        guard let scale = units[unit.uppercased()] else {
            throw InitInputError("invalid size '\(text)': unknown unit '\(unit)' (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)")
        }
        let bytes = value * scale
        guard bytes >= 1, bytes < 0x1p62 else {
            throw InitInputError("invalid size '\(text)': must be at least 1 byte")
        }
        let n = Int(bytes.rounded(.up))
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        if physical > 0 && n > physical {
            throw InitInputError("invalid size '\(text)': \(n) bytes is more than this machine's physical memory (\(physical) bytes)")
        }
        if let limit = MemoryLimit.obtainable(), n > limit.bytes {
            throw InitInputError("invalid size '\(text)': \(n) bytes is more than this process can get (\(limit.bytes) bytes, \(limit.source))")
        }
        return n
    }

    /// Parses a byte: decimal, 0x hex, 0b binary or 0o octal, 0...255.
    static func parsePattern(_ text: String) throws -> UInt8 {
        let t = text.lowercased()
        let v: Int?
        if t.hasPrefix("0x") { v = Int(t.dropFirst(2), radix: 16) }
        else if t.hasPrefix("0b") { v = Int(t.dropFirst(2), radix: 2) }
        else if t.hasPrefix("0o") { v = Int(t.dropFirst(2), radix: 8) }
        else { v = Int(t) }
        guard let v, (0 ... 255).contains(v) else {
            throw InitInputError("invalid pattern '\(text)': expected a byte, 0...255 (e.g. 0x5A)")
        }
        return UInt8(v)
    }

    static func human(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : "\(number(v)) \(units[i])"
    }

    static func number(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return "\(r)"
    }

    static func hex(_ b: UInt8) -> String {
        let h = String(b, radix: 16, uppercase: true)
        return "0x" + (h.count == 1 ? "0" + h : h)
    }

}

/// Writes to file descriptor 2.
private struct InitStandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

private func exitNow(_ code: Int32) -> Never {
    fflush(nil)
    exit(code)
}

private extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
