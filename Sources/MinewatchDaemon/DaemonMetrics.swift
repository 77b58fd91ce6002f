import MinewatchKit
import Prometheus

/// The daemon's Prometheus metrics. Thread-safe (the registry is), so the capture thread
/// updates them and the HTTP endpoint reads them.
public final class DaemonMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let miningHosts: Gauge
  let pools: Gauge
  let sessionsActive: Gauge
  let egressBits: Counter
  let sessionsStarted: Counter
  let sessionsEnded: Counter
  let received: Gauge
  let dropped: Gauge
  let ifDropped: Gauge
  let powerWatts: Gauge

  /// minewatch_NAME[_UNIT], with its help text.
  private static func d(_ name: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "minewatch", metricName: name, unitName: unit, helpText: help)
  }

  /// Every series carries the sensor's name (`sensor`), so many sensors add up in one
  /// Prometheus without losing which said what.
  let sensorLabel: [(String, String)]

  /// Every anomaly the daemon can count, and every verdict, starts at 0: a dashboard's
  /// expression over them names a series that exists from the first scrape, and `increase()`
  /// sees the first count.
  public static var anomalyNames: [String] {
    Pipeline.anomalyNames + ["verify_queue_full", "json_log_write_failed"]
  }

  public init(sensor: String? = nil) {
    sensorLabel = sensor.map { [("sensor", $0)] } ?? []
    miningHosts = registry.makeGauge(
      descriptor: Self.d("mining_hosts", "Hosts mining through a pool in the last summary interval"),
      labels: sensorLabel)
    pools = registry.makeGauge(
      descriptor: Self.d("pools", "Distinct pool addresses in the last summary interval"), labels: sensorLabel
    )
    sessionsActive = registry.makeGauge(
      descriptor: Self.d("sessions_active", "Mining sessions open now"), labels: sensorLabel)
    egressBits = registry.makeCounter(
      descriptor: Self.d("egress_bits_to_pools_total", "Bits sent by internal hosts to mining pools"),
      labels: sensorLabel)
    sessionsStarted = registry.makeCounter(
      descriptor: Self.d("sessions_started_total", "Mining sessions announced"), labels: sensorLabel)
    sessionsEnded = registry.makeCounter(
      descriptor: Self.d("sessions_ended_total", "Mining sessions ended"), labels: sensorLabel)
    received = registry.makeGauge(
      descriptor: Self.d("capture_packets_received", "Packets the kernel handed to the capture"),
      labels: sensorLabel)
    dropped = registry.makeGauge(
      descriptor: Self.d("capture_packets_dropped", "Packets dropped by the kernel's capture buffer"),
      labels: sensorLabel)
    ifDropped = registry.makeGauge(
      descriptor: Self.d("capture_packets_if_dropped", "Packets dropped by the interface"),
      labels: sensorLabel)
    powerWatts = registry.makeGauge(
      descriptor: Self.d(
        "power", unit: "watts", "Estimated power drawn by the mining hosts of the last summary interval"),
      labels: sensorLabel)
    for name in Self.anomalyNames { _ = anomalyCounter(name) }
    for status in PoolVerdict.Status.allCases { _ = verificationCounter(status.rawValue) }
  }

  private func anomalyCounter(_ name: String) -> Counter {
    registry.makeCounter(
      descriptor: Self.d("anomalies", unit: "total", "Malformed or bounded input, by anomaly name"),
      labels: sensorLabel + [("name", name)])
  }

  private func verificationCounter(_ status: String) -> Counter {
    registry.makeCounter(
      descriptor: Self.d("verifications", unit: "total", "Suspect endpoints verified, by verdict"),
      labels: sensorLabel + [("status", status)])
  }

  /// The per-algorithm hashrate gauges now exported; an algorithm no longer mined loses its
  /// gauge (a stale series would tell a dashboard it is still mined). Touched by the capture
  /// thread only.
  private let hashrateGauges = HashrateGauges()

  final class HashrateGauges: @unchecked Sendable {
    var byAlgorithm: [String: Gauge] = [:]
  }

  func summary(hosts: Int, pools: Int, rates: [String: Double], active: Int, powerW: Double = 0) {
    miningHosts.set(Double(hosts))
    powerWatts.set(powerW)
    self.pools.set(Double(pools))
    sessionsActive.set(Double(active))
    for (algorithm, gauge) in hashrateGauges.byAlgorithm where rates[algorithm] == nil {
      registry.unregisterGauge(gauge)
      hashrateGauges.byAlgorithm[algorithm] = nil
    }
    for (algorithm, rate) in rates {
      let gauge = registry.makeGauge(
        descriptor: Self.d(
          "hashrate", unit: "hps",
          "Estimated hashrate to pools in the last summary interval, hashes (solutions) per second"),
        labels: sensorLabel + [("algorithm", algorithm)])
      gauge.set(rate)
      hashrateGauges.byAlgorithm[algorithm] = gauge
    }
  }

  func verified(_ status: String) { verificationCounter(status).increment() }

  func capture(received r: UInt64, dropped d: UInt64, ifDropped i: UInt64) {
    received.set(Double(r))
    dropped.set(Double(d))
    ifDropped.set(Double(i))
  }

  /// Each fanout worker's kernel counters, by `worker` (only with more than one worker).
  func captureWorkers(_ workers: [SummaryAlert.CaptureWorker]) {
    for w in workers {
      let labels = sensorLabel + [("worker", String(w.worker))]
      registry.makeGauge(
        descriptor: Self.d(
          "capture_worker_packets_received", "Packets the kernel handed to one capture worker"),
        labels: labels
      ).set(Double(w.received))
      registry.makeGauge(
        descriptor: Self.d(
          "capture_worker_packets_dropped", "Packets one capture worker's kernel buffer dropped"),
        labels: labels
      ).set(Double(w.dropped))
    }
  }

  func anomalies(_ now: [String: UInt64], since before: [String: UInt64]) {
    for (name, count) in now where count > before[name, default: 0] {
      anomalyCounter(name).increment(by: Int64(count - before[name, default: 0]))
    }
  }

  /// The Prometheus text exposition.
  public func exposition() -> [UInt8] {
    var buffer: [UInt8] = []
    registry.emit(into: &buffer)
    return buffer
  }
}
