"""Benchmark: the same sweep through hydra's basic launcher, joblib (``hydra/launcher=parallel``,
2 processes) and Ray (``hydra/launcher=ray`` against a one-machine Ray head on 127.0.0.1,
2 CPUs), side by side in one invocation, with identical points.csv checked.

    python benchmarks/launchers.py [--scenario small_shop_618] [--points 16] [--reps 3] [--out FILE]

The default is the issue's sweep: ``cssim -m scenario=small_shop_618
staffing.temps.count=0,1,...,15 replications=3``; a small shop's replication takes a few
hundredths of a second, so this measures what each launcher costs per point. The Ray head's
start-up (once per cluster, not per sweep) is reported apart. Needs the cluster extra.
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

from cssim.cluster import LocalRayHead


def run_cli(args: list[str], cwd: Path, env: dict | None = None) -> float:
    cwd.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "cssim.cli", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"cssim {' '.join(args)} failed:\n{p.stderr[-3000:]}")
    return time.perf_counter() - t0


def points(cwd: Path, scenario: str) -> pd.DataFrame:
    root = next((cwd / "multirun" / scenario).iterdir())
    return pd.read_csv(root / "points.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="small_shop_618")
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    sweep = ["-m", f"scenario={args.scenario}", f"staffing.temps.count={','.join(str(i) for i in range(args.points))}", f"replications={args.reps}"]
    work = Path(tempfile.mkdtemp(prefix="cssim-bench-"))
    head = LocalRayHead(num_cpus=2)
    times = {}
    try:
        t0 = time.perf_counter()
        address = head.start()
        head_s = time.perf_counter() - t0
        for name, extra in (
            ("basic", []),
            ("joblib", ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]),
            ("ray", ["hydra/launcher=ray", f"hydra.launcher.ray.init.address={address}"]),
        ):
            times[name] = run_cli(sweep + extra, work / name)
            print(f"{name}: {times[name]:.1f} s", file=sys.stderr)
        base = points(work / "basic", args.scenario)
        for name in ("joblib", "ray"):
            pd.testing.assert_frame_equal(base, points(work / name, args.scenario))
    finally:
        head.stop()
        shutil.rmtree(work, ignore_errors=True)
    n = args.points
    rows = [
        ["basic (in process, one point after another)", f"{times['basic']:.1f} s", f"{times['basic'] / n:.2f} s", "1.00x"],
        ["joblib (hydra/launcher=parallel, 2 processes)", f"{times['joblib']:.1f} s", f"{times['joblib'] / n:.2f} s", f"{times['basic'] / times['joblib']:.2f}x"],
        ["ray (hydra/launcher=ray, local head, 2 CPUs)", f"{times['ray']:.1f} s", f"{times['ray'] / n:.2f} s", f"{times['basic'] / times['ray']:.2f}x"],
        ["Ray head start-up (once per cluster, not in the row above)", f"{head_s:.1f} s", "", ""],
    ]
    emit(
        f"launchers: {args.scenario}, {n} points x {args.reps} replications, identical points.csv",
        table(["launcher", "sweep wall time", "per point", "speed-up vs basic"], rows),
        args.out,
    )


if __name__ == "__main__":
    main()
