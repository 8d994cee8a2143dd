"""Benchmark: peak memory per inquiry of one semir_double11_2016 replication at 1x and 4x the
day's volume (``arrivals.total`` scaled), each in a fresh process.

    python benchmarks/memory.py [--volumes 1 4] [--runs 1] [--baseline PATH] [--out FILE]

Peak memory is the process's peak resident set (``ru_maxrss``) after ``cssim.simulate`` (the
draws, the run, the metrics); the import baseline is the same measure just before the call
(Python, numpy, pandas, SimPy and the loaded scenario). Bytes per inquiry = (peak - baseline) /
inquiries. With ``--baseline PATH`` another checkout runs the same sizes, in its own directory.

Target (issue 11): at most 400 bytes per inquiry above the import baseline, at 1x and 4x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from common import emit, side_by_side, table

CHILD = """
import json, resource, sys, time, cssim
vol = float(sys.argv[1])
cfg = cssim.load_scenario("semir_double11_2016", [f"arrivals.total={int(300000 * vol)}"])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.perf_counter()
res = cssim.simulate(cfg, seed=2016)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "n": res.metrics["inquiries"], "wall_s": wall}))
"""


def one_run(checkout: str, volume: float) -> dict:
    env = dict(os.environ, PYTHONPATH=checkout)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(volume)], capture_output=True, text=True, check=True, env=env, cwd=checkout
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--volumes", type=float, nargs="+", default=[1.0, 4.0], help="multiples of the day's 300,000 inquiries")
    args, versions = side_by_side(ap, 1, "fresh processes per version and volume (the median per inquiry is shown)")
    rows = []
    for vol in args.volumes:
        for name, path in versions.items():
            rs = sorted((one_run(path, vol) for _ in range(args.runs)), key=lambda r: r["peak"] - r["base"])
            r = rs[len(rs) // 2]  # the median run by growth above the baseline
            per = (r["peak"] - r["base"]) / r["n"]
            print(f"{name} x{vol:g}: {r['peak'] / 2**20:,.0f} MB peak, {per:,.0f} B/inquiry", file=sys.stderr)
            rows.append([
                name, f"x{vol:g}", f"{r['n']:,}", f"{r['base'] / 2**20:,.0f} MB", f"{r['peak'] / 2**20:,.0f} MB",
                f"{per:,.0f} B", "yes" if per <= 400 else "no", f"{r['wall_s']:.1f} s",
            ])
    body = table(
        ["version", "volume", "inquiries", "import baseline", "peak RSS", "per inquiry above baseline", "<= 400 B", "wall"],
        rows,
    )
    emit("memory: peak RSS per inquiry, semir_double11_2016 at 1x and 4x volume", body, args.out)


if __name__ == "__main__":
    main()
