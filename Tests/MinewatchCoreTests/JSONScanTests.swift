import MinewatchCore
import Testing

/// The top-level scanner that decides whether a line names a mining method.
@Suite struct JSONScanTests {
  func scan(_ s: String) -> (mw_json_status, mw_json_top, String?) {
    let bytes = Array(s.utf8)
    var top = mw_json_top()
    let st = mw_json_scan_top(bytes, bytes.count, &top)
    let method =
      top.has_method != 0
      ? String(decoding: bytes[Int(top.method_off)..<Int(top.method_off + top.method_len)], as: UTF8.self)
      : nil
    return (st, top, method)
  }

  @Test func methodFoundWhateverSpacingAndOrder() {
    for line in [
      #"{"id":1,"method":"mining.subscribe","params":[]}"#,
      #"{ "params" : [ "cpuminer/2.5.1" ] , "id" : 1 , "method" : "mining.subscribe" }"#,
      "{\t\"method\"\t:\t\"mining.subscribe\"\r\n}",
    ] {
      let (st, _, m) = scan(line)
      #expect(st == MW_JSON_OK)
      #expect(m == "mining.subscribe")
    }
  }

  @Test func nestedMethodIsNotTopLevel() {
    let (st, top, m) = scan(#"{"method":"echo","params":{"method":"mining.submit"}}"#)
    #expect(st == MW_JSON_OK)
    #expect(m == "echo")
    #expect(top.params_is_object == 1)
  }

  @Test func cryptoNoteMembersAreSeen() {
    let (_, login, _) = scan(#"{"method":"login","params":{"login":"4abc","pass":"x"},"id":1}"#)
    #expect(login.has_login_member == 1)
    let (_, job, _) = scan(#"{"method":"job","params":{"blob":"07","job_id":"1","target":"dc460300"}}"#)
    #expect(job.has_job_member == 1)
    let (_, other, _) = scan(#"{"method":"login","params":{"user":"alice","password":"x"}}"#)
    #expect(other.has_login_member == 0)
  }

  @Test func errorNullIsNotAnError() {
    #expect(scan(#"{"id":4,"result":true,"error":null}"#).1.has_error == 0)
    #expect(scan(#"{"id":4,"result":null,"error":[21,"Stale",null]}"#).1.has_error == 1)
  }

  @Test func malformedAndDeepInputIsRefused() {
    #expect(scan(#"{"method":"mining.submit""#).0 == MW_JSON_MALFORMED)
    #expect(scan(#"{"a":"\"#).0 == MW_JSON_MALFORMED)
    #expect(scan("[1,2]").0 == MW_JSON_NOT_OBJECT)
    #expect(scan(#"{"method":"x"} trailing"#).0 == MW_JSON_MALFORMED)
    let deep = "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
    #expect(scan(deep).0 == MW_JSON_TOO_DEEP)
    let ok = "{\"a\":" + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}"
    #expect(scan(ok).0 == MW_JSON_OK)
  }

  @Test func everyPrefixOfALineIsSafe() {
    // Cut anywhere, the scanner must stop inside the bytes it was given.
    let line = Array(
      #"{"id":1,"method":"login","params":{"login":"4BCe\"q","pass":"x","algo":["rx/0"]}}"#.utf8)
    for n in 0...line.count {
      var top = mw_json_top()
      let st = line.withUnsafeBufferPointer { mw_json_scan_top($0.baseAddress, n, &top) }
      #expect(n == line.count ? st == MW_JSON_OK : st != MW_JSON_OK)
    }
  }

  @Test func methodTableKnowsEveryFamily() {
    for (name, family) in [
      ("mining.submit", MW_FAMILY_STRATUM), ("mining.set_target", MW_FAMILY_STRATUM),
      ("eth_submitWork", MW_FAMILY_ETHPROXY), ("keepalived", MW_FAMILY_CRYPTONOTE),
      ("getblocktemplate", MW_FAMILY_GETWORK),
    ] {
      let id = Array(name.utf8).withUnsafeBufferPointer { mw_method_lookup($0.baseAddress, $0.count) }
      #expect(id != 0)
      #expect(mw_method_info_at(id)?.pointee.family == family)
    }
    for name in ["echo", "web3_clientVersion", "eth_getBalance", "zabbix.status", "getblockcount"] {
      #expect(Array(name.utf8).withUnsafeBufferPointer { mw_method_lookup($0.baseAddress, $0.count) } == 0)
    }
  }
}
