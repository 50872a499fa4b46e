import ArgumentParser
import Foundation
import Topology

/// `mtrun topo`: the machine as the pool sees it, and where workers go.
///
/// Prints the hwloc tree (packages, groups, NUMA nodes with memory, caches
/// with sizes, cores, PUs with OS indexes), the CPU kinds, NUMA distances
/// and the placement order. `--xml` and `--synthetic` show another machine;
/// `--json` prints one JSON object for scripts. A file or description hwloc
/// cannot load is reported on stderr with exit status 1.
struct TopoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topo",
        abstract: "Show the machine's topology and the order in which the pool places workers.",
        discussion: """
            Without options, shows this machine as this process may use it (affinity mask, \
            cgroup cpuset and CPU quota). In a run of 3 or more identical sibling subtrees \
            without NUMA nodes (the 8 cores of an L3, the 12 L3s of a package), the first is \
            printed in full and the others as one line "… N more like the one above" with \
            their PU OS indexes; --full prints every object. Exit status: 0 on success; 1 on a usage error, an invalid value or when the topology \
            cannot be loaded.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Show the machine of an hwloc XML export instead.", valueName: "file"))
    var xml: String?

    @Option(name: .long, help: ArgumentHelp(
        "Show an hwloc synthetic machine instead, e.g. \"pack:2 [numa] l3:2 core:4 pu:2\".",
        valueName: "description"))
    var synthetic: String?

    @Flag(name: .long, help: "Print one JSON object (counts, tree, placement, kinds, distances, allowed CPUs, quota).")
    var json = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Also show where N workers would go (1 to 4096).", valueName: "N"))
    var plan: Int?

    /// The most workers `--plan` shows (the pool's own limit on workers).
    static let maxPlan = 4096

    @Flag(name: .long, help: "Print every object of the tree; do not collapse runs of identical siblings.")
    var full = false

    func run() throws {
        let source: Topology.Source
        switch (xml, synthetic) {
        case (let path?, nil): source = .xmlFile(path)
        case (nil, let desc?): source = .synthetic(desc)
        case (nil, nil): source = .thisSystem
        case (.some, .some): throw failure("give either --xml or --synthetic, not both")
        }
        if let plan, plan < 1 || plan > Self.maxPlan {
            throw failure("invalid value '\(plan)' for '--plan': a number of workers from 1 to \(Self.maxPlan)")
        }
        let topology: Topology
        do {
            topology = try Topology(source)
        } catch {
            throw failure(error.description)
        }
        let placement = topology.placementOrder()
        let planned = plan.map { n in (0..<n).map { placement[$0 % placement.count] } }
        if json {
            let report = TopoReport(topology, placement: placement, plan: planned)
            print(try report.jsonString())
        } else {
            var out = ""
            TopoText(topology: topology, collapse: !full).write(placement: placement, plan: planned, to: &out)
            print(out, terminator: "")
        }
    }

    /// Prints `message` on stderr; the returned error makes mtrun exit
    /// with status 1 (and print nothing more).
    private func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("mtrun topo: error: \(message)\n".utf8))
        return ExitCode(ExitStatus.failure)
    }
}

// MARK: - Text

/// The human-readable report: summary, tree, kinds, distances, placement.
struct TopoText {
    let topology: Topology
    /// Collapse runs of ≥ `minRun` identical sibling subtrees without NUMA
    /// nodes: the first is printed in full, the rest as one summary line.
    let collapse: Bool
    let minRun = 3

    func write(placement: [Int], plan: [Int]?, to out: inout String) {
        let t = topology
        let c = t.counts
        let model = t.cpuModel.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU model"
        out += "Machine: \(model) (from \(t.source))\n"
        out += "  " + [
            plural(c.packages, "package"), plural(c.numaNodes, "NUMA node"), "\(c.l3) L3", "\(c.l2) L2",
            plural(c.cores, "core"), plural(c.pus, "PU"), plural(c.cpuKinds, "CPU kind"),
        ].joined(separator: ", ") + "\n"
        out += "  allowed CPUs: \(t.allowedCPUs)  CPU quota: \(t.cpuQuota.map { "\(formatQuota($0)) CPUs" } ?? "none")"
            + "  available parallelism: \(t.availableParallelism)\n\n"

        out += "Tree (L# = logical index, P# = OS index):\n"
        writeNode(t.root, depth: 1, to: &out)

        if !t.cpuKinds.isEmpty {
            out += "\nCPU kinds (rank 0 = most power-efficient; the pool fills the highest rank first):\n"
            for k in t.cpuKinds {
                let infos = k.infos.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                out += "  kind \(k.rank): efficiency \(k.efficiency), PUs \(k.cpus)\(infos.isEmpty ? "" : "  \(infos)")\n"
            }
        }
        if let d = t.numaDistances {
            out += "\nNUMA distances (relative latency, 10 = local):\n"
            out += "  node" + d.nodes.map { pad("\($0)", 5) }.joined() + "\n"
            for (i, n) in d.nodes.enumerated() {
                out += "  " + pad("\(n)", 4) + d.values[i].map { pad("\($0)", 5) }.joined() + "\n"
            }
        }

        out += "\nPlacement order (the order in which the pool places workers; PU OS indexes):\n"
        writeRows(placement, to: &out)
        if let plan {
            out += "\nPlan for \(plan.count) workers"
            if plan.count > placement.count { out += " (more than \(placement.count) PUs: the rest share PUs)" }
            out += ":\n"
            writeRows(plan, to: &out)
            let planned = CPUSet(plan)
            func spread(_ name: String, _ groups: [(String, CPUSet)]) {
                let parts = groups.compactMap { label, cpus -> String? in
                    let n = plan.filter { cpus.contains($0) }.count
                    return n == 0 ? nil : "\(label): \(n)"
                }
                if groups.count > 1 { out += "  per \(name): " + parts.joined(separator: ", ") + "\n" }
            }
            spread("package", t.packages.map { ("P#\($0.osIndex.map(String.init) ?? "?")", $0.cpus) })
            spread("NUMA node", t.numaNodes.map { ("P#\($0.osIndex)", $0.cpus) })
            let cores = Set(planned.compactMap { t.pu(osIndex: $0)?.core })
            out += "  \(cores.count) distinct cores, \(planned.count) distinct PUs\n"
        }
    }

    /// Prints `cpus` 16 per row, each row prefixed by its worker range.
    private func writeRows(_ cpus: [Int], to out: inout String) {
        let width = String(max(cpus.count - 1, 0)).count
        for start in stride(from: 0, to: cpus.count, by: 16) {
            let end = min(start + 16, cpus.count)
            let label = "w\(pad(String(start), width))-\(pad(String(end - 1), width))"
            out += "  \(label): " + cpus[start..<end].map(String.init).joined(separator: " ") + "\n"
        }
    }

    private func writeNode(_ node: TopologyNode, depth: Int, to out: inout String) {
        // Follow single-child chains on one line, as lstopo does: "L2 + L1d + Core".
        var chain = [node]
        while let last = chain.last, last.children.count == 1, last.memory.isEmpty, last.type != "Core" {
            chain.append(last.children[0])
        }
        let indent = String(repeating: "  ", count: depth)
        out += indent + chain.map(label).joined(separator: " + ") + "\n"
        let bottom = chain.last!
        for m in chain.flatMap(\.memory) { writeMemory(m, depth: depth + 1, to: &out) }
        if bottom.type == "Core" { return }   // its PUs are on its line
        writeChildren(bottom.children, depth: depth + 1, to: &out)
    }

    private func writeChildren(_ children: [TopologyNode], depth: Int, to out: inout String) {
        var i = 0
        while i < children.count {
            var j = i + 1
            if collapse && Self.memoryNodes(children[i]).isEmpty {
                let first = shape(children[i])
                while j < children.count, shape(children[j]) == first { j += 1 }
            }
            writeNode(children[i], depth: depth, to: &out)
            if j - i >= minRun {
                writeRunSummary(children[(i + 1)..<j], depth: depth, to: &out)
            } else {
                j = i + 1
            }
            i = j
        }
    }

    /// One line for the rest of a run of identical sibling subtrees, after
    /// the first was printed: "… 7 more like the one above: L2 L#1-7, PUs 1-7,193-199".
    private func writeRunSummary(_ rest: ArraySlice<TopologyNode>, depth: Int, to out: inout String) {
        let first = rest.first!
        let last = rest.last!
        let cpus = rest.reduce(CPUSet()) { $0.union($1.cpus) }
        let indent = String(repeating: "  ", count: depth)
        out += "\(indent)… \(rest.count) more like the one above: \(first.type) L#\(first.logicalIndex)-\(last.logicalIndex), "
            + "PUs \(cpus)\n"
    }

    private func writeMemory(_ m: TopologyNode, depth: Int, to out: inout String) {
        var chain = [m]
        while let last = chain.last, last.memory.count == 1, last.children.isEmpty { chain.append(last.memory[0]) }
        out += String(repeating: "  ", count: depth) + chain.map(label).joined(separator: " + ") + "\n"
        if chain.last!.memory.count > 1 {
            for sub in chain.last!.memory { writeMemory(sub, depth: depth + 1, to: &out) }
        }
    }

    /// "Package L#0 P#36", "L3 L#0 (32 MiB)", "NUMANode L#0 P#0 (126 GiB)",
    /// "Core L#5: PUs P#5,197".
    func label(_ n: TopologyNode) -> String {
        var s = n.type
        if let sub = n.subtype, n.type == "Group" { s += "(\(sub))" }
        s += " L#\(n.logicalIndex)"
        if let os = n.osIndex, ["Package", "NUMANode", "PU", "Die"].contains(n.type) { s += " P#\(os)" }
        if let b = n.bytes {
            s += n.type == "NUMANode" && b == 0 ? " (memory unknown)" : " (\(formatBytes(b)))"
        }
        if n.type == "Core" {
            let pus = n.children.filter { $0.type == "PU" }.compactMap(\.osIndex)
            s += pus.count == 1 ? ": PU P#\(pus[0])" : ": PUs P#" + pus.map(String.init).joined(separator: ",")
        }
        if let kind = kind(of: n) { s += " [kind \(kind)]" }
        return s
    }

    /// What a subtree looks like, ignoring indexes: equal shapes collapse.
    /// Cores of different CPU kinds never look alike.
    func shape(_ n: TopologyNode) -> String {
        var s = n.type + (n.subtype ?? "") + (n.bytes.map { "(\($0))" } ?? "")
        if let kind = kind(of: n) { s += "<\(kind)>" }
        if !n.memory.isEmpty { s += "{" + n.memory.map(shape).joined(separator: ",") + "}" }
        if !n.children.isEmpty { s += "[" + n.children.map(shape).joined(separator: ",") + "]" }
        return s
    }

    /// The CPU kind rank of a core on a hybrid machine (more than one kind),
    /// else nil.
    func kind(of n: TopologyNode) -> Int? {
        guard n.type == "Core", topology.cpuKinds.count > 1, let cpu = n.cpus.first else { return nil }
        return topology.pu(osIndex: cpu)?.kind
    }

    /// NUMA nodes anywhere below `n` (memory children included).
    static func memoryNodes(_ n: TopologyNode) -> [TopologyNode] {
        (n.type == "NUMANode" ? [n] : []) + (n.memory + n.children).flatMap(memoryNodes)
    }
}

/// "32 MiB", "1.5 GiB", "0 B".
func formatBytes(_ b: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(b)
    var u = 0
    while value >= 1024 && u < units.count - 1 {
        value /= 1024
        u += 1
    }
    if value == value.rounded() { return "\(Int(value)) \(units[u])" }
    return String(format: "%.1f %@", value, units[u])
}

private func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

private func formatQuota(_ q: Double) -> String {
    q == q.rounded() ? String(Int(q)) : String(format: "%.2f", q)
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

// MARK: - JSON

/// The `--json` object. Keys are snake_case; CPU sets are list strings
/// ("0-3,8"); `placement` and `plan` are arrays of PU OS indexes.
struct TopoReport: Encodable {
    let source: String
    let isThisSystem: Bool
    let cpuModel: String?
    let counts: TopologyCounts
    let allowedCpus: CPUSet
    let cpuQuota: Double?
    let availableParallelism: Int
    let packages: [Package]
    let numaNodes: [NUMANode]
    let cpuKinds: [CPUKind]
    let numaDistances: NUMADistances?
    let tree: TopologyNode
    let placement: [Int]
    let plan: [Int]?

    init(_ t: Topology, placement: [Int], plan: [Int]?) {
        source = t.source.description
        isThisSystem = t.isThisSystem
        cpuModel = t.cpuModel
        counts = t.counts
        allowedCpus = t.allowedCPUs
        cpuQuota = t.cpuQuota
        availableParallelism = t.availableParallelism
        packages = t.packages
        numaNodes = t.numaNodes
        cpuKinds = t.cpuKinds
        numaDistances = t.numaDistances
        tree = t.root
        self.placement = placement
        self.plan = plan
    }

    /// Keys present even when nil, so scripts can rely on them.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(isThisSystem, forKey: .isThisSystem)
        try c.encode(cpuModel, forKey: .cpuModel)
        try c.encode(counts, forKey: .counts)
        try c.encode(allowedCpus, forKey: .allowedCpus)
        try c.encode(cpuQuota, forKey: .cpuQuota)
        try c.encode(availableParallelism, forKey: .availableParallelism)
        try c.encode(packages, forKey: .packages)
        try c.encode(numaNodes, forKey: .numaNodes)
        try c.encode(cpuKinds, forKey: .cpuKinds)
        try c.encode(numaDistances, forKey: .numaDistances)
        try c.encode(tree, forKey: .tree)
        try c.encode(placement, forKey: .placement)
        if let plan { try c.encode(plan, forKey: .plan) }
    }

    enum CodingKeys: String, CodingKey {
        case source, isThisSystem, cpuModel, counts, allowedCpus, cpuQuota, availableParallelism
        case packages, numaNodes, cpuKinds, numaDistances, tree, placement, plan
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
