// Performs one misuse that the documentation says traps, named by the first
// argument, so TrapTests can check from outside that the trap prints its
// message (release builds drop `precondition` messages; these must not).
import MTJobs
import SerialJobs
import Synchronization
import Topology
#if canImport(Glibc)
import Glibc
#endif

func doSerialTwice() throws {
    let instance = try Instance()
    let shell = try instance.makeShell(window: 4)
    let secondReturned = Atomic<Bool>(false)
    try shell.submit(completing: { (c: Completion<Int>) in
        c.doSerial(returning: 1)
        c.doSerial(returning: 2)
        secondReturned.store(true, ordering: .releasing)
    }, serial: { _ in })
    shell.stop()
    // The trap happens on the worker; wait for it (or for the sign that
    // there was none) before this process may exit.
    while !secondReturned.load(ordering: .acquiring) { sched_yield() }
}

func negativeCPU() {
    var set = CPUSet()
    set.insert(Int(CommandLine.arguments.count) - 100)
}

func chunkOutside() throws {
    var a = [Int](repeating: 0, count: 100)
    try MTJob.forEachChunk(of: &a, minChunk: 10, maxThreads: 1) { chunk in
        chunk[chunk.indices.upperBound] = 1
    }
}

let probe = CommandLine.arguments.dropFirst().first ?? ""
switch probe {
case "doSerial-twice": try doSerialTwice()
case "cpuset-negative": negativeCPU()
case "chunk-outside": try chunkOutside()
default:
    print("usage: TrapProbe doSerial-twice|cpuset-negative|chunk-outside")
    exit(2)
}
// Reaching this line means the misuse did not trap.
print("no trap")
exit(0)
