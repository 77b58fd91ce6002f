import MinewatchCore
import Testing

/// Each family's dissector finds its fields by path, whatever the spacing and member order,
/// and a path that is not there is absent, never a guess.
@Suite struct DissectorTests {
  /// The fields of a line, as text (strings raw between their quotes) with their JSON type.
  func fields(_ s: String) -> [mw_field_id: (mw_json_type, String)] {
    let bytes = Array(s.utf8)
    var top = mw_json_top()
    guard mw_json_scan_top(bytes, bytes.count, &top) == MW_JSON_OK else { return [:] }
    var method: UInt16 = 0
    if top.has_method != 0 {
      method = bytes.withUnsafeBufferPointer {
        mw_method_lookup($0.baseAddress! + Int(top.method_off), Int(top.method_len))
      }
    }
    var f = mw_fields()
    mw_message_fields(bytes, bytes.count, method, &f)
    var out: [mw_field_id: (mw_json_type, String)] = [:]
    withUnsafeBytes(of: f.v) { raw in
      let values = raw.bindMemory(to: mw_json_value.self)
      for i in 0..<Int(MW_F_COUNT.rawValue) where values[i].type != 0 {
        let v = values[i]
        out[mw_field_id(UInt32(i))] = (
          mw_json_type(UInt32(v.type)),
          String(decoding: bytes[Int(v.off)..<Int(v.off + v.len)], as: UTF8.self)
        )
      }
    }
    return out
  }

  func text(_ f: [mw_field_id: (mw_json_type, String)], _ id: mw_field_id) -> String? { f[id]?.1 }

  @Test func stratumSubscribeAndAuthorize() {
    let s = fields(
      #"{ "params" : [ "cpuminer/2.5.1", "EthereumStratum/1.0.0", "pool.example", 3333 ], "id" : 1, "method" : "mining.subscribe" }"#
    )
    #expect(text(s, MW_F_AGENT) == "cpuminer/2.5.1" && text(s, MW_F_PROTOCOL) == "EthereumStratum/1.0.0")
    #expect(text(s, MW_F_HOST) == "pool.example" && s[MW_F_ID]?.0 == MW_JV_NUMBER)
    let a = fields(#"{"id":2,"method":"mining.authorize","params":["mwlab.rig01","x"]}"#)
    #expect(text(a, MW_F_LOGIN) == "mwlab.rig01")
    let d = fields(#"{"id":null,"method":"mining.set_difficulty","params":[0.005]}"#)
    #expect(d[MW_F_DIFFICULTY]?.0 == MW_JV_NUMBER && text(d, MW_F_DIFFICULTY) == "0.005")
    #expect(d[MW_F_ID]?.0 == MW_JV_NULL)
  }

  @Test func cryptoNoteLoginJobAndReplies() {
    let l = fields(
      #"{"id":1,"jsonrpc":"2.0","method":"login","params":{"pass":"x","algo":["rx/0","cn/r"],"login":"48edf","agent":"XMRig/6.26.0","rigid":"rig7"}}"#
    )
    #expect(text(l, MW_F_LOGIN) == "48edf" && text(l, MW_F_AGENT) == "XMRig/6.26.0")
    #expect(text(l, MW_F_WORKER) == "rig7" && text(l, MW_F_ALGO) == "rx/0")
    let r = fields(
      #"{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1","job":{"blob":"06","target":"dc460300","algo":"rx/0"},"status":"OK"}}"#
    )
    #expect(text(r, MW_F_JOB_TARGET) == "dc460300" && text(r, MW_F_JOB_ALGO) == "rx/0")
    #expect(
      text(r, MW_F_STATUS) == "OK" && r[MW_F_ERROR]?.0 == MW_JV_NULL && r[MW_F_RESULT]?.0 == MW_JV_OBJECT)
    let j = fields(
      #"{"jsonrpc":"2.0","method":"job","params":{"job_id":"7","target":"711b0d00","algo":"rx/0"}}"#)
    #expect(text(j, MW_F_TARGET) == "711b0d00" && j[MW_F_ID] == nil)
  }

  @Test func ethProxyLoginHashrateAndWork() {
    let l = fields(#"{"worker":"rig1","id":1,"method":"eth_submitLogin","params":["0xabc","x"]}"#)
    #expect(text(l, MW_F_LOGIN) == "0xabc" && text(l, MW_F_WORKER) == "rig1")
    let h = fields(#"{"id":9,"method":"eth_submitHashrate","params":["0x1d08a61","0x59"]}"#)
    #expect(text(h, MW_F_RATE) == "0x1d08a61")
    let w = fields(#"{"id":0,"jsonrpc":"2.0","result":["0x1","0x2","0x0000000112e0be82"]}"#)
    #expect(text(w, MW_F_BOUNDARY) == "0x0000000112e0be82" && w[MW_F_RESULT]?.0 == MW_JV_ARRAY)
  }

  @Test func repliesAndEscapes() {
    let ok = fields(#"{"id":4,"result":true,"error":null}"#)
    #expect(ok[MW_F_RESULT]?.0 == MW_JV_TRUE)
    let no = fields(#"{"id":"a\"b","result":null,"error":[21,"Stale job",null]}"#)
    #expect(no[MW_F_ERROR]?.0 == MW_JV_ARRAY && no[MW_F_RESULT]?.0 == MW_JV_NULL)
    #expect(text(no, MW_F_ID) == #"a\"b"#)  // raw: the layer above unescapes
    let sub = fields(
      #"{"id":1,"result":[["mining.notify","ae6812eb","EthereumStratum/1.0.0"],"080c"],"error":null}"#)
    #expect(text(sub, MW_F_SUBSCRIBE_PROTOCOL) == "EthereumStratum/1.0.0")
    // Paths that are not there: a short params list, params that are an object, a scalar result.
    let short = fields(#"{"id":2,"method":"mining.subscribe","params":["x"]}"#)
    #expect(short[MW_F_PROTOCOL] == nil && short[MW_F_HOST] == nil)
    let odd = fields(#"{"id":2,"method":"mining.authorize","params":{"0":"x"}}"#)
    #expect(odd[MW_F_LOGIN] == nil)
    let scalar = fields(#"{"id":3,"result":5}"#)
    #expect(scalar[MW_F_BOUNDARY] == nil && scalar[MW_F_JOB_TARGET] == nil)
  }

  @Test func pathWalkerStaysInsideCutAndHostileLines() {
    let steps = [mw_json_step(key: nil, index: 0)]
    for line in [#"["#, #"[""#, #"["\"#, #"[1,"#, "[" + String(repeating: "[", count: 100) + "]", #"{"a""#] {
      let bytes = Array(line.utf8)
      var v = mw_json_value()
      if mw_json_find(bytes, bytes.count, steps, 1, &v) {
        #expect(Int(v.off) + Int(v.len) <= bytes.count, "\(line)")
      }
    }
  }
}
