#!/bin/sh
# The golden-journal test: run golden-small.yaml and compare every journal and the
# settlement file byte for byte with tests/scenario/golden/. On a difference, print the
# first differing lines and how to regenerate after an intended change.
# Usage: check-golden.sh BRIDGESIM SOURCE_ROOT
set -u
exe=$1
root=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$exe" run "$root/tests/scenario/data/golden-small.yaml" --quiet --out "$out" || exit 1
status=0
for g in "$root"/tests/scenario/golden/*; do
    f="$out/journals/$(basename "$g")"
    [ "$(basename "$g")" = settlement.json ] && f="$out/settlement.json"
    if ! cmp -s "$g" "$f"; then
        echo "golden mismatch: $(basename "$g")"
        diff "$g" "$f" | head -6
        status=1
    fi
done
n=$(ls "$out"/journals/*.jsonl | wc -l)
m=$(ls "$root"/tests/scenario/golden/*.jsonl | wc -l)
if [ "$n" != "$m" ]; then
    echo "golden mismatch: $n journals written, $m golden files"
    status=1
fi
[ $status -eq 0 ] || echo "after an intended change: tests/scenario/regen-golden.sh, then review git diff"
exit $status
