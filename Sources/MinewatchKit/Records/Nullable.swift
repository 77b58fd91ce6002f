/// An optional field that is written as `null` when absent, not left out: the published schemas
/// list every field of a record, unknown values included ("unknown is null, never guessed").
/// Reading accepts a missing key as null, so older files still read.
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
  public var wrappedValue: Value?

  public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
  }
}

extension KeyedDecodingContainer {
  public func decode<V>(_ type: Nullable<V>.Type, forKey key: Key) throws -> Nullable<V> {
    try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
  }
}
