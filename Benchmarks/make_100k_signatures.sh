#!/usr/bin/env bash
# A signature directory with the shipped set plus 100,000 imported names (a plain list through
# `minewatch signatures import`), for the benchmark's second scan.
set -euo pipefail
mw=$1 dir=$2
mkdir -p "$dir"
cp signatures/*.txt "$dir/"
python3 -c 'for i in range(100000): print(f"node{i}.pool-{i % 997}.example")' > "$dir/list.txt"
"$mw" signatures import --format plain --pool "benchmark list" "$dir/list.txt" > "$dir/big.pools.txt" 2>/dev/null
rm "$dir/list.txt"
