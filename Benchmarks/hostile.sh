#!/usr/bin/env bash
# Scans each hostile capture and prints time, packets/s, peak memory and what was counted.
set -euo pipefail
gen=$1 mw=$2 dir=$3
mkdir -p "$dir"
printf "%-10s %9s %8s %10s %9s  %s\n" capture packets seconds "Mpkts/s" "peak MiB" "counted"
for kind in synflood stratum endless deepjson dnsflood; do
  f="$dir/$kind.pcap"
  [ -f "$f" ] || "$gen" hostile "$kind" "$f" >/dev/null
  cat "$f" >/dev/null
  /usr/bin/time -f "%e %M" -o "$dir/$kind.time" "$mw" scan --quiet --format json "$f" > "$dir/$kind.json"
  read -r secs kb < "$dir/$kind.time"
  python3 - "$kind" "$secs" "$kb" "$dir/$kind.json" <<'PY'
import json, sys
kind, secs, kb, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
n = r["capture"]["packets"]
counted = ", ".join(f"{k}={v}" for k, v in sorted(r["anomalies"].items()))
print(f"{kind:<10} {n:>9} {secs:>8.2f} {n / max(secs, 1e-9) / 1e6:>10.2f} {kb / 1024:>9.0f}  "
      f"hosts={r['totals']['hosts']} sessions={r['totals']['sessions']} {counted}")
PY
done
