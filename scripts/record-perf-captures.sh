#!/bin/sh
# Re-record fixtures/profiles/perf-captures (root, perf, g++, node, python3) and,
# with STACKCOLLAPSE=/path/to/stackcollapse-perf.pl, its expected outputs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
D="$here/fixtures/profiles/perf-captures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$D/src/anon.cpp" "$D/src/work.js" "$D/src/work.py" "$D/src/lines.c" "$D/src/codec.c" "$D/src/reader.c" "$tmp/"
cd "$tmp"
g++ -O1 -g -fno-omit-frame-pointer -o anon anon.cpp
gcc -O1 -g -fno-omit-frame-pointer -o lines lines.c codec.c reader.c
rec() { name=$1; shift; perf record -F 999 -g -o "$name.data" "$@" >/dev/null 2>&1; perf script -i "$name.data" 2>/dev/null > "$name.perf.txt"; gzip -9c "$name.perf.txt" > "$D/$name.perf.txt.gz"; }
rec cpp ./anon 15
rec node node work.js 600
rec node-perf-basic-prof node --perf-basic-prof work.js 600
rec python python3 work.py 1.0
# With source lines (perf script -F +srcline): checksum_block 1x and 3x per parse_header call.
srec() { name=$1; shift; perf record -F 999 -g -o "$name.data" "$@" >/dev/null 2>&1; perf script -i "$name.data" -F comm,tid,time,period,event,ip,sym,dso,srcline 2>/dev/null | gzip -9c > "$D/$name.perf.txt.gz"; }
srec srcline-base ./lines 1 1500
srec srcline-head ./lines 3 1500
if [ -n "${STACKCOLLAPSE:-}" ]; then
  for f in cpp node node-perf-basic-prof python; do
    perl "$STACKCOLLAPSE" "$f.perf.txt" | gzip -9c > "$D/results/$f-collapsed.txt.gz"
    for o in all addrs pid; do perl "$STACKCOLLAPSE" "--$o" "$f.perf.txt" | gzip -9c > "$D/results/$f-collapsed-$o.txt.gz"; done
  done
fi
