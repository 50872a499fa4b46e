/// 120 bytes of nothing: keeps the fields around it off each other's cache
/// lines (with the fields' own 8 bytes, 128 bytes apart: two lines, as the
/// adjacent-line prefetcher pulls pairs).
package struct CacheLinePad {
    package let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    package init() {}
}
