"""Benchmark: how fast the ``cssim`` command answers when it has little to do: ``cssim --help``,
refused arguments, ``import cssim``, and the aggregation of a sweep folder with its charts
(``cssim aggregate DIR``, and ``cssim.sweep.aggregate`` alone, which is what the end of
``cssim -m ...`` pays). Wall time of fresh processes, median over --runs.

    python benchmarks/startup.py [--runs 7] [--baseline PATH] [--out FILE]

With ``--baseline PATH`` (another checkout of cssim) both versions run, interleaved, in fresh
processes, and the table adds the baseline's medians and the ratio. Each version aggregates its
own copy of one small sweep (made first, with this checkout); the tables and charts the two
write are compared file by file. One untimed round first (bytecode caches, disk cache).

Target (issue 11, "Start-up"): ``cssim --help`` and a refused bad input in at most 1.5 s on a
quiet machine; sweep aggregation with charts a fraction of before. The load average is reported
because a shared machine slows every process down.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import emit, median, side_by_side, table

# The console script's own code (``cssim`` as pip installs it), run from a checkout.
ENTRY = "import sys; from cssim.cli import main; sys.argv[0] = 'cssim'; sys.exit(main())"
# What the end of a sweep pays: the tables and charts, with the engine already imported (as in
# the ``cssim -m`` process) but matplotlib not yet.
IN_PROCESS = (
    "import sys, time, cssim.runner, cssim.sweep; t0 = time.perf_counter(); cssim.sweep.aggregate(sys.argv[1]); "
    "print('SECONDS', time.perf_counter() - t0)"
)
SWEEP = ["-m", "scenario=small_shop_618", "staffing.temps.count=0,5", "replications=2"]


def cases(sweep: Path) -> list[tuple[str, list[str], int]]:
    """(label, python arguments, expected exit status); ``{sweep}`` is the version's copy."""
    return [
        ("`cssim --help`", ["-c", ENTRY, "--help"], 0),
        ("`cssim staffing.temps.count=-3` (refused)", ["-c", ENTRY, "staffing.temps.count=-3"], 2),
        ("`cssim plan plan.max_lost_rate=7` (refused)", ["-c", ENTRY, "plan", "plan.max_lost_rate=7"], 2),
        ("`import cssim`", ["-c", "import cssim"], 0),
        ("`cssim aggregate DIR` (2 points, 3 charts)", ["-c", ENTRY, "aggregate", str(sweep)], 0),
        ("`cssim.sweep.aggregate(DIR)` in process (end of `cssim -m`)", ["-c", IN_PROCESS, str(sweep)], 0),
    ]


def one_run(checkout: str, args: list[str], status: int) -> float:
    env = {**os.environ, "PYTHONPATH": checkout}
    # Run in the checkout: ``python -c`` puts the working directory first on sys.path, ahead of
    # PYTHONPATH, so from another cssim checkout the baseline would import that one instead.
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=checkout)
    wall = time.perf_counter() - t0
    if p.returncode != status:
        raise SystemExit(f"{checkout}: python {' '.join(args)}: exit {p.returncode}, expected {status}\n{p.stderr}")
    for line in p.stdout.splitlines():
        if line.startswith("SECONDS "):
            return float(line.split()[1])
    return wall


def make_sweep(checkout: str, folder: Path) -> None:
    args = ["-c", ENTRY, *SWEEP, f"hydra.sweep.dir={folder}"]
    subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, cwd=checkout,
                   env={**os.environ, "PYTHONPATH": checkout})


def same_outputs(a: Path, b: Path) -> str:
    """Whether two aggregated copies of the sweep hold the same files, byte for byte."""
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix in (".csv", ".parquet", ".png"))
    differ = [str(f) for f in files if not (b / f).is_file() or (a / f).read_bytes() != (b / f).read_bytes()]
    extra = sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file() and not (a / p.relative_to(b)).exists())
    if differ or extra:
        return f"outputs differ: {', '.join(differ + extra)}"
    return f"the {len(files)} tables and charts the two aggregations wrote are byte-identical"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args, versions = side_by_side(ap, 7, "fresh processes per case and version to take the median of")
    here = versions["this checkout"]
    work = Path(tempfile.mkdtemp(prefix="cssim-startup-"))
    try:
        source = work / "source"
        make_sweep(here, source)
        # Same folder names (the chart titles show them), one copy per version.
        copies = {name: work / f"v{i}" / "sweeps" / "sweep" for i, name in enumerate(versions)}
        for c in copies.values():
            shutil.copytree(source, c)
        load0 = os.getloadavg()
        times: dict[tuple[str, str], list[float]] = {}
        for i in range(args.runs + 1):  # round 0: untimed
            for n, _ in enumerate(cases(source)):
                for name, path in versions.items():
                    label, cmd, status = cases(copies[name])[n]
                    t = one_run(path, cmd, status)
                    if i:
                        times.setdefault((label, name), []).append(t)
            if i:
                print(f"round {i}/{args.runs} done", file=sys.stderr)
        load1 = os.getloadavg()
        check = same_outputs(copies["this checkout"], copies["baseline"]) if args.baseline else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for label, _, _ in cases(source):
        mine = times[(label, "this checkout")]
        row = [label, f"{median(mine):.2f} s", f"{min(mine):.2f} .. {max(mine):.2f}"]
        if args.baseline:
            base = times[(label, "baseline")]
            row += [f"{median(base):.2f} s", f"{min(base):.2f} .. {max(base):.2f}", f"{median(base) / median(mine):.1f}x"]
        rows.append(row)
    headers = ["case", "this checkout (median)", "min .. max"]
    if args.baseline:
        headers += ["baseline (median)", "min .. max", "baseline / this"]
    body = table(headers, rows)
    body += (
        f"\n\nWall time of a fresh process (interpreter start included), median of {args.runs} interleaved runs "
        f"per case and version; the in-process row times `aggregate()` alone. Sweep: `cssim {' '.join(SWEEP)}`."
    )
    if check:
        body += f" Aggregation outputs: {check}."
    body += f"\n\nLoad average (1 min) at start / end: {load0[0]:.2f} / {load1[0]:.2f}."
    title = "startup: --help, refused input, import, sweep aggregation"
    if args.baseline:
        title += f" (baseline: {args.baseline})"
    emit(title, body, args.out)


if __name__ == "__main__":
    main()
