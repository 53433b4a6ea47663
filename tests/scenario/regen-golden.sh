#!/bin/sh
# Regenerate the golden journals of tests/scenario/data/golden-small.yaml after an
# intended change, then review `git diff tests/scenario/golden` before committing.
# Usage: tests/scenario/regen-golden.sh [BUILD_DIR]   (default: build)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
out=$(mktemp -d)
"$root/$build/bridgesim" run "$root/tests/scenario/data/golden-small.yaml" --quiet --out "$out"
rm -f "$root"/tests/scenario/golden/*.jsonl
cp "$out"/journals/*.jsonl "$out"/settlement.json "$root/tests/scenario/golden/"
rm -rf "$out"
echo "golden files written to tests/scenario/golden; review: git diff tests/scenario/golden"
