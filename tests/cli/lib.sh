# Helpers for the CLI tests: each test script sources this, runs bridgesim and checks the
# exit code and what it printed. BRIDGESIM is the program, ROOT the source tree, WORK a
# fresh directory removed at exit.
set -u
BRIDGESIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$2" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fails=0

# run CMD...: run bridgesim with the arguments; exit code in $rc, output in $WORK/out, $WORK/err.
run() {
    "$BRIDGESIM" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

# want_rc N WHAT: the last run exited with N.
want_rc() {
    if [ "$rc" -ne "$1" ]; then
        echo "FAIL: $2: exit $rc, want $1"
        sed 's/^/  stdout: /' "$WORK/out" | head -20
        sed 's/^/  stderr: /' "$WORK/err" | head -20
        fails=$((fails + 1))
    fi
}

# want_in FILE TEXT WHAT: the last run's out or err holds TEXT (a fixed string).
want_in() {
    if ! grep -qF -- "$2" "$WORK/$1"; then
        echo "FAIL: $3: $1 lacks '$2'"
        sed "s/^/  $1: /" "$WORK/$1" | head -20
        fails=$((fails + 1))
    fi
}

# want_not_in FILE TEXT WHAT
want_not_in() {
    if grep -qF -- "$2" "$WORK/$1"; then
        echo "FAIL: $3: $1 holds '$2'"
        sed "s/^/  $1: /" "$WORK/$1" | head -20
        fails=$((fails + 1))
    fi
}

# done_tests: the test's exit code.
done_tests() {
    [ "$fails" -eq 0 ] && echo "ok" && exit 0
    echo "$fails check(s) failed"
    exit 1
}

# A small fast scenario: golden-small with HMAC signatures.
SMALL="$ROOT/tests/scenario/data/golden-small.yaml"
