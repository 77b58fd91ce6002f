/// IDNA for signature names: a label with non-ASCII characters becomes its `xn--` Punycode form
/// (RFC 3492 encoding with the IDNA parameters), because that is how it appears in DNS, TLS and
/// HTTP. Lower-casing is the only mapping done (full UTS 46 mapping is out of scope).
enum Punycode {
  private static let base = 36
  private static let tmin = 1
  private static let tmax = 26
  private static let skew = 38
  private static let damp = 700
  private static let initialBias = 72
  private static let initialN = 128

  static func toASCII(_ domain: String) -> String? {
    var labels: [String] = []
    for label in domain.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
      if label.unicodeScalars.allSatisfy(\.isASCII) {
        labels.append(String(label))
      } else {
        guard let encoded = encode(String(label)) else { return nil }
        labels.append("xn--" + encoded)
      }
    }
    return labels.joined(separator: ".")
  }

  private static func digit(_ d: Int) -> Character {
    Character(UnicodeScalar(UInt8(d < 26 ? d + 97 : d - 26 + 48)))
  }

  private static func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
    var d = first ? delta / damp : delta / 2
    d += d / numPoints
    var k = 0
    while d > ((base - tmin) * tmax) / 2 {
      d /= base - tmin
      k += base
    }
    return k + (base - tmin + 1) * d / (d + skew)
  }

  static func encode(_ input: String) -> String? {
    let scalars = input.unicodeScalars.map { Int($0.value) }
    var output = String(input.unicodeScalars.filter(\.isASCII).map(Character.init))
    let basic = output.count
    var handled = basic
    if basic > 0 { output.append("-") }
    var n = initialN
    var delta = 0
    var bias = initialBias
    while handled < scalars.count {
      guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
      guard (m - n) <= (Int.max - delta) / (handled + 1) else { return nil }
      delta += (m - n) * (handled + 1)
      n = m
      for c in scalars {
        if c < n { delta += 1 }
        if c == n {
          var q = delta
          var k = base
          while true {
            let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
            if q < t { break }
            output.append(digit(t + (q - t) % (base - t)))
            q = (q - t) / (base - t)
            k += base
          }
          output.append(digit(q))
          bias = adapt(delta, handled + 1, handled == basic)
          delta = 0
          handled += 1
        }
      }
      delta += 1
      n += 1
    }
    return output
  }
}
