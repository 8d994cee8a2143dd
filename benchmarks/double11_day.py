"""Benchmark: one replication of semir_double11_2016 with every mechanism on (bot overflow,
escalations, 10-turn chats, shifts, follow-ups, nudges): wall time, events/s,
customers/s and peak memory (RSS), median over --runs fresh processes.

    python benchmarks/double11_day.py [--runs 3] [--baseline PATH] [--out FILE]

With ``--baseline PATH`` (another checkout of cssim) both versions run, interleaved, in fresh
processes, and the table adds the baseline's numbers and the ratio of medians.

Target (issue 5): at most 15 s per replication and at most 1 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import emit, median, table

CHILD = """
import json, resource, time, cssim
cfg = cssim.load_scenario("semir_double11_2016")
t0, c0 = time.perf_counter(), time.process_time()
res = cssim.simulate(cfg, seed=2016)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "events": res.metrics["events"], "customers": res.metrics["inquiries"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def one_run(checkout: str | None) -> dict:
    env = dict(os.environ)
    if checkout:
        env["PYTHONPATH"] = checkout
    # Run in the checkout: ``python -c`` puts the working directory first on sys.path, ahead of
    # PYTHONPATH, so from another cssim checkout the baseline would import that one instead.
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env, cwd=checkout or None
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh processes to take the median of")
    ap.add_argument("--baseline", help="another cssim checkout to run side by side (interleaved)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    versions = {"this checkout": here}
    if args.baseline:
        versions["baseline"] = str(Path(args.baseline).resolve())
    runs: dict[str, list[dict]] = {k: [] for k in versions}
    for i in range(args.runs):
        for name, path in versions.items():
            runs[name].append(one_run(path))
            print(f"run {i + 1}/{args.runs} ({name}): {runs[name][-1]['wall_s']:.2f} s", file=sys.stderr)
    rows = []
    for name, rs in runs.items():
        wall = median([r["wall_s"] for r in rs])
        ev, cust = rs[0]["events"], rs[0]["customers"]
        cpu = median([r["cpu_s"] for r in rs])
        rows.append([
            name, f"{wall:.2f} s", f"{cpu:.2f} s", f"{min(r['wall_s'] for r in rs):.2f} .. {max(r['wall_s'] for r in rs):.2f} s",
            f"{cust:,}", f"{ev:,}", f"{ev / wall:,.0f}", f"{cust / wall:,.0f}", f"{max(r['rss_mb'] for r in rs):,.0f} MB",
        ])
    body = table(["version", "wall (median)", "CPU (median)", "min .. max", "inquiries", "events", "events/s", "inquiries/s", "peak RSS"], rows)
    if args.baseline:
        ratio = median([r["wall_s"] for r in runs["baseline"]]) / median([r["wall_s"] for r in runs["this checkout"]])
        cpu_ratio = median([r["cpu_s"] for r in runs["baseline"]]) / median([r["cpu_s"] for r in runs["this checkout"]])
        body += (
            f"\n\nSpeed ratio baseline / this checkout (medians of {args.runs} interleaved runs each): {ratio:.2f}x"
            f" wall, {cpu_ratio:.2f}x CPU time (CPU time is less disturbed by other work on a shared machine)"
        )
    emit("double11_day: one semir_double11_2016 replication, all mechanisms on", body, args.out)


if __name__ == "__main__":
    main()
