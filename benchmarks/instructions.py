"""Benchmark: instructions executed by one replication, counted by valgrind (cachegrind, no
cache simulation), this checkout side by side with another. A count is deterministic: the ratio
between two checkouts is free of the noise of a shared machine, where wall times of the same
run vary by +-25%. It does not see memory stalls (cache misses), so it understates what a
version gains by touching less memory; read it next to ``double11_day.py``'s times.

    python benchmarks/instructions.py [--baseline PATH] [--cases semir_quarter erlang_a] [--out FILE]

Each case is counted twice per checkout: the run, and the same scenario cut to a handful of
inquiries (imports, config, set-up); the table reports the difference (the simulation's own
work) and its ratio. Needs ``valgrind`` on PATH (Debian: ``apt-get install valgrind``); under it
a run is ~50x slower (a quarter-volume Semir day: ~1 minute).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from common import emit, table

CHILD = "import sys, cssim; cssim.simulate(cssim.load_scenario(sys.argv[1], sys.argv[2:]), seed=2016)"

# case -> (scenario, overrides of the measured run, overrides of the set-up-only run)
CASES = {
    "semir_quarter": (
        "semir_double11_2016",
        ["arrivals.total=75000", "staffing.ft.count=18", "staffing.temps.count=375", "staffing.bot.concurrency=2000"],
        ["arrivals.total=100", "staffing.ft.count=1", "staffing.temps.count=1", "staffing.bot.concurrency=20"],
    ),
    "erlang_a": (  # M/M/1000+M at 950/min for 3.5 h: ~200k customers, as benchmarks/erlang_a.py
        "erlang_a",
        ["staffing.ft.count=1000", "arrivals.rate_per_min=950", "horizon_h=3.508772", "warmup_h=0", "interval_min=60"],
        ["staffing.ft.count=1000", "arrivals.rate_per_min=950", "horizon_h=0.001", "warmup_h=0", "interval_min=0.06"],
    ),
}


def count(checkout: str, scenario: str, overrides: list[str]) -> int:
    """Instructions executed by ``python -c CHILD`` in ``checkout`` (its cssim first on the path)."""
    env = {**os.environ, "PYTHONPATH": checkout}
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, "-c", CHILD, scenario, *overrides]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=checkout)
    m = re.search(r"I\s+refs:\s+([\d,]+)", p.stderr)
    if p.returncode != 0 or m is None:
        last = (p.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"instructions: the run failed in {checkout} (exit {p.returncode}): {last}", file=sys.stderr)
        sys.exit(2)
    return int(m.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", help="another cssim checkout to count side by side")
    ap.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("instructions: valgrind not found on PATH (Debian: apt-get install valgrind)", file=sys.stderr)
        sys.exit(2)
    versions = {"this checkout": str(Path(__file__).resolve().parent.parent)}
    if args.baseline:
        versions["baseline"] = str(Path(args.baseline).resolve())
    rows, work = [], {}
    for case in args.cases:
        scenario, run, setup = CASES[case]
        for name, path in versions.items():
            print(f"{case} ({name}) ...", file=sys.stderr)
            total, fixed = count(path, scenario, run), count(path, scenario, setup)
            work[case, name] = total - fixed
            rows.append([case, name, f"{total / 1e9:.2f} G", f"{fixed / 1e9:.2f} G", f"{(total - fixed) / 1e9:.2f} G"])
        if args.baseline:
            rows.append([case, "baseline / this checkout", "", "", f"{work[case, 'baseline'] / work[case, 'this checkout']:.3f}x"])
    body = table(["case", "version", "instructions, run", "set-up only", "simulation's own"], rows)
    emit("instructions: simulation work counted by valgrind (deterministic)", body, args.out)


if __name__ == "__main__":
    main()
