#!/bin/sh
# bench --plot renders in a real browser: run a small model-mode ramp, screenshot the SVG
# in headless Chromium and check the picture is not blank (issue #8: "readable in any
# browser"). Skips (exit 77) when Chromium is not installed: CI does not depend on it.
#
# usage: test_plot.sh BRIDGESIM SCENARIO PNGCHECK
set -eu
bridgesim=$1
scenario=$2
pngcheck=$3
browser=
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [ -z "$browser" ]; then
    echo "SKIP: no chromium on PATH"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: no python3 to read the screenshot"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bridgesim" bench "$scenario" --ramp 200:1000:400 --step-duration 2s --warmup 1s \
    --drain 40s --set signing.algorithm=none --set bridge.workers=1 --set bridge.queue_limit=50 \
    --slo p99=2000ms,success=99% --plot "$dir/out.svg" --quiet >"$dir/table.txt" || true
cat "$dir/table.txt"
grep -q '^knee: ' "$dir/table.txt"
grep -q '</svg>' "$dir/out.svg"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$dir/profile" --screenshot="$dir/out.png" --window-size=900,600 \
    "file://$dir/out.svg" >"$dir/chromium.log" 2>&1 || { cat "$dir/chromium.log"; exit 1; }
python3 "$pngcheck" "$dir/out.png"
