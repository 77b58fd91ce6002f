import MinewatchKit

// The Swift session layer under libFuzzer: `make fuzz` builds this with -DFUZZING and
// --sanitize=fuzzer,address, so libFuzzer's main drives LLVMFuzzerTestOneInput below. In an
// ordinary build it is a stub that says how to run it.

private let signatures = Signatures()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  SessionProbe.feed(UnsafeRawBufferPointer(start: data, count: size), signatures: signatures)
  return 0
}

#if !FUZZING
  @main
  enum FuzzSessionStub {
    static func main() {
      print("fuzz-session: build and run it with `make fuzz`")
    }
  }
#endif
