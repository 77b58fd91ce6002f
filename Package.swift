// swift-tools-version: 6.0
import PackageDescription

let strictC: [CSetting] = [
  .unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"])
]

let package = Package(
  name: "minewatch",
  products: [
    .executable(name: "minewatch", targets: ["minewatch"]),
    .library(name: "MinewatchKit", targets: ["MinewatchKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
  ],
  targets: [
    // libpcap from Debian's libpcap-dev.
    .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
    .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CTLS", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // The per-packet hot path: decoding, flows, reassembly, matchers. Plain C, no allocation per packet.
    .target(
      name: "MinewatchCore", dependencies: ["CPcap"], cSettings: strictC,
      linkerSettings: [.linkedLibrary("pcap")]),
    // Sessions, estimation, aggregation, reports: everything above the C core.
    .target(name: "MinewatchKit", dependencies: ["MinewatchCore", "CPcap", "CCrypto", "CTLS", "CZlib"]),
    // The daemon: live capture, alerts to syslog and JSON lines, metrics, systemd life cycle.
    .target(
      name: "MinewatchDaemon",
      dependencies: [
        "MinewatchKit", "MinewatchCore",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]),
    // Writes pcap files of synthetic traffic: the bundled sample, test captures and the benchmark.
    .target(name: "CaptureForge"),
    .executableTarget(
      name: "minewatch",
      dependencies: [
        "MinewatchKit", "MinewatchDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "minewatch-gen",
      dependencies: ["CaptureForge", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // The Swift session layer under libFuzzer (make fuzz); a stub otherwise.
    .executableTarget(
      name: "fuzz-session", dependencies: ["MinewatchKit"],
      swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    .testTarget(name: "MinewatchCoreTests", dependencies: ["MinewatchCore", "CaptureForge"]),
    .testTarget(name: "MinewatchKitTests", dependencies: ["MinewatchKit", "CaptureForge", "CPcap"]),
    .testTarget(
      name: "MinewatchDaemonTests", dependencies: ["MinewatchDaemon", "MinewatchKit", "CaptureForge"]),
  ],
  swiftLanguageModes: [.v6]
)
