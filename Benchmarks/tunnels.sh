#!/usr/bin/env bash
# The cost of each encapsulation: the benchmark capture wrapped by `minewatch-gen wrap` in
# each kind (written once), then `minewatch scan` of the bare file and of each wrapped one,
# in a rotating order, five rounds; prints the best time of each and its ratio to the bare scan taken
# round by round, and checks that every wrapped scan finds what the bare one finds.
set -euo pipefail
pcap=$1 gen=$2 mw=$3
kinds=(vxlan erspan2 mpls gtpu pppoe gre-ip)
# The bare file, copied too: a file written just now sits in the page cache differently (in
# larger folios, faster to map) from one cached long ago, which once made every wrapped copy
# look faster than the original.
bare=${pcap%.pcap}-bare.pcap
[ -f "$bare" ] || cat "$pcap" > "$bare"
for k in "${kinds[@]}"; do
  out=${pcap%.pcap}-$k.pcap
  [ -f "$out" ] || "$gen" wrap "$k" "$pcap" "$out" >/dev/null
done
exec python3 - "$bare" "$mw" "${kinds[@]}" <<'PY'
import json, statistics, subprocess, sys, time
pcap, mw, kinds = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {"bare": pcap} | {k: pcap[:-len("-bare.pcap")] + "-" + k + ".pcap" for k in kinds}
for f in files.values():
    subprocess.run(["cat", f], check=True, stdout=subprocess.DEVNULL)
times = {k: [] for k in files}
found = {}
order = list(files)
for rnd in range(5):
    # A different order each round, so that no file always runs first (colder) or last.
    for k in order[rnd % len(order):] + order[:rnd % len(order)]:
        f = files[k]
        t = time.perf_counter()
        out = subprocess.run([mw, "scan", "--format", "json", "--quiet", f], check=True, capture_output=True, text=True).stdout
        times[k].append(time.perf_counter() - t)
        r = json.loads(out)
        found[k] = (r["totals"]["hosts"], r["totals"]["sessions"], sorted(r["totals"]["hashrate_hps_by_algorithm"].items()))
for k in files:
    rs = sorted(a / b for a, b in zip(times[k], times["bare"]))
    same = "same findings" if found[k] == found["bare"] else f"DIFFERENT: {found[k]} vs {found['bare']}"
    print(f"{k:8} best {min(times[k]):.3f} s  ratio to bare {statistics.median(rs):.2f} (rounds {rs[0]:.2f}-{rs[-1]:.2f})  {same}")
PY
