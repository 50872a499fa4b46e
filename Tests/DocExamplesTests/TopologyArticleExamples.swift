// The Swift examples of Sources/Topology/Topology.docc, verbatim (see
// ExamplesAreVerbatimTests); bodies at column 0 so the text matches.
// Compiled only: the example binds the calling thread.
import Topology

/// Topology.md, "Overview".
func topologyArticleOverview() throws {
let machine = Topology.shared
for node in machine.numaNodes {
    print("node \(node.osIndex): \(node.memoryBytes >> 30) GiB, CPUs \(node.cpus)")
}
let order = machine.placementOrder()        // where the worker pool puts its threads
try machine.bindCurrentThread(to: [order[0]])
}
