#!/bin/sh
# SIGINT stops a realtime run cleanly (issue #5 §8): exit 1 with the summary written and
# marked interrupted, unfinished transactions reported as in flight rather than as
# invariant failures, every journal complete (its final signed checkpoint verifies).
# Usage: realtime-sigint.sh BRIDGESIM SCENARIO
set -u
exe=$1
scenario=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$exe" run "$scenario" --quiet --out "$out/run" --set workload.count=400 \
    --set time.drain=30s >"$out/stdout" 2>"$out/stderr" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
status=$?
fail() { echo "realtime-sigint: $*"; cat "$out/stderr"; exit 1; }
[ $status -eq 1 ] || fail "exit status $status, expected 1"
grep -q '"interrupted": true' "$out/run/summary.json" || fail "summary not marked interrupted"
grep -q '"ok": false' "$out/run/summary.json" && fail "an invariant failed: $(grep -B2 '"ok": false' "$out/run/summary.json")"
grep -q '"in_flight": [1-9]' "$out/run/summary.json" || fail "nothing reported in flight"
grep -q 'interrupted' "$out/stderr" || fail "no interrupted message on stderr"
"$exe" log verify "$out/run" >"$out/verify" 2>&1 || { cat "$out/verify"; fail "journals do not verify"; }
exit 0
