#!/bin/sh
# run --out DIR reused: an earlier run's journals are removed first, so a journal of a node
# the new run does not have cannot mix with the new ones (it used to stay, and `log verify`
# then read both runs); a directory holding other files is refused unless --force, and
# --force leaves those files alone.
. "$(dirname "$0")/lib.sh"
small() { run run "$SMALL" --quiet --set signing.algorithm=hmac-sha256 "$@"; }
small --out "$WORK/r"
want_rc 0 "first run"
cp "$WORK/r/journals/bridge.jsonl" "$WORK/r/journals/ghost.jsonl"
small --out "$WORK/r" --seed 12
want_rc 0 "second run into the same directory"
[ ! -e "$WORK/r/journals/ghost.jsonl" ] ||
    { echo "FAIL: a journal of the earlier run survived"; fails=$((fails + 1)); }
run log verify "$WORK/r"
want_rc 0 "log verify of the reused directory"
echo notes >"$WORK/r/notes.txt"
small --out "$WORK/r"
want_rc 2 "a directory with other files"
want_in err "holds files that are not from a bridgesim run ('notes.txt')" "foreign file named"
want_in err "--force" "the fix is named"
small --out "$WORK/r" --force
want_rc 0 "--force"
[ -e "$WORK/r/notes.txt" ] || { echo "FAIL: --force removed notes.txt"; fails=$((fails + 1)); }
mkdir "$WORK/empty"
small --out "$WORK/empty"
want_rc 0 "an existing empty directory"
done_tests
