"""Benchmark: a temps sweep of semir_double11_2016 through the ``cssim`` command line, run
serially (hydra's basic launcher) and on 2 local processes (``hydra/launcher=parallel``,
joblib) side by side; reports wall times, time per replication against a single replication
measured in the same invocation, and the parallel speed-up.

    python benchmarks/sweep.py [--points 16] [--reps 5] [--skip-serial] [--out FILE]

Target (issue 5): speed-up of the parallel launcher over the serial one >= 1.6x on 2 cores.
The default (16 points x 5 replications, twice) takes about 20 minutes here.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import emit, table


def run_cli(args: list[str], cwd: Path) -> float:
    cwd.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cssim.cli", *args], cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-serial", action="store_true", help="estimate the serial time from the single run")
    ap.add_argument("--out")
    args = ap.parse_args()
    temps = [round(i * 1500 / (args.points - 1)) for i in range(args.points)]
    sweep = ["-m", f"staffing.temps.count={','.join(map(str, temps))}", f"replications={args.reps}"]
    work = Path(tempfile.mkdtemp(prefix="cssim-bench-"))
    try:
        single = run_cli(["replications=1"], work)  # one replication, whole process (like one job)
        print(f"single replication (whole command): {single:.1f} s", file=sys.stderr)
        serial = None if args.skip_serial else run_cli(sweep, work / "serial")
        if serial is not None:
            print(f"serial sweep: {serial:.1f} s", file=sys.stderr)
        parallel = run_cli(sweep + ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"], work / "parallel")
        print(f"parallel sweep: {parallel:.1f} s", file=sys.stderr)
        root = next((work / "parallel" / "multirun" / "semir_double11_2016").iterdir())
        runs = pd.read_csv(root / "runs.csv")
        n = len(runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reps = args.points * args.reps
    rows = [
        ["sweep", f"{args.points} points x {args.reps} replications = {reps} replications", "", ""],
        ["single replication (one `cssim replications=1` command)", f"{single:.1f} s", "", ""],
    ]
    if serial is not None:
        rows.append(["serial sweep (basic launcher)", f"{serial:.0f} s", f"{serial / reps:.2f} s/replication", f"{serial / reps / single:.2f}x single"])
    rows.append(["parallel sweep (joblib, 2 processes)", f"{parallel:.0f} s", f"{parallel / reps:.2f} s/replication", f"{parallel / reps / single:.2f}x single"])
    base = serial if serial is not None else single * reps
    speedup = base / parallel
    rows.append(["speed-up (serial / parallel)" + ("" if serial is not None else ", serial estimated as single x replications"), f"{speedup:.2f}x", "target >= 1.6x", "yes" if speedup >= 1.6 else "NO"])
    assert n == reps, f"runs.csv has {n} rows, expected {reps}"
    emit("sweep: semir_double11_2016 temps sweep, serial vs 2 processes", table(["measure", "value", "", ""], rows), args.out)


if __name__ == "__main__":
    main()
