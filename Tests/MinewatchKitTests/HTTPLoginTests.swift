import CaptureForge
import Foundation
import Testing

@testable import MinewatchKit

/// Getwork and ETH-proxy miners over HTTP put their account in the URL or in Basic
/// authentication, and their pool in the Host header, listed or not.
@Suite struct HTTPLoginTests {
  static let t0: UInt64 = 1_763_900_000 * 1_000_000_000
  static let eth = "0x9c99d212f7e5daa18ab50810e0fd255d1f04303b"

  /// One miner's HTTP exchange: a getWork, a hashrate statement and a share.
  func httpMiner(_ w: PcapWriter, client: String, target: String, host: String, auth: String? = nil) {
    let c = Conversation(
      writer: w, client: Peer(client, 41000), server: Peer("198.51.100.44", 8888), startNs: Self.t0)
    let bodies = [
      #"{"jsonrpc":"2.0","method":"eth_getWork","params":[],"id":1}"#,
      #"{"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1d08a61","0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c"],"id":2}"#,
      #"{"jsonrpc":"2.0","method":"eth_submitWork","params":["0x0000000000000001","0x5bb5a5d5e0c0b0a0","0x00"],"id":3}"#,
    ]
    for (i, body) in bodies.enumerated() {
      var head = "POST \(target) HTTP/1.1\r\nHost: \(host)\r\n"
      if let auth { head += "Authorization: Basic \(Data(auth.utf8).base64EncodedString())\r\n" }
      head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
      c.send(fromClient: true, Array((head + body).utf8))
      let reply =
        i == 0
        ? #"{"id":1,"jsonrpc":"2.0","result":["0x1","0x2","0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba"]}"#
        : #"{"id":\#(i + 1),"jsonrpc":"2.0","result":true}"#
      c.send(
        fromClient: false,
        Array(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(reply.utf8.count)\r\n\r\n\(reply)"
            .utf8))
      c.advance(seconds: 5)
    }
  }

  @Test func accountInTheURLOrCredentialsAndAnUnlistedHost() throws {
    let r = try scanForged("getwork-http.pcap") { w in
      httpMiner(
        w, client: "10.33.0.1", target: "/?miner=30@\(Self.eth)@rig1", host: "eth.unlisted-pool.example:8888")
      httpMiner(
        w, client: "10.33.0.2", target: "/\(Self.eth)/rig2/ops@example.org", host: "198.51.100.44:8888")
      httpMiner(w, client: "10.33.0.3", target: "/\(Self.eth).rig3", host: "getwork.unlisted-pool.example")
      httpMiner(w, client: "10.33.0.4", target: "/", host: "198.51.100.44", auth: "mwlab.rig04:x")
      httpMiner(w, client: "10.33.0.5", target: "/api/v1/work", host: "198.51.100.44")
      // A target past the 255 bytes the core keeps is not kept at all: no cut account.
      httpMiner(
        w, client: "10.33.0.6", target: "/\(Self.eth)/" + String(repeating: "r", count: 260),
        host: "198.51.100.44")
    }
    func session(_ ip: String) throws -> ScanReport.Session { try #require(r.host(ip)?.sessions.first) }

    let s1 = try session("10.33.0.1")
    #expect(s1.protocolVariant == "eth-proxy" && s1.wallet == Self.eth && s1.worker == "rig1")
    #expect(s1.poolDomain == "eth.unlisted-pool.example" && s1.poolName == nil)
    #expect(s1.evidence.contains("http-host:eth.unlisted-pool.example") && s1.evidence.contains("http-url"))
    // The eth_submitHashrate figure and the URL's 30 MH/s, averaged.
    #expect(within(s1.reportedHashrate, (30_444_129 + 30e6) / 2, 0.001))

    let s2 = try session("10.33.0.2")
    #expect(s2.wallet == Self.eth && s2.worker == "rig2")

    let s3 = try session("10.33.0.3")
    #expect(s3.wallet == Self.eth && s3.worker == "rig3" && s3.poolDomain == "getwork.unlisted-pool.example")

    let s4 = try session("10.33.0.4")
    #expect(s4.login == "mwlab.rig04" && s4.account == "mwlab" && s4.worker == "rig04")
    #expect(s4.evidence.contains("http-basic-auth"))

    // A path that is not an account gives none.
    let s5 = try session("10.33.0.5")
    #expect(s5.login == nil && s5.wallet == nil)
    let s6 = try session("10.33.0.6")
    #expect(s6.login == nil && s6.protocolVariant == "eth-proxy")
  }

  @Test func urlForms() {
    #expect(
      HTTPLogin.parse(target: "/?miner=30@\(Self.eth)@rig", basic: nil)
        == .init(login: "\(Self.eth)/rig", statedRate: 30e6))
    #expect(HTTPLogin.parse(target: "/?miner=\(Self.eth)@rig", basic: nil)?.login == "\(Self.eth)/rig")
    #expect(
      HTTPLogin.parse(target: "http://pool.example:8888/\(Self.eth)/rig", basic: nil)?.login
        == "\(Self.eth)/rig")
    #expect(HTTPLogin.parse(target: "/%30x9c99d212f7e5daa18ab50810e0fd255d1f04303b.rig", basic: nil) != nil)
    #expect(HTTPLogin.parse(target: "/", basic: nil) == nil)
    #expect(HTTPLogin.parse(target: "/index.html", basic: nil) == nil)
    #expect(HTTPLogin.parse(target: "/?miner=", basic: nil) == nil)
    #expect(HTTPLogin.parse(target: nil, basic: "not base64!") == nil)
    #expect(HTTPLogin.parse(target: nil, basic: Data(":x".utf8).base64EncodedString()) == nil)
    #expect(
      HTTPLogin.parse(target: nil, basic: Data("user:pa:ss".utf8).base64EncodedString())?.login == "user")
  }
}
