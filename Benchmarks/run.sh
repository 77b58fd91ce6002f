#!/usr/bin/env bash
# Times, as whole processes on the same cached file, alternating rounds (BENCH_ROUNDS, 7 unless
# set: a machine shared with others moves single rounds by half): `cat` into /dev/null (reading
# the bytes at all), the plain libpcap loop (the limit), that loop with a
# 1 MiB read buffer, `minewatch scan` (mapped reader, its default threads: a reader and an
# engine on two cores, a reader and engines sharing the flows on more), the same scan on one
# thread (`--threads 1`) and `minewatch scan --reader libpcap`, ndpiReader when NDPI_READER names
# one (nDPI built beside the project), and, when
# MW_BASELINE names another minewatch binary (an earlier commit), that one too. Prints the best
# time of each with the spread of its rounds, and ratios taken round by round (each round's
# commands ran back to back, so a busy moment of the machine hits both sides of a ratio).
set -euo pipefail
pcap=$1 loop=$2 mw=$3 sigs100k=${4:-}
cat "$pcap" >/dev/null  # into the page cache
exec python3 - "$pcap" "$loop" "$mw" "$sigs100k" "${MW_BASELINE:-}" "${NDPI_READER:-}" "${BENCH_ROUNDS:-7}" <<'PY'
import json, os, statistics, subprocess, sys, time
pcap, loop, mw, sigs100k, baseline, ndpi = sys.argv[1:7]
ROUNDS = int(sys.argv[7])
def timed(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t, out
times = {k: [] for k in ("cat", "plain", "buffered", "minewatch", "mw1", "mwlibpcap", "baseline", "ndpi", "minewatch100k", "load100k")}
for _ in range(ROUNDS):
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(["cat", pcap], check=True, stdout=null)
    times["cat"].append(time.perf_counter() - t)
    t, out = timed([loop, pcap]); times["plain"].append(t); packets = int(out)
    t, _ = timed([loop, "--buffer", pcap]); times["buffered"].append(t)
    t, out = timed([mw, "scan", "--format", "json", "--quiet", pcap]); times["minewatch"].append(t)
    report = json.loads(out)
    t, out1 = timed([mw, "scan", "--threads", "1", "--format", "json", "--quiet", pcap]); times["mw1"].append(t)
    one = json.loads(out1)
    # On three cores or more the default shares the flows among engines, each with tables of
    # the stated sizes: counts of what did not fit (evictions) may be lower, nothing else moves.
    pressure = {"flow_table_eviction", "stream_reclaimed", "stream_buffers_exhausted", "rhythm_evicted"}
    def findings(r):
        return {**r, "anomalies": {k: v for k, v in r["anomalies"].items() if k not in pressure}}
    if findings(one) != findings(report):
        sys.exit("the one-thread scan's report differs from the default scan's")
    limits_one = {k: v for k, v in one["anomalies"].items() if k in pressure}
    t, _ = timed([mw, "scan", "--reader", "libpcap", "--format", "json", "--quiet", pcap]); times["mwlibpcap"].append(t)
    if baseline:
        t, _ = timed([baseline, "scan", "--format", "json", "--quiet", pcap]); times["baseline"].append(t)
    if ndpi:
        t, _ = timed([ndpi, "-i", pcap, "-q"]); times["ndpi"].append(t)
    if sigs100k:
        t, out = timed([mw, "scan", "--signatures", sigs100k, "--format", "json", "--quiet", pcap])
        times["minewatch100k"].append(t)
        t, _ = timed([mw, "signatures", "check", sigs100k]); times["load100k"].append(t)
def spread(xs):
    return f"best {min(xs):.3f} s, median {statistics.median(xs):.3f}, worst {max(xs):.3f}"
def ratios(num, den):
    rs = sorted(a / b for a, b in zip(times[num], times[den]))
    return f"{statistics.median(rs):.2f} (rounds {rs[0]:.2f}–{rs[-1]:.2f})"
size = os.path.getsize(pcap) / 2**20
print(f"capture            {pcap}: {packets} packets, {size:.0f} MiB (page cache), {ROUNDS} rounds")
for k, label in (("cat", "cat > /dev/null"), ("plain", "libpcap loop"), ("buffered", "loop, 1 MiB buffer"),
                 ("minewatch", "minewatch scan"), ("mw1", "scan, 1 thread"), ("mwlibpcap", "scan, libpcap read"),
                 ("baseline", "baseline scan"), ("ndpi", "ndpiReader -q")):
    if times[k]:
        print(f"{label:18} {spread(times[k])}  {packets / min(times[k]) / 1e6:5.2f} M packets/s")
print(f"ratio to the limit {ratios('plain', 'minewatch')}  (plain libpcap loop / minewatch scan)")
print(f"  on one thread    {ratios('plain', 'mw1')}  (plain libpcap loop / minewatch scan --threads 1)")
print(f"default vs one    {ratios('mw1', 'minewatch')}  (--threads 1 / the default, {os.cpu_count()} cores)")
print(f"ratio to buffered  {ratios('buffered', 'minewatch')}  (the same loop with a 1 MiB buffer / minewatch)")
print(f"ratio to cat       {ratios('cat', 'minewatch')}  (cat > /dev/null / minewatch)")
print(f"mapped vs libpcap  {ratios('mwlibpcap', 'minewatch')}  (scan through libpcap / scan of the mapped file)")
if ndpi:
    print(f"vs ndpiReader      {ratios('ndpi', 'minewatch')}  (ndpiReader -i FILE -q / minewatch scan)")
if baseline:
    print(f"vs baseline        {ratios('baseline', 'minewatch')}  (baseline / minewatch: above 1 is faster now)")
if sigs100k:
    print(f"with 100k names    {spread(times['minewatch100k'])}  ratio to the limit {ratios('plain', 'minewatch100k')}")
    print(f"load 100k names    {spread(times['load100k'])}  (signatures check: parse, validate, build the match table)")
t = report["totals"]
print(f"found              {t['hosts']} mining hosts, {t['sessions']} sessions, anomalies {report['anomalies']}")
if limits_one != {k: v for k, v in report["anomalies"].items() if k in pressure}:
    print(f"one engine's       table-limit counts {limits_one} (the default's engines each hold tables of that size)")
PY
