#!/bin/sh
# DE 37: two acquirers never issue the same RRN (they both used to start at
# YDDDHH000001). Every RRN an acquirer sends in a request is unique across the run's
# acquirers, and carries the acquirer's two-digit RRN code (YDDDCCSSSSSS).
. "$(dirname "$0")/lib.sh"
run run "$SMALL" --quiet --out "$WORK/r" --set signing.algorithm=hmac-sha256
want_rc 0 "the run"
for a in mir.MIRACQ1 shetab.SHETABACQ1; do
    grep '"kind":"msg_out"' "$WORK/r/journals/$a.jsonl" | grep '"peer":"[a-z]*.switch"' |
        grep -o '"mti":"0[12]00","proc":"[0-9]*","stan":"[0-9]*","rrn":"[^"]*"' |
        sed 's/.*"rrn":"\([^"]*\)"/\1/' | sort -u >"$WORK/$a.rrn"
done
[ -s "$WORK/mir.MIRACQ1.rrn" ] && [ -s "$WORK/shetab.SHETABACQ1.rrn" ] ||
    { echo "FAIL: no requests found"; fails=$((fails + 1)); }
both=$(comm -12 "$WORK/mir.MIRACQ1.rrn" "$WORK/shetab.SHETABACQ1.rrn")
[ -z "$both" ] || { echo "FAIL: RRNs issued by both acquirers: $both"; fails=$((fails + 1)); }
grep -qv '^[0-9]\{4\}01[0-9]\{6\}$' "$WORK/mir.MIRACQ1.rrn" &&
    { echo "FAIL: mir.MIRACQ1 RRNs without code 01"; cat "$WORK/mir.MIRACQ1.rrn"; fails=$((fails + 1)); }
grep -qv '^[0-9]\{4\}02[0-9]\{6\}$' "$WORK/shetab.SHETABACQ1.rrn" &&
    { echo "FAIL: shetab.SHETABACQ1 RRNs without code 02"; cat "$WORK/shetab.SHETABACQ1.rrn"; fails=$((fails + 1)); }
done_tests
