#!/usr/bin/env bash
# Runs the plain libpcap loop and minewatch over the same cached file, alternating three times,
# and prints packets/s of each and their ratio (best run of each, one machine, one session).
set -euo pipefail
pcap=$1 loop=$2 mw=$3
cat "$pcap" >/dev/null  # into the page cache
best_loop=999999 best_mw=999999 packets=0
for i in 1 2 3; do
  read -r packets secs _ < <("$loop" "$pcap")
  best_loop=$(python3 -c "print(min($best_loop, $secs))")
  start=$(date +%s.%N)
  "$mw" scan --format json --quiet "$pcap" > /tmp/minewatch-bench.json
  end=$(date +%s.%N)
  best_mw=$(python3 -c "print(min($best_mw, $end - $start))")
done
python3 - "$pcap" "$packets" "$best_loop" "$best_mw" <<'PY'
import json, os, sys
pcap, n, loop, mw = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.load(open("/tmp/minewatch-bench.json"))
size = os.path.getsize(pcap) / 2**20
print(f"capture        {pcap}: {n} packets, {size:.0f} MiB")
print(f"libpcap loop   {loop:.3f} s  {n/loop/1e6:.2f} M packets/s  (the limit)")
print(f"minewatch scan {mw:.3f} s  {n/mw/1e6:.2f} M packets/s  (whole process: start, scan, report)")
print(f"ratio          {loop/mw:.2f} of the limit (target: at least 0.50)")
print(f"found          {r['totals']['hosts']} mining hosts, {r['totals']['sessions']} sessions, "
      f"anomalies {r['anomalies']}")
PY
