"""The ``cssim`` command: a hydra app around :func:`cssim.simulate`.

    cssim                                   # default scenario, KPI table, run folder
    cssim scenario=erlang_a replications=10
    cssim -m staffing.temps.count=0,500,1000 replications=5          # sweep: tables + charts
    cssim -m staffing.temps.count=0,500 hydra/launcher=parallel      # same, 2 local processes
    cssim aggregate multirun/semir_double11_2016/2026-11-23_10-00-00 # re-aggregate a sweep

Every argument is checked before anything runs or is written (every point of a sweep): bad
input prints one line naming the key and the value and exits with status 2. A sweep point
that fails is reported, the others are kept and aggregated, and the exit status is 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from cssim.io import write_atomic
from cssim.paths import config_dir
from cssim.runner import kpi_table, run_replications, write_run
from cssim.schema import compose_config, one_line, register, to_config
from cssim.sweep import aggregate, expand_sweep

_STATUS = {"failed": False}
_HYDRA_INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc", "--version")
_HYDRA_VALUED_FLAGS = ("-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--package", "-p")


def _error(msg: str, status: int = 2) -> None:
    print(f"cssim: error: {msg}", file=sys.stderr)
    sys.exit(status)


def _user_overrides(argv: list[str]) -> list[str] | None:
    """The config overrides on the command line (hydra's own flags and hydra.* keys left
    out), or None when hydra is only asked for help or info."""
    if any(a.split("=", 1)[0] in _HYDRA_INFO_FLAGS for a in argv):
        return None
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in _HYDRA_VALUED_FLAGS:
            skip = True
        elif a.startswith("-"):
            continue
        elif not a.lstrip("+~").split("=", 1)[0].startswith("hydra"):
            out.append(a)
    return out


def check_arguments(argv: list[str]) -> str | None:
    """Compose and validate every run the arguments ask for; the first problem as one line."""
    overrides = _user_overrides(argv)
    if overrides is None:
        return None
    for a in overrides:
        if "=" not in a and not a.startswith("~"):
            return f"{a!r}: expected key=value (e.g. staffing.temps.count=500)"
    try:
        combos = expand_sweep(overrides)
    except Exception as e:  # hydra's override grammar
        return one_line(e)
    for combo in combos:
        try:
            compose_config(combo)
        except ValueError as e:
            return str(e)
    return None


class AggregateCallback(Callback):
    """After all sweep jobs (whatever launcher ran them): tables and charts at the sweep root."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        root = Path(config.hydra.sweep.dir)
        try:
            report = aggregate(root)
        except Exception as e:
            _STATUS["failed"] = True
            print(f"cssim: error: aggregating {root} failed: {one_line(e)}", file=sys.stderr)
            return
        print_sweep(report)
        if report.failed:
            _STATUS["failed"] = True


def print_sweep(report) -> None:
    pts = report.points
    cols = report.swept + ["replications"]
    show = pts[cols].copy()
    for m, scale, unit in (("lost_rate", 100, "%"), ("inquiry_conversion", 100, "%"), ("cost_total", 1, "CNY"), ("profit", 1, "CNY")):
        show[f"{m} ({unit})"] = [
            f"{scale * a:,.2f} +- {scale * b:,.2f}" if b == b else f"{scale * a:,.2f}"
            for a, b in zip(pts[f"{m}_mean"], pts[f"{m}_ci95"])
        ]
    print(f"\nSweep {report.root} ({len(pts)} points; mean +- 95% CI half-width over replications)")
    print(show.to_string(index=False))
    print(f"tables: {report.root / 'points.csv'}, {report.root / 'runs.csv'}")
    for c in report.charts:
        print(f"chart:  {c}")
    for point, reason in report.failed:
        print(f"cssim: error: sweep point {point} failed: {reason}", file=sys.stderr)


def _job(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    label = f"#{hc.job.num} " + " ".join(overrides) if multirun else "cssim"
    try:
        config = to_config(cfg)
        results = run_replications(config, label=label)
        write_run(out, config, results, overrides)
    except Exception as e:
        if not multirun:
            raise
        # Keep the sweep going: the point is marked failed and reported at aggregation.
        reason = f"{type(e).__name__}: {one_line(e)}"
        write_atomic(out / "error.txt", lambda p: p.write_text(reason + "\n"))
        print(f"cssim: error: sweep point {hc.job.num} ({' '.join(overrides)}) failed: {reason}", file=sys.stderr)
        return
    if not multirun:
        print(kpi_table(config, results))
        print(f"results: {out / 'metrics.json'}, {out / 'intervals.csv'}")


def _aggregate_command(args: list[str]) -> int:
    if len(args) != 1 or args[0].startswith("-"):
        _error("usage: cssim aggregate SWEEP_FOLDER")
    try:
        report = aggregate(Path(args[0]))
    except ValueError as e:
        _error(str(e))
    print_sweep(report)
    return 1 if report.failed else 0


def main() -> None:
    """Console entry point."""
    argv = sys.argv[1:]
    if argv and argv[0] == "aggregate":
        sys.exit(_aggregate_command(argv[1:]))
    register()
    problem = check_arguments(argv)
    if problem:
        _error(problem)
    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")(_job)
    app()
    if _STATUS["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
