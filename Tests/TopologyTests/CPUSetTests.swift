import Foundation
import Testing
@testable import Topology

@Suite("CPUSet")
struct CPUSetTests {
    /// Every subset of 0..<n, as a bit pattern.
    static func subsets(of n: Int) -> [CPUSet] {
        (0..<(1 << n)).map { bits in CPUSet((0..<n).filter { bits & (1 << $0) != 0 }) }
    }

    @Test("list ↔ set ↔ hex mask ↔ kernel mask round trips, every subset of 0..<10")
    func roundTripsExhaustive() throws {
        for s in Self.subsets(of: 10) {
            #expect(try CPUSet(parsing: s.listString) == s)
            #expect(try CPUSet(hexMask: s.hexMask) == s)
            #expect(try CPUSet(hexMask: s.kernelHexMask) == s)
            #expect(try CPUSet(hexMask: "0x" + s.hexMask) == s)
            #expect(s.count == s.indexes.count)
            #expect(s.isEmpty == (s.count == 0))
        }
    }

    @Test("round trips across word boundaries and sparse high CPUs")
    func roundTripsWide() throws {
        let sets: [CPUSet] = [
            [63], [64], [63, 64], [0, 127], [31, 32], CPUSet(0..<384), CPUSet(stride(from: 0, to: 8192, by: 97)),
            [0, 88, 89, 90, 91, 103], [8191], CPUSet(first: 65),
        ]
        for s in sets {
            #expect(try CPUSet(parsing: s.listString) == s, "\(s)")
            #expect(try CPUSet(hexMask: s.hexMask) == s, "\(s)")
            #expect(try CPUSet(hexMask: s.kernelHexMask) == s, "\(s)")
            #expect(s.indexes == s.indexes.sorted())
            #expect(s.first == s.indexes.first && s.last == s.indexes.last)
        }
    }

    @Test("text forms match the kernel's")
    func textForms() throws {
        let s = try CPUSet(parsing: "0-3,8,10-11")
        #expect(s.indexes == [0, 1, 2, 3, 8, 10, 11])
        #expect(s.description == "0-3,8,10-11")
        #expect(s.hexMask == "d0f")
        #expect(s.kernelHexMask == "00000d0f")
        #expect(CPUSet([32]).kernelHexMask == "00000001,00000000")
        #expect(CPUSet([0, 64]).hexMask == "10000000000000001")
        #expect(CPUSet().listString == "" && CPUSet().hexMask == "0" && CPUSet().kernelHexMask == "00000000")
        #expect(try CPUSet(hexMask: "ff,00000f00") == (try CPUSet(parsing: "8-11,32-39")))
        #expect(try CPUSet(parsing: "0-15:4") == [0, 4, 8, 12])
        #expect(try CPUSet(parsing: " 1 , 3-4\n") == [1, 3, 4])
        #expect(try CPUSet(parsing: "") == CPUSet())
        #expect(try CPUSet(parsing: "2,1,1-2") == [1, 2])
        #expect(try CPUSet(hexMask: "0") == CPUSet())
        #expect(try CPUSet(hexMask: "00000000,00000003\n") == [0, 1])
        // As /proc/self/status prints it.
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        if let mask = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }),
           let list = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            let fromMask = try CPUSet(hexMask: String(mask.split(separator: "\t").last ?? ""))
            let fromList = try CPUSet(parsing: String(list.split(separator: "\t").last ?? ""))
            #expect(fromMask == fromList && !fromMask.isEmpty)
        }
    }

    @Test("set algebra agrees with Set<Int>, every pair of subsets of 0..<6 plus wide ones")
    func algebraExhaustive() {
        var sets = Self.subsets(of: 6)
        sets += [[0, 64, 200], [64], CPUSet(60..<70), [199, 200]]
        for a in sets {
            let sa = Set(a.indexes)
            for b in sets {
                let sb = Set(b.indexes)
                #expect(Set(a.union(b).indexes) == sa.union(sb))
                #expect(Set(a.intersection(b).indexes) == sa.intersection(sb))
                #expect(Set(a.subtracting(b).indexes) == sa.subtracting(sb))
                #expect(Set(a.symmetricDifference(b).indexes) == sa.symmetricDifference(sb))
                #expect(a.isSubset(of: b) == sa.isSubset(of: sb))
                #expect(a.isSuperset(of: b) == sa.isSuperset(of: sb))
                #expect(a.isDisjoint(with: b) == sa.isDisjoint(with: sb))
                // Equal sets are equal values with equal hashes, however built.
                #expect((a == b) == (sa == sb))
                if sa == sb { #expect(a.hashValue == b.hashValue) }
                var m = a
                m.formUnion(b)
                #expect(m == a.union(b))
                m = a
                m.formIntersection(b)
                #expect(m == a.intersection(b))
                m = a
                m.subtract(b)
                #expect(m == a.subtracting(b))
            }
        }
    }

    @Test("insert, remove, contains, nth; removing the top CPU keeps equality canonical")
    func elementOps() {
        var s = CPUSet()
        let inserted = s.insert(130)
        let insertedAgain = s.insert(130)
        #expect(inserted && !insertedAgain)
        #expect(s.contains(130) && !s.contains(129) && !s.contains(-1))
        let removed = s.remove(130)
        let removedAgain = s.remove(130)
        #expect(removed && !removedAgain)
        #expect(s == CPUSet() && s.isEmpty && s.hashValue == CPUSet().hashValue)
        s.insert(range: 5...70)
        #expect(s == CPUSet(5...70))
        s.insert(range: 64...127)
        #expect(s == CPUSet(5...127) && s.count == 123)
        let t = CPUSet(stride(from: 3, to: 300, by: 7))
        for (n, cpu) in t.indexes.enumerated() { #expect(t.nth(n) == cpu) }
        #expect(t.nth(t.count) == nil && t.nth(-1) == nil && CPUSet().nth(0) == nil)
        #expect(CPUSet(first: 0) == CPUSet() && CPUSet(first: 3) == [0, 1, 2])
        // insert(range:) agrees with one-by-one inserts for every small range.
        for lo in 0..<130 where lo % 3 == 0 {
            for hi in lo..<200 where hi % 5 == 0 || hi % 64 == 63 {
                var r = CPUSet()
                r.insert(range: lo...hi)
                #expect(r == CPUSet(lo...hi))
            }
        }
    }

    @Test("Codable as the list string")
    func codable() throws {
        let s: CPUSet = [0, 1, 2, 7]
        let data = try JSONEncoder().encode([s])
        #expect(String(decoding: data, as: UTF8.self) == "[\"0-2,7\"]")
        #expect(try JSONDecoder().decode([CPUSet].self, from: data) == [s])
        #expect(throws: CPUSetParseError.self) { try JSONDecoder().decode([CPUSet].self, from: Data("[\"1-\"]".utf8)) }
    }

    /// Parses `text` and returns the error (or records an issue).
    func listError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> CPUSetParseError? {
        do throws(CPUSetParseError) {
            let s = try CPUSet(parsing: text)
            Issue.record("parsed \"\(text)\" as \(s)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.input == text, sourceLocation: sourceLocation)
            #expect(error.description.contains("\"\(error.part)\""), sourceLocation: sourceLocation)
            return error
        }
    }

    @Test("bad list text names the offending element", arguments: [
        ("0-3,x,5", "x", 1, CPUSetParseError.Reason.notANumber),
        ("5-2", "5-2", 0, .reversedRange),
        ("1,,2", "", 1, .empty),
        ("1,", "", 1, .empty),
        (",1", "", 0, .empty),
        ("-1", "-1", 0, .notANumber),
        ("1-2-3", "1-2-3", 0, .notANumber),
        ("0-", "0-", 0, .notANumber),
        ("3,0x10", "0x10", 1, .notANumber),
        ("0-7:0", "0-7:0", 0, .badStride),
        ("0-7:", "0-7:", 0, .badStride),
        ("0-7:+2", "0-7:+2", 0, .badStride),
        ("4:2", "4:2", 0, .badStride),
        ("1,99999999999999999999999", "99999999999999999999999", 1, .tooLarge),
        ("0-4294967296", "0-4294967296", 0, .tooLarge),
        ("2,1048577", "1048577", 1, .tooLarge),
        ("١", "١", 0, .notANumber),
    ])
    func badList(_ text: String, part: String, element: Int, reason: CPUSetParseError.Reason) {
        let e = listError(text)
        #expect(e?.part == part)
        #expect(e?.element == element)
        #expect(e?.reason == reason)
    }

    @Test("the canonical messages of the issue")
    func messages() {
        #expect(listError("0-3,x,5")?.description == "invalid CPU set \"0-3,x,5\": not a CPU number \"x\" (element 2)")
        #expect(listError("5-2")?.description == "invalid CPU set \"5-2\": range end is below its start \"5-2\" (element 1)")
        #expect(listError("1,,2")?.description == "invalid CPU set \"1,,2\": empty element \"\" (element 2)")
    }

    @Test("huge indexes are refused, the largest allowed one is accepted")
    func hugeIndexes() throws {
        #expect(try CPUSet(parsing: "\(CPUSet.maxIndex)").last == CPUSet.maxIndex)
        #expect(listError("\(CPUSet.maxIndex + 1)")?.reason == .tooLarge)
        #expect(listError("0-\(Int.max)")?.reason == .tooLarge)
        let wide = "1" + String(repeating: "0", count: CPUSet.maxIndex / 4 + 100)
        #expect(throws: CPUSetParseError.self) { try CPUSet(hexMask: wide) }
    }

    @Test("bad hex masks name the offending group", arguments: [
        ("", "", CPUSetParseError.Reason.empty),
        ("0x", "0x", .empty),
        ("fg", "fg", .notHex),
        ("ff,123", "123", .notHex),
        ("ff,,00000000", "", .empty),
        ("123456789,00000000", "123456789", .notHex),
        ("0-3", "0-3", .notHex),
        ("ｆ", "ｆ", .notHex),
    ])
    func badHex(_ text: String, part: String, reason: CPUSetParseError.Reason) {
        do throws(CPUSetParseError) {
            let s = try CPUSet(hexMask: text)
            Issue.record("parsed \"\(text)\" as \(s)")
        } catch {
            #expect(error.part == part)
            #expect(error.reason == reason)
        }
    }
}
