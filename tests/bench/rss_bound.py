#!/usr/bin/env python3
"""Peak RSS of model-mode runs (issue #8: memory follows the work in flight, not the run).

Each run is one `bridgesim bench` step in virtual time (journals off, as in every bench
step; signing none), whose process is forked for the step, so its peak_rss_kb is that run's
own. The step's length is N / RATE seconds, so it starts about N transactions.

usage:
  rss_bound.py BRIDGESIM SCENARIO --rate R --runs N1[,N2...] [--limit-mb M] [--max-growth F]

  --limit-mb M:    fail when a run peaks at M MiB or more.
  --max-growth F:  fail when the largest run peaks above F times the smallest one's RSS: a
                   run five times longer at the same rate must not need much more memory
                   once the retention window is full.
Prints one line per run: transactions, virtual seconds, CPU and wall seconds, peak RSS.
Exit 0 when every bound holds, 1 when one does not, 2 on a usage or run error.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def run(bridgesim, scenario, rate, n):
    seconds = n / rate
    with tempfile.TemporaryDirectory(prefix="bridgesim-rss-") as d:
        out = os.path.join(d, "b.json")
        cmd = [bridgesim, "bench", scenario, "--rate", "%g" % rate,
               "--step-duration", "%dms" % round(seconds * 1000), "--warmup", "0s",
               "--set", "signing.algorithm=none", "--quiet", "--json", out]
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        if p.returncode not in (0, 1) or not os.path.exists(out):
            sys.stderr.write("%s\nfailed (%d): %s\n" % (" ".join(cmd), p.returncode, p.stderr))
            sys.exit(2)
        with open(out) as f:
            step = json.load(f)["steps"][0]
    return {
        "transactions": step["started"],
        "seconds": step["simulated_seconds"],
        "cpu": step["cpu_seconds"],
        "wall": wall,
        "rss_kb": step["peak_rss_kb"],
        "cmd": " ".join(cmd),
    }


def main(argv):
    args = argv[1:]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    bridgesim, scenario = args[0], args[1]
    rate, runs, limit, growth = None, [], None, None
    i = 2
    try:
        while i < len(args):
            if args[i] == "--rate":
                rate = float(args[i + 1])
            elif args[i] == "--runs":
                runs = [int(float(x)) for x in args[i + 1].split(",")]
            elif args[i] == "--limit-mb":
                limit = float(args[i + 1])
            elif args[i] == "--max-growth":
                growth = float(args[i + 1])
            else:
                raise ValueError(args[i])
            i += 2
    except (IndexError, ValueError) as e:
        sys.stderr.write("rss_bound.py: bad argument %s\n%s" % (e, __doc__))
        return 2
    if not rate or rate <= 0 or not runs:
        sys.stderr.write(__doc__)
        return 2
    results = []
    for n in runs:
        r = run(bridgesim, scenario, rate, n)
        results.append(r)
        print("%10d transactions  %8.0f s virtual  cpu %7.1f s  wall %7.1f s  peak RSS %7.1f MiB"
              "   (%s)" % (r["transactions"], r["seconds"], r["cpu"], r["wall"],
                           r["rss_kb"] / 1024, r["cmd"]), flush=True)
    ok = True
    if limit is not None:
        for r in results:
            if r["rss_kb"] / 1024 >= limit:
                print("FAIL: %d transactions peaked at %.1f MiB, the bound is %.0f MiB"
                      % (r["transactions"], r["rss_kb"] / 1024, limit))
                ok = False
    if growth is not None and len(results) > 1:
        lo = min(results, key=lambda r: r["transactions"])
        hi = max(results, key=lambda r: r["transactions"])
        if hi["rss_kb"] > growth * lo["rss_kb"]:
            print("FAIL: %d transactions peaked at %.1f MiB, more than %.2f x the %.1f MiB of %d"
                  % (hi["transactions"], hi["rss_kb"] / 1024, growth, lo["rss_kb"] / 1024,
                     lo["transactions"]))
            ok = False
        else:
            print("ok: %.2f x the RSS for %.1f x the transactions"
                  % (hi["rss_kb"] / lo["rss_kb"], hi["transactions"] / lo["transactions"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
