import Foundation
import Testing
@testable import Topology
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a fresh thread and returns its result, so binding it never
/// touches Swift Testing's shared threads.
func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.value = body()
        done.signal()
    }
    thread.start()
    done.wait()
    return box.value!
}

/// Written once by the fresh thread before `done.signal()`, read after
/// `done.wait()`: the semaphore orders the two.
final class ResultBox<T> { var value: T? }
// `value` is written by one thread and read by another only across the semaphore above.
extension ResultBox: @unchecked Sendable {}

/// The process's affinity mask as the kernel reports it (`Cpus_allowed_list`
/// of /proc/self/status: the main thread's `sched_getaffinity`, which no
/// test changes; binding tests bind fresh threads only).
func kernelAffinity() throws -> CPUSet {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
    return try CPUSet(parsing: String(line.dropFirst("Cpus_allowed_list:".count)))
}

@Suite("Binding and memory placement on this machine")
struct BindingTests {
    @Test("this system: allowedCPUs ⊆ PUs and equals the kernel's affinity mask")
    func allowedIsAffinity() throws {
        let t = try Topology(.thisSystem)
        #expect(t.isThisSystem)
        #expect(t.allowedCPUs.isSubset(of: CPUSet(t.pus.map(\.osIndex))))
        #expect(t.allowedCPUs == (try kernelAffinity()))
        #expect(t.availableParallelism >= 1 && t.availableParallelism <= t.allowedCPUs.count)
        if let q = t.cpuQuota {
            #expect(t.availableParallelism == min(t.allowedCPUs.count, Int(q.rounded(.up))))
        } else {
            #expect(t.availableParallelism == t.allowedCPUs.count)
        }
        #expect(Topology.shared.isThisSystem)
        #expect(Topology.shared.allowedCPUs == t.allowedCPUs)
        #expect(t.placementOrder().count == t.allowedCPUs.count)
    }

    @Test("after bindCurrentThread the thread runs inside its set, for each allowed CPU and for all")
    func bindThread() throws {
        let t = try Topology(.thisSystem)
        let allowed = t.allowedCPUs
        let failures = onFreshThread { () -> [String] in
            var failures: [String] = []
            do {
                for cpu in allowed {
                    try t.bindCurrentThread(to: [cpu])
                    // Give the scheduler a chance to move us.
                    for _ in 0..<3 { sched_yield() }
                    let now = try t.currentCPU()
                    if now != cpu { failures.append("bound to \(cpu), running on \(now)") }
                    let binding = try t.currentThreadBinding()
                    if binding != [cpu] { failures.append("binding \(binding) ≠ \(cpu)") }
                }
                try t.bindCurrentThread(to: allowed)
                if !allowed.contains(try t.currentCPU()) { failures.append("outside \(allowed)") }
                if try t.currentThreadBinding() != allowed { failures.append("binding ≠ \(allowed)") }
            } catch {
                failures.append("\(error)")
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("bad binding requests are typed errors, not crashes")
    func bindErrors() throws {
        let t = try Topology(.thisSystem)
        let errors = onFreshThread { () -> [TopologyError?] in
            func capture(_ body: () throws(TopologyError) -> Void) -> TopologyError? {
                do throws(TopologyError) { try body(); return nil } catch { return error }
            }
            return [
                capture { () throws(TopologyError) in try t.bindCurrentThread(to: []) },
                capture { () throws(TopologyError) in try t.bindCurrentThread(to: [100_000]) },
                capture { () throws(TopologyError) in _ = try t.allocate(bytes: 0, onNodes: [0]) },
                capture { () throws(TopologyError) in _ = try t.allocate(bytes: 4096, onNodes: []) },
                capture { () throws(TopologyError) in _ = try t.allocate(bytes: 4096, onNodes: [4096]) },
                capture { () throws(TopologyError) in try t.bindCurrentThreadMemory(toNodes: [-1]) },
            ]
        }
        guard case .emptySet = errors[0] else { Issue.record("\(String(describing: errors[0]))"); return }
        guard case .noSuchObject(let what) = errors[1], what.contains("100000") else {
            Issue.record("\(String(describing: errors[1]))"); return
        }
        guard case .emptySet = errors[2], case .emptySet = errors[3] else { Issue.record("\(errors)"); return }
        guard case .noSuchObject = errors[4], case .noSuchObject = errors[5] else { Issue.record("\(errors)"); return }
    }

    @Test("memory from allocate(bytes:onNodes:) lands on the asked node once touched")
    func allocateOnNode() throws {
        let t = try Topology(.thisSystem)
        let node = try #require(t.numaNodes.first?.osIndex)
        let bytes = 4 << 20
        let buf = try t.allocate(bytes: bytes, onNodes: [node])
        defer { t.free(buf) }
        #expect(buf.count == bytes)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = bytes / pageSize
        // Untouched pages are on no node yet.
        let before = try t.pagesPerNode(of: UnsafeRawBufferPointer(buf))
        #expect(before[node, default: 0] < pages)
        memset(buf.baseAddress!, 0x5a, bytes)
        let after = try t.pagesPerNode(of: UnsafeRawBufferPointer(buf))
        #expect(after == [node: pages])
    }

    @Test("bindCurrentThreadMemory: first-touch allocations of the thread land on the node")
    func threadMemoryBinding() throws {
        let t = try Topology(.thisSystem)
        let node = try #require(t.numaNodes.first?.osIndex)
        let result = onFreshThread { () -> Result<[Int: Int], TopologyError> in
            do throws(TopologyError) {
                try t.bindCurrentThreadMemory(toNodes: [node])
                let bytes = 1 << 20
                let p = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 4096)
                defer { p.deallocate() }
                memset(p.baseAddress!, 1, bytes)
                return .success(try t.pagesPerNode(of: UnsafeRawBufferPointer(p)))
            } catch {
                return .failure(error)
            }
        }
        let counts = try result.get()
        #expect(counts.keys.sorted() == [node])
    }
}
