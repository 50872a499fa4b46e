#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong loading or using a ``Topology``.
///
/// Every case says what failed and where, so a CLI can print it as is.
public enum TopologyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An hwloc call failed; `errno` was captured right after it.
    case hwloc(function: String, errno: Int32, context: String)
    /// The XML file could not be read or parsed.
    case badXML(path: String, reason: String)
    /// The synthetic description was rejected by hwloc.
    case badSynthetic(description: String, reason: String)
    /// Binding or memory placement was asked of a topology that does not
    /// describe this machine (an XML export or a synthetic description).
    /// hwloc itself would report success and do nothing.
    case notThisSystem(operation: String, source: String)
    /// This system does not support the operation (hwloc's support bits).
    case unsupported(operation: String)
    /// A CPU or NUMA node named by the caller is not in this topology.
    case noSuchObject(String)
    /// An empty CPU or node set was given where one element is needed.
    case emptySet(String)

    /// A one-line message naming what failed, e.g. `cannot load topology
    /// XML 'a.xml': is a directory`.
    public var description: String {
        switch self {
        case let .hwloc(function, err, context):
            let what = "\(function) failed\(context.isEmpty ? "" : " (\(context))")"
            return err == 0 ? what : "\(what): \(String(cString: strerror(err)))"
        case let .badXML(path, reason):
            return "cannot load topology XML '\(path)': \(reason)"
        case let .badSynthetic(desc, reason):
            return "invalid synthetic topology \"\(desc)\": \(reason)"
        case let .notThisSystem(op, source):
            return "cannot \(op): the topology comes from \(source), not from this machine"
        case let .unsupported(op):
            return "\(op) is not supported on this system"
        case let .noSuchObject(what):
            return "no such object in the topology: \(what)"
        case let .emptySet(what):
            return "empty set: \(what)"
        }
    }
}
