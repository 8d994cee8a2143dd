"""Benchmark: one replication of semir_double11_2016 with every mechanism on (bot overflow,
escalations, 10-turn chats, shifts, follow-ups, nudges): wall time, SimPy events/s,
customers/s and peak memory (RSS), median over --runs fresh processes.

    python benchmarks/double11_day.py [--runs 3] [--out FILE]

Target (issue 5): at most 15 s per replication and at most 1 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import emit, median, table

CHILD = """
import json, resource, time, cssim
cfg = cssim.load_scenario("semir_double11_2016")
t0 = time.perf_counter()
res = cssim.simulate(cfg, seed=2016)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "events": res.metrics["events"], "customers": res.metrics["inquiries"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh processes to take the median of")
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args()
    runs = []
    for i in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"run {i + 1}/{args.runs}: {runs[-1]['wall_s']:.2f} s", file=sys.stderr)
    wall = median([r["wall_s"] for r in runs])
    ev, cust = runs[0]["events"], runs[0]["customers"]
    rss = max(r["rss_mb"] for r in runs)
    rows = [
        ["wall time per replication (median)", f"{wall:.2f} s", "<= 15 s", "yes" if wall <= 15 else "NO"],
        ["runs (min .. max)", f"{min(r['wall_s'] for r in runs):.2f} .. {max(r['wall_s'] for r in runs):.2f} s", "", ""],
        ["customers (inquiries)", f"{cust:,}", "", ""],
        ["SimPy events", f"{ev:,}", "", ""],
        ["events/s", f"{ev / wall:,.0f}", "", ""],
        ["customers/s", f"{cust / wall:,.0f}", "", ""],
        ["peak RSS (max over runs)", f"{rss:,.0f} MB", "<= 1024 MB", "yes" if rss <= 1024 else "NO"],
    ]
    emit("double11_day: one semir_double11_2016 replication, all mechanisms on", table(["measure", "value", "target", "met"], rows), args.out)


if __name__ == "__main__":
    main()
