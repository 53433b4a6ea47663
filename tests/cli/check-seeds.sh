#!/bin/sh
# bridgesim check and run take 64-bit seeds: S >= 2^63 is a seed like any other, S+N-1 past
# 2^64-1 is a usage error (it used to wrap and report seeds as passed that never ran), and
# summary.json carries the seed as a decimal string (it used to say -1).
. "$(dirname "$0")/lib.sh"
run check "$SMALL" --seeds 2 --first 9223372036854775808 --set signing.algorithm=hmac-sha256
want_rc 0 "check from 2^63"
want_in out "2 seeds checked: 2 passed, 0 failed" "check from 2^63"
run check "$SMALL" --seeds 2 --first 18446744073709551615
want_rc 2 "check past 2^64-1"
want_in err "use --first 18446744073709551614 or fewer seeds" "check past 2^64-1"
run check "$SMALL" --seeds 1 --first 18446744073709551615 --set signing.algorithm=hmac-sha256
want_rc 0 "check of the last seed"
want_in out "1 seed checked: 1 passed, 0 failed" "check of the last seed"
run check "$SMALL" --seeds 1 --first 18446744073709551616
want_rc 2 "--first 2^64"
want_in err "0..18446744073709551615" "--first 2^64"
run run "$SMALL" --quiet --out "$WORK/run" --seed 18446744073709551615 \
    --set signing.algorithm=hmac-sha256
want_rc 0 "run --seed 2^64-1"
grep -q '"seed": "18446744073709551615"' "$WORK/run/summary.json" ||
    { echo "FAIL: summary.json seed"; grep seed "$WORK/run/summary.json"; fails=$((fails + 1)); }
grep -q '"seed": "18446744073709551615"' "$WORK/run/settlement.json" ||
    { echo "FAIL: settlement.json seed"; grep seed "$WORK/run/settlement.json"; fails=$((fails + 1)); }
done_tests
