#!/usr/bin/env bash
# The daemon's sustained packet rate: the benchmark capture replayed by tcpreplay onto one end
# of a veth pair in a network namespace made here, the daemon capturing on the other end. At
# each rate (packets per second, then as fast as tcpreplay goes) it reports the rate tcpreplay
# reached, the packets the daemon's capture received and the kernel dropped (from its final
# summary), and whether it found what `minewatch scan` finds in the file: the same mining hosts
# and sessions. Needs root (ip netns, tcpreplay). Nothing leaves the namespace.
set -euo pipefail
pcap=$1 mw=$2
rates=${RATES:-"100000 200000 top top2"}
# Capture threads: 1 reads on the engine's thread; more join one PACKET_FANOUT group.
workers_list=${WORKERS:-"1 2"}
# The kernel buffer of each capture handle, MiB (the daemon's default: 64). A small one shows
# where a configuration starts to drop.
buffer_mib=${BUFFER_MIB:-64}
ns=mwbench$$
work=$(mktemp -d)
cleanup() {
  [ -n "${daemon:-}" ] && kill -KILL "$daemon" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link add mb0 type veth peer name mb1
for l in mb0 mb1 lo; do ip netns exec "$ns" ip link set "$l" up; done
# A veth's default 1500-byte MTU would make tcpreplay refuse the capture's jumbo-free but
# full-size frames with VLAN tags: give both ends room.
ip netns exec "$ns" ip link set mb0 mtu 9000
ip netns exec "$ns" ip link set mb1 mtu 9000

cat "$pcap" >/dev/null
expected=$("$mw" scan --format json --quiet "$pcap" | python3 -c '
import json, sys
t = json.load(sys.stdin)["totals"]
print(t["hosts"], t["sessions"])')
packets=$(tcpdump -r "$pcap" -qn 2>/dev/null | wc -l)
echo "capture $pcap: $packets packets; scan finds (hosts sessions) $expected; kernel buffer $buffer_mib MiB a handle"
printf '%-8s %-10s %14s %12s %12s %10s  %s\n' workers rate "reached pps" received dropped "drop %" "found (hosts sessions)"
for workers in $workers_list; do
for rate in $rates; do
  log=$work/alerts-$rate.jsonl
  ip netns exec "$ns" "$mw" run -i mb1 --syslog none --json-log "$log" --summary-interval 1h \
    --sensor bench --workers "$workers" --buffer-mib "$buffer_mib" >"$work/daemon.out" 2>&1 &
  daemon=$!
  for _ in $(seq 50); do grep -q "capturing\|listening\|READY\|started" "$work/daemon.out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  # --preload-pcap: read into memory first, so the disk is not what limits the sender.
  if [ "$rate" = top ]; then speed=(--topspeed --preload-pcap); else speed=(--pps "$rate" --preload-pcap); fi
  if [ "$rate" = top2 ]; then
    # Two senders at once, each as fast as it goes: past what one tcpreplay reaches. Every
    # packet arrives twice (as a duplicating mirror would send it), so the findings are not
    # the scan's; the drops are what this row is for.
    senders=()
    for k in 1 2; do
      ip netns exec "$ns" tcpreplay -i mb0 --topspeed --preload-pcap "$pcap" >"$work/send$k" 2>&1 &
      senders+=($!)
    done
    wait "${senders[@]}"
    reached=$(cat "$work"/send1 "$work"/send2 |
      sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | paste -sd+ | bc)
  else
    reached=$(ip netns exec "$ns" tcpreplay -i mb0 "${speed[@]}" "$pcap" 2>&1 |
      sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1)
  fi
  sleep 2
  kill -TERM "$daemon"
  wait "$daemon" || true
  daemon=
  python3 - "$log" "$rate" "${reached:-?}" "$expected" "$workers" <<'PY'
import json, sys
log, rate, reached, expected, workers = sys.argv[1:6]
final = None
for line in open(log):
    a = json.loads(line)
    if a["event"] == "summary":
        final = a
recv = final.get("capture_received", 0) if final else 0
drop = (final.get("capture_dropped", 0) + final.get("capture_if_dropped", 0)) if final else 0
found = f'{final["mining_hosts"]} {final["sessions_started_total"]}' if final else "-"
pct = 100 * drop / max(recv + drop, 1)
same = "same as scan" if found == expected else f"scan: {expected}"
split = ""
if final and final.get("capture_workers"):
    split = "  per worker: " + " / ".join(f'{w["received"]} ({w["dropped"]} dropped)' for w in final["capture_workers"])
print(f"{workers:<8} {rate:<10} {reached:>14} {recv:>12} {drop:>12} {pct:>9.2f}%  {found} ({same}){split}")
PY
done
done
