import MinewatchCore
import Testing

@testable import MinewatchKit

/// The session layer reads the dissectors' spans without a JSON parser: strings are unescaped
/// here, and what cannot be read stays as written.
@Suite struct MiningMessageTests {
  func unescape(_ s: String) -> String { MiningMessage.unescape(ArraySlice(Array(s.utf8))) }

  @Test func escapes() {
    #expect(unescape(#"plain"#) == "plain")
    #expect(unescape(#"a\"b\\c\/d"#) == #"a"b\c/d"#)
    #expect(unescape(#"tab\there\nline"#) == "tab\there\nline")
    #expect(unescape(#"caf\u00e9"#) == "café")
    #expect(unescape(#"\ud83d\ude00!"#) == "😀!")
    #expect(unescape(#"\u12"#) == #"\u12"#)  // a broken escape is kept as written
    #expect(unescape(#"\ud800x"#) == "\u{FFFD}x")  // a lone surrogate becomes U+FFFD
    #expect(unescape(#"end\"#) == #"end\"#)
  }

  @Test func methodsByRegistryID() {
    #expect(MiningMethod.from(id: 0) == nil && MiningMethod.from(id: 60_000) == nil)
    // Every C registry name has its Swift case: a method added in C cannot go unnoticed.
    #expect(Int(mw_method_count()) == MiningMethod.allCases.count)
    for id in 1...mw_method_count() { #expect(MiningMethod.from(id: id) != nil, "\(id)") }
  }
}
