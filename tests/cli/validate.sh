#!/bin/sh
# bridgesim validate: an undefined dialect is an error (issue #6; it passed, and the run
# failed), and a relative dialect path is taken from the scenario file's directory, not
# from the cwd, so validate and run work from anywhere.
. "$(dirname "$0")/lib.sh"
export BRIDGESIM_DIALECTS="$ROOT/configs/dialects"
run validate "$SMALL" --set networks.mir.dialect=mri
want_rc 2 "an undefined dialect"
want_in err "networks.mir.dialect: no dialect 'mri'" "an undefined dialect"
want_in err "use one of: iso87-ascii, iso87-binary, mir, shetab" "the names are listed"
mkdir -p "$WORK/sc/d" "$WORK/elsewhere"
cp "$ROOT/configs/dialects/mir.yaml" "$WORK/sc/d/my.yaml"
sed 's/^  mir:$/  mir:\n    dialect: d\/my.yaml/' "$SMALL" >"$WORK/sc/s.yaml"
grep -q 'dialect: d/my.yaml' "$WORK/sc/s.yaml" || { echo "FAIL: test setup"; exit 1; }
cd "$WORK/elsewhere" || exit 1
run validate ../sc/s.yaml
want_rc 0 "a relative dialect path from another cwd"
run run ../sc/s.yaml --quiet --out "$WORK/r" --set signing.algorithm=hmac-sha256
want_rc 0 "run with a relative dialect path from another cwd"
run validate ../sc/s.yaml --set 'time.drain=1s' --set 'workload.rate_tps=1e-20'
want_rc 2 "drain and rate"
want_in err "use drain: 45s or more" "drain minimum named"
want_in err "workload.rate_tps: 1e-20 is out of range [0.001, 1e+06]" "rate bound"
done_tests
