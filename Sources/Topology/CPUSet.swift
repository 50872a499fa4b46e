/// A set of CPUs (processing units) named by their operating-system index.
///
/// `CPUSet` is a plain value: a bitmap of 64-bit words, `Sendable`, `Hashable`,
/// with the usual set algebra. It reads and writes the two textual forms the
/// Linux kernel uses:
///
/// - the **list format** of `/sys/devices/system/cpu/online` and
///   `taskset -c`: `0-3,8,10-11` (an empty set prints as the empty string);
/// - the **hex mask** format of `/proc/self/status` `Cpus_allowed` and
///   `taskset -p`: `ff,00000f00` (32-bit groups separated by commas, most
///   significant first; `0x` prefix and plain `f0f` are accepted too).
///
/// ```swift
/// let set = try CPUSet(parsing: "0-3,8")
/// set.contains(2)          // true
/// set.description          // "0-3,8"
/// set.hexMask              // "10f"
/// ```
public struct CPUSet: Sendable, Hashable {
    /// Bit `i % 64` of `words[i / 64]` is CPU `i`. Never has trailing zero
    /// words, so equal sets have equal storage (synthesized `Hashable` is right).
    private var words: [UInt64]

    /// The empty set.
    public init() { words = [] }

    /// A set holding the given CPU indexes. Negative indexes are a
    /// programming error.
    public init<S: Sequence>(_ cpus: S) where S.Element == Int {
        words = []
        for cpu in cpus { insert(cpu) }
    }

    /// The set `0..<count`.
    public init(first count: Int) {
        self.init(0..<Swift.max(count, 0))
    }

    /// Whether `cpu` is in the set.
    public func contains(_ cpu: Int) -> Bool {
        guard cpu >= 0 else { return false }
        let w = cpu >> 6
        return w < words.count && words[w] & (1 << UInt64(cpu & 63)) != 0
    }

    /// Adds `cpu`; returns whether it was absent. A negative `cpu` traps
    /// with a message (as an out-of-range array index does).
    @discardableResult
    public mutating func insert(_ cpu: Int) -> Bool {
        if cpu < 0 { fatalError("CPUSet: negative CPU index \(cpu)") }  // printed in release builds too
        let w = cpu >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        let bit: UInt64 = 1 << UInt64(cpu & 63)
        defer { words[w] |= bit }
        return words[w] & bit == 0
    }

    /// Adds every CPU of `range` (word at a time).
    public mutating func insert(range: ClosedRange<Int>) {
        if range.lowerBound < 0 { fatalError("CPUSet: negative CPU index \(range.lowerBound)") }
        let lastWord = range.upperBound >> 6
        if lastWord >= words.count { words.append(contentsOf: repeatElement(0, count: lastWord - words.count + 1)) }
        for w in (range.lowerBound >> 6)...lastWord {
            let lo = w == range.lowerBound >> 6 ? range.lowerBound & 63 : 0
            let hi = w == lastWord ? range.upperBound & 63 : 63
            let width = hi - lo + 1
            let mask: UInt64 = width == 64 ? ~0 : ((1 << UInt64(width)) - 1) << UInt64(lo)
            words[w] |= mask
        }
    }

    /// Removes `cpu`; returns whether it was present.
    @discardableResult
    public mutating func remove(_ cpu: Int) -> Bool {
        guard contains(cpu) else { return false }
        words[cpu >> 6] &= ~(1 << UInt64(cpu & 63))
        trim()
        return true
    }

    /// Number of CPUs in the set.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether the set has no CPU.
    public var isEmpty: Bool { words.isEmpty }

    /// The lowest CPU index, or `nil` when empty.
    public var first: Int? {
        for (i, w) in words.enumerated() where w != 0 { return i * 64 + w.trailingZeroBitCount }
        return nil
    }

    /// The highest CPU index, or `nil` when empty.
    public var last: Int? {
        guard let w = words.last else { return nil }
        return (words.count - 1) * 64 + 63 - w.leadingZeroBitCount
    }

    /// CPU indexes in increasing order.
    public var indexes: [Int] { Array(self) }

    /// The `n`-th CPU of the set in increasing order (0-based), as the
    /// kernel's `cpumask_nth`; `nil` when `n` is out of range.
    public func nth(_ n: Int) -> Int? {
        guard n >= 0 else { return nil }
        var left = n
        for (i, w) in words.enumerated() {
            let c = w.nonzeroBitCount
            if left < c {
                var word = w
                for _ in 0..<left { word &= word - 1 }
                return i * 64 + word.trailingZeroBitCount
            }
            left -= c
        }
        return nil
    }

    /// CPUs in either set.
    public func union(_ other: CPUSet) -> CPUSet {
        var r = CPUSet()
        r.words = (0..<Swift.max(words.count, other.words.count)).map { word(at: $0) | other.word(at: $0) }
        r.trim()
        return r
    }

    /// CPUs in both sets.
    public func intersection(_ other: CPUSet) -> CPUSet {
        var r = CPUSet()
        r.words = (0..<Swift.min(words.count, other.words.count)).map { words[$0] & other.words[$0] }
        r.trim()
        return r
    }

    /// CPUs of this set that are not in `other`.
    public func subtracting(_ other: CPUSet) -> CPUSet {
        var r = CPUSet()
        r.words = words.indices.map { words[$0] & ~other.word(at: $0) }
        r.trim()
        return r
    }

    /// CPUs in exactly one of the two sets.
    public func symmetricDifference(_ other: CPUSet) -> CPUSet {
        var r = CPUSet()
        r.words = (0..<Swift.max(words.count, other.words.count)).map { word(at: $0) ^ other.word(at: $0) }
        r.trim()
        return r
    }

    /// Adds the CPUs of `other`.
    public mutating func formUnion(_ other: CPUSet) { self = union(other) }
    /// Keeps only the CPUs also in `other`.
    public mutating func formIntersection(_ other: CPUSet) { self = intersection(other) }
    /// Removes the CPUs of `other`.
    public mutating func subtract(_ other: CPUSet) { self = subtracting(other) }

    /// Whether every CPU of this set is in `other`.
    public func isSubset(of other: CPUSet) -> Bool {
        words.indices.allSatisfy { words[$0] & ~other.word(at: $0) == 0 }
    }
    /// Whether every CPU of `other` is in this set.
    public func isSuperset(of other: CPUSet) -> Bool { other.isSubset(of: self) }
    /// Whether the sets have no CPU in common.
    public func isDisjoint(with other: CPUSet) -> Bool {
        (0..<Swift.min(words.count, other.words.count)).allSatisfy { words[$0] & other.words[$0] == 0 }
    }

    private func word(at i: Int) -> UInt64 { i < words.count ? words[i] : 0 }

    private mutating func trim() {
        while let l = words.last, l == 0 { words.removeLast() }
    }

    /// Internal: the raw words, lowest CPUs first (for the hwloc bridge).
    var rawWords: [UInt64] { words }

    /// Internal: build from raw words, lowest CPUs first.
    init(rawWords: [UInt64]) {
        words = rawWords
        trim()
    }
}

extension CPUSet: Sequence {
    /// Walks the CPUs of a set in increasing order.
    public struct Iterator: IteratorProtocol {
        fileprivate let words: [UInt64]
        fileprivate var index = 0
        fileprivate var current: UInt64

        fileprivate init(words: [UInt64]) {
            self.words = words
            self.current = words.first ?? 0
        }

        /// The next CPU, or `nil` at the end.
        public mutating func next() -> Int? {
            while current == 0 {
                index += 1
                guard index < words.count else { return nil }
                current = words[index]
            }
            let bit = current.trailingZeroBitCount
            current &= current - 1
            return index * 64 + bit
        }
    }

    /// An iterator over the CPUs in increasing order.
    public func makeIterator() -> Iterator { Iterator(words: words) }

    /// The number of CPUs (exact).
    public var underestimatedCount: Int { count }
}

extension CPUSet: ExpressibleByArrayLiteral {
    /// A set of the listed CPUs: `let s: CPUSet = [0, 2, 4]`.
    public init(arrayLiteral elements: Int...) { self.init(elements) }
}

// MARK: - Text forms

/// Why a CPU list or mask could not be parsed; `part` is the offending text
/// and `element` its position.
public struct CPUSetParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with ``part``.
    public enum Reason: Sendable, Hashable {
        /// An empty element (`"1,,2"`) or an empty mask.
        case empty
        /// Not a CPU number or `A-B` range (`"x"`, `"-1"`, `"1-2-3"`).
        case notANumber
        /// A range whose end is below its start (`"5-2"`).
        case reversedRange
        /// A stride that is not a positive number, or a stride on a single CPU.
        case badStride
        /// A CPU index above ``CPUSet/maxIndex``.
        case tooLarge
        /// A mask group with a non-hex character or the wrong width.
        case notHex
    }

    /// The whole input.
    public let input: String
    /// The comma-separated element (or mask group) that is wrong.
    public let part: String
    /// 0-based position of ``part`` among the comma-separated elements.
    public let element: Int
    /// What is wrong with it.
    public let reason: Reason

    /// An error for element number `element` (0-based) of `input`.
    public init(input: String, part: String, element: Int = 0, reason: Reason) {
        self.input = input
        self.part = part
        self.element = element
        self.reason = reason
    }

    /// The message: `invalid CPU set "0-3,x,5": not a CPU number "x" (element 2)`.
    public var description: String {
        let what: String
        switch reason {
        case .empty: what = "empty element"
        case .notANumber: what = "not a CPU number"
        case .reversedRange: what = "range end is below its start"
        case .badStride: what = "bad stride (want START-END:STRIDE with STRIDE ≥ 1)"
        case .tooLarge: what = "CPU index too large (limit \(CPUSet.maxIndex))"
        case .notHex: what = "not a hexadecimal digit group"
        }
        return "invalid CPU set \"\(input)\": \(what) \"\(part)\" (element \(element + 1))"
    }
}

extension CPUSet {
    /// The largest CPU index the text parsers accept (the kernel's NR_CPUS
    /// ceiling is 8192; this leaves room without letting `0-999999999999`
    /// allocate gigabytes).
    public static let maxIndex = 1 << 20

    /// Parses the kernel's list format: comma-separated CPU numbers and
    /// inclusive ranges, optionally with a stride (`0-15:4` = 0,4,8,12).
    /// Spaces around elements and a trailing newline are ignored; the empty
    /// string is the empty set.
    public init(parsing text: String) throws(CPUSetParseError) {
        self.init()
        let trimmed = text.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return }
        for (element, rawPart) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let part = String(rawPart).trimmingASCIIWhitespace()
            func fail(_ r: CPUSetParseError.Reason) -> CPUSetParseError {
                CPUSetParseError(input: text, part: part, element: element, reason: r)
            }
            guard !part.isEmpty else { throw fail(.empty) }
            var rangePart = Substring(part)
            var stride = 1
            if let colon = part.firstIndex(of: ":") {
                rangePart = part[..<colon]
                let strideText = part[part.index(after: colon)...]
                guard !strideText.isEmpty, strideText.allSatisfy(\.isASCIIDigit),
                      let s = Int(strideText), s >= 1 else { throw fail(.badStride) }
                stride = s
            }
            let bounds = rangePart.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else {
                throw fail(.notANumber)
            }
            guard let lo = Int(bounds[0]), let hi = Int(bounds[bounds.count - 1]) else { throw fail(.tooLarge) }
            guard lo <= CPUSet.maxIndex, hi <= CPUSet.maxIndex else { throw fail(.tooLarge) }
            guard lo <= hi else { throw fail(.reversedRange) }
            if bounds.count == 1 && part.contains(":") { throw fail(.badStride) }
            if stride == 1 {
                insert(range: lo...hi)
            } else {
                for cpu in Swift.stride(from: lo, through: hi, by: stride) { insert(cpu) }
            }
        }
    }

    /// Parses a hex mask: `ff`, `0xff`, or the kernel's comma-separated
    /// 32-bit groups `1,00000000` (= CPU 32). Bit 0 is CPU 0.
    public init(hexMask text: String) throws(CPUSetParseError) {
        self.init()
        var body = Substring(text.trimmingASCIIWhitespace())
        if body.hasPrefix("0x") || body.hasPrefix("0X") { body = body.dropFirst(2) }
        guard !body.isEmpty else { throw CPUSetParseError(input: text, part: text, reason: .empty) }
        let groups = body.split(separator: ",", omittingEmptySubsequences: false)
        var digits: [UInt8] = []   // least significant nibble first
        for (gi, g) in groups.enumerated().reversed() {
            guard !g.isEmpty else { throw CPUSetParseError(input: text, part: String(g), element: gi, reason: .empty) }
            // With commas, every group is at most 8 digits wide and every
            // group but the most significant one exactly 8.
            if groups.count > 1 && (g.count > 8 || (gi > 0 && g.count != 8)) {
                throw CPUSetParseError(input: text, part: String(g), element: gi, reason: .notHex)
            }
            var nibbles: [UInt8] = []
            for ch in g {
                guard ch.isASCII, let v = ch.hexDigitValue else {
                    throw CPUSetParseError(input: text, part: String(g), element: gi, reason: .notHex)
                }
                nibbles.append(UInt8(v))
            }
            digits.append(contentsOf: nibbles.reversed())
        }
        guard digits.count * 4 <= CPUSet.maxIndex + 64 else {
            throw CPUSetParseError(input: text, part: String(body.prefix(16)) + "…", reason: .tooLarge)
        }
        for (i, d) in digits.enumerated() where d != 0 {
            for b in 0..<4 where d & (1 << b) != 0 { insert(i * 4 + b) }
        }
    }

    /// The list form: `0-3,8,10-11`; the empty set is `""`.
    public var listString: String {
        var parts: [String] = []
        var it = makeIterator()
        guard var lo = it.next() else { return "" }
        var hi = lo
        func flush() { parts.append(lo == hi ? "\(lo)" : "\(lo)-\(hi)") }
        while let c = it.next() {
            if c == hi + 1 { hi = c; continue }
            flush()
            lo = c
            hi = c
        }
        flush()
        return parts.joined(separator: ",")
    }

    /// The hex mask form without a prefix, as `taskset -p` prints it
    /// (`10f`); the empty set is `"0"`.
    public var hexMask: String {
        guard let top = words.last else { return "0" }
        var s = String(top, radix: 16)
        for w in words.dropLast().reversed() {
            let h = String(w, radix: 16)
            s += String(repeating: "0", count: 16 - h.count) + h
        }
        return s
    }

    /// The kernel's `Cpus_allowed` form: 32-bit groups, comma separated,
    /// most significant first (`00000001,0000000f`).
    public var kernelHexMask: String {
        let n32 = Swift.max((last ?? 0) / 32 + 1, 1)
        var groups: [String] = []
        for g in (0..<n32).reversed() {
            let w = word(at: g / 2)
            let v = UInt32(truncatingIfNeeded: g % 2 == 0 ? w : w >> 32)
            let h = String(v, radix: 16)
            groups.append(String(repeating: "0", count: 8 - h.count) + h)
        }
        return groups.joined(separator: ",")
    }
}

extension CPUSet: CustomStringConvertible {
    /// The list form (`0-3,8`).
    public var description: String { listString }
}

extension CPUSet: Codable {
    /// Decodes a list string (`"0-3,8"`); a bad one throws ``CPUSetParseError``.
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        self = try CPUSet(parsing: s)
    }

    /// Encodes the list string (`"0-3,8"`).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(listString)
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        let chars = Array(self)
        var lo = 0
        var hi = chars.count
        while lo < hi, chars[lo].isWhitespace { lo += 1 }
        while hi > lo, chars[hi - 1].isWhitespace { hi -= 1 }
        return String(chars[lo..<hi])
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
