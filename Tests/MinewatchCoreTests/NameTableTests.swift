import MinewatchCore
import Testing

@Suite struct NameTableTests {
  func table(_ names: [String]) -> OpaquePointer {
    let t = mw_names_create(UInt32(names.count))!
    for (i, n) in names.enumerated() {
      var s = n
      _ = s.withUTF8 { mw_names_add(t, $0.baseAddress, $0.count, UInt32(i)) }
    }
    return t
  }

  func match(_ t: OpaquePointer, _ name: String) -> Int? {
    let v = Array(name.utf8).withUnsafeBufferPointer { mw_names_match(t, $0.baseAddress, $0.count, nil) }
    return v == 0 ? nil : Int(v) - 1
  }

  @Test func suffixOnLabelBoundaries() {
    let t = table(["supportxmr.com", "www.supportxmr.com"])
    defer { mw_names_destroy(t) }
    #expect(match(t, "pool.supportxmr.com") == 0)
    #expect(match(t, "supportxmr.com") == 0)
    #expect(match(t, "POOL.SupportXMR.com.") == 0)
    #expect(match(t, "www.supportxmr.com") == 1)  // the longest listed suffix wins
    #expect(match(t, "notsupportxmr.com") == nil)
    #expect(match(t, "supportxmr.com.evil.example") == nil)
  }

  @Test func hostileNamesAreRefused() {
    let t = table(["example.org"])
    defer { mw_names_destroy(t) }
    #expect(match(t, String(repeating: "a.", count: 200) + "example.org") == nil)  // over 253
    #expect(match(t, "") == nil)
    #expect(match(t, ".") == nil)
    #expect(mw_names_count(t) == 1)
  }

  @Test func tableIsBounded() {
    let t = mw_names_create(16)!
    defer { mw_names_destroy(t) }
    var added = 0
    for i in 0..<40 {
      var s = "pool\(i).example"
      if s.withUTF8({ mw_names_add(t, $0.baseAddress, $0.count, 0) }) == 0 { added += 1 }
    }
    #expect(added == 16)
  }
}
