#!/bin/sh
# bench --json/--plot to a path that cannot be written is a usage error before the bench
# runs (it used to run the whole bench and fail at the end); a writable path still works
# and holds the results.
. "$(dirname "$0")/lib.sh"
bench() {
    run bench "$SMALL" --rate 20 --step-duration 1 --warmup 0 --quiet \
        --set signing.algorithm=hmac-sha256 "$@"
}
bench --json "$WORK/missing/x.json"
want_rc 2 "--json into a missing directory"
want_in err "cannot write $WORK/missing/x.json" "--json into a missing directory"
want_not_in out "knee" "--json into a missing directory: the bench did not run"
bench --plot "$WORK/missing/x.svg"
want_rc 2 "--plot into a missing directory"
want_in err "cannot write $WORK/missing/x.svg" "--plot into a missing directory"
want_not_in out "knee" "--plot into a missing directory: the bench did not run"
bench --json "$WORK/ok.json" --plot "$WORK/missing/x.svg"
want_rc 2 "--json fine, --plot not"
[ ! -e "$WORK/ok.json" ] || { echo "FAIL: left an empty $WORK/ok.json behind"; fails=$((fails + 1)); }
echo old >"$WORK/old.json"
bench --json "$WORK/old.json" --plot "$WORK/ok.svg"
want_rc 0 "writable --json and --plot"
want_in out "knee" "writable --json and --plot"
grep -q '"scenario": "golden-small"' "$WORK/old.json" && ! grep -q '^old' "$WORK/old.json" ||
    { echo "FAIL: old.json not replaced by the results"; fails=$((fails + 1)); }
grep -q '<svg' "$WORK/ok.svg" || { echo "FAIL: no svg written"; fails=$((fails + 1)); }
done_tests
