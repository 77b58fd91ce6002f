#!/usr/bin/env bash
# Times, as whole processes on the same cached file, alternating five rounds (best of each):
# the plain libpcap loop (the limit), that loop with minewatch's 1 MiB read buffer, and
# `minewatch scan`. Prints packets/s and the ratios measured in this one run.
set -euo pipefail
pcap=$1 loop=$2 mw=$3 sigs100k=${4:-}
cat "$pcap" >/dev/null  # into the page cache
exec python3 - "$pcap" "$loop" "$mw" "$sigs100k" <<'PY'
import json, os, subprocess, sys, time
pcap, loop, mw, sigs100k = sys.argv[1:5]
def timed(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t, out
best = {"plain": 1e9, "buffered": 1e9, "minewatch": 1e9, "minewatch100k": 1e9, "load100k": 1e9}
for _ in range(5):
    t, out = timed([loop, pcap]); best["plain"] = min(best["plain"], t); packets = int(out)
    t, _ = timed([loop, "--buffer", pcap]); best["buffered"] = min(best["buffered"], t)
    t, out = timed([mw, "scan", "--format", "json", "--quiet", pcap]); best["minewatch"] = min(best["minewatch"], t)
    report = json.loads(out)
    if sigs100k:
        t, out = timed([mw, "scan", "--signatures", sigs100k, "--format", "json", "--quiet", pcap])
        best["minewatch100k"] = min(best["minewatch100k"], t)
        t, _ = timed([mw, "signatures", "check", sigs100k]); best["load100k"] = min(best["load100k"], t)
size = os.path.getsize(pcap) / 2**20
print(f"capture            {pcap}: {packets} packets, {size:.0f} MiB (page cache)")
for k, label in (("plain", "libpcap loop"), ("buffered", "loop, 1 MiB buffer"), ("minewatch", "minewatch scan")):
    print(f"{label:18} {best[k]:.3f} s  {packets / best[k] / 1e6:5.2f} M packets/s")
print(f"ratio to the limit {best['plain'] / best['minewatch']:.2f}  (plain libpcap loop; target >= 0.50)")
print(f"ratio to buffered  {best['buffered'] / best['minewatch']:.2f}  (the same loop with minewatch's read buffer)")
if sigs100k:
    m = best["minewatch100k"]
    print(f"with 100k names   {m:.3f} s  {packets / m / 1e6:5.2f} M packets/s  ratio to the limit {best['plain'] / m:.2f}")
    print(f"load 100k names    {best['load100k']:.3f} s  (signatures check: parse, validate, build the match table)")
t = report["totals"]
print(f"found              {t['hosts']} mining hosts, {t['sessions']} sessions, anomalies {report['anomalies']}")
PY
