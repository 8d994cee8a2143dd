"""Sweep aggregation: from a hydra multirun folder to tables and charts.

Every job folder (``0/``, ``1/``, ...) holds its ``metrics.json`` and hydra's
``.hydra/overrides.yaml``; the keys whose values differ between jobs are the swept parameters.
The sweep root gets

* ``runs.csv``: one row per job and replication, swept parameters then every metric;
* ``points.csv``: one row per sweep point, with ``<metric>_mean`` and ``<metric>_ci95`` (95% CI
  half-width over the replications) for every metric;
* ``runs.parquet``, ``points.parquet``: the same two tables as Parquet;
* ``charts/``: lost rate and inquiry conversion, cost and profit, against the (first) swept
  parameter with CI bands, one line per value of a second swept key; and the intraday chart of
  one point;
* ``failed_points.csv`` when a point failed (``status`` ``failed``: its ``error.txt`` says why)
  or did not run to the end (``not run``: interrupted, killed, or never started); the other
  points are kept.

It reads only files, so it works the same whatever launcher ran the jobs, and it can be run
again on an existing folder: ``cssim aggregate multirun/NAME/DATE``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cssim.charts import subplots
from cssim.config import POOLS
from cssim.io import write_csv, write_parquet, write_png
from cssim.metrics import DIAGNOSTICS, METRICS, UNITS
from cssim.schema import expand_sweep  # noqa: F401  (its home was here; the command line checks sweeps without this module)


@dataclass
class SweepReport:
    root: Path
    points: pd.DataFrame
    runs: pd.DataFrame
    swept: list[str]
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (job folder, status, reason)
    charts: list[Path] = field(default_factory=list)


def _value(text: str):
    """An override's value as a number when it is one (for sorting and plotting)."""
    try:
        v = float(text)
    except ValueError:
        return text
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def _number(x):
    """A metric from metrics.json: null (undefined) as NaN, so a column's dtype is the same in
    runs.csv and runs.parquet."""
    return np.nan if x is None else x


def _load_yaml(f: Path):
    """A file hydra wrote (lists of override strings, multirun.yaml), read as plain YAML: the
    strings are the same as through OmegaConf, ten times faster (multirun.yaml holds the whole
    hydra config, and only its task overrides are read)."""
    return yaml.load(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _overrides(job: Path) -> dict[str, str]:
    f = job / ".hydra" / "overrides.yaml"
    items = _load_yaml(f) if f.is_file() else []
    out = {}
    for item in items or []:
        key, _, val = str(item).partition("=")
        out[key.lstrip("+~")] = val
    return out


def _expected_jobs(root: Path) -> int | None:
    """How many jobs the sweep asked for, from hydra's multirun.yaml (None if unknown)."""
    f = root / "multirun.yaml"
    if not f.is_file():
        return None
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        task = _load_yaml(f)["hydra"]["overrides"]["task"]
        parsed = OverridesParser.create().parse_overrides([str(t) for t in task])
        sizes = [len(list(o.sweep_string_iterator())) if o.is_sweep_override() else 1 for o in parsed]
        return int(np.prod(sizes)) if sizes else 1
    except Exception:
        return None


def aggregate(root: Path | str) -> SweepReport:
    """Build the sweep tables and charts in ``root``. Raises ``ValueError`` if no point has
    results; failed or missing points are listed in the report and ``failed_points.csv``."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"sweep folder {str(root)!r} does not exist")
    jobs = sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    failed: list[tuple[str, str, str]] = []
    ok: list[tuple[Path, dict, dict]] = []
    for job in jobs:
        mfile = job / "metrics.json"
        if (job / "error.txt").is_file():
            failed.append((job.name, "failed", ((job / "error.txt").read_text().strip().splitlines() or ["(no reason given)"])[0]))
        elif not mfile.is_file():
            failed.append((job.name, "not run", "not run to the end: no metrics.json (interrupted or killed)"))
        else:
            ok.append((job, _overrides(job), json.loads(mfile.read_text())))
    expected = _expected_jobs(root)
    if expected is not None and expected > len(jobs):
        present = {j.name for j in jobs}
        failed += [(str(i), "not run", "not run: no job folder") for i in range(expected) if str(i) not in present]
    failed.sort(key=lambda f: int(f[0]))
    if not ok:
        raise ValueError(f"no sweep point in {str(root)!r} has results ({len(failed)} failed)")

    keys = list(dict.fromkeys(k for _, ov, _ in ok for k in ov))  # command-line order
    swept = [k for k in keys if len({ov.get(k) for _, ov, _ in ok}) > 1] or keys
    swept = [k for k in swept if not k.startswith("hydra")]
    # The x axis of the charts: the first numeric swept key.
    swept.sort(key=lambda k: not all(isinstance(_value(ov.get(k, "")), (int, float)) for _, ov, _ in ok))
    names = list(METRICS) + list(DIAGNOSTICS)

    run_rows, point_rows = [], []
    for job, ov, data in ok:
        params = {k: _value(ov[k]) if k in ov else None for k in swept}
        reps = data["replications"]
        for rep in reps:
            run_rows.append({"point": int(job.name), **params, "replication": rep["replication"], **{n: _number(rep.get(n)) for n in names}})
        row = {"point": int(job.name), **params, "replications": len(reps)}
        for n in names:
            s = data["summary"][n]
            row[f"{n}_mean"] = np.nan if s["mean"] is None else s["mean"]
            row[f"{n}_ci95"] = np.nan if s["ci95"] is None else s["ci95"]
        point_rows.append(row)
    sort_cols = [k for k in swept] + ["point"]
    runs = pd.DataFrame(run_rows).sort_values(sort_cols + ["replication"], kind="stable").reset_index(drop=True)
    points = pd.DataFrame(point_rows).sort_values(sort_cols, kind="stable").reset_index(drop=True)
    write_csv(root / "runs.csv", runs)
    write_csv(root / "points.csv", points)
    write_parquet(root / "runs.parquet", runs)
    write_parquet(root / "points.parquet", points)
    if failed:
        write_csv(root / "failed_points.csv", pd.DataFrame(failed, columns=["point", "status", "reason"]))
    elif (root / "failed_points.csv").exists():
        (root / "failed_points.csv").unlink()
    report = SweepReport(root, points, runs, swept, failed)
    report.charts = sweep_charts(report, ok)
    return report


def sweep_charts(report: SweepReport, ok: list[tuple[Path, dict, dict]]) -> list[Path]:
    """The sweep's PNG charts in ``root/charts``; returns their paths."""
    out_dir = report.root / "charts"
    pts = report.points
    x_key = report.swept[0] if report.swept else "point"
    series_key = report.swept[1] if len(report.swept) > 1 else None
    numeric = pd.api.types.is_numeric_dtype(pts[x_key]) if x_key in pts else False
    groups = [(None, pts)] if series_key is None else list(pts.groupby(series_key, sort=True))
    paths = []

    def panel(ax, metric: str, scale: float = 1.0, unit: str | None = None):
        for val, g in groups:
            x = g[x_key] if numeric else np.arange(len(g))
            y = g[f"{metric}_mean"] * scale
            hw = g[f"{metric}_ci95"].fillna(0) * scale
            label = metric if series_key is None else f"{series_key}={val}"
            ax.plot(x, y, marker="o", label=label)
            ax.fill_between(x, y - hw, y + hw, alpha=0.25)
            if not numeric:
                ax.set_xticks(np.arange(len(g)), [str(v) for v in g[x_key]], rotation=30)
        ax.set_xlabel(x_key)
        ax.set_ylabel(f"{metric} ({unit or UNITS[metric]})")
        ax.grid(alpha=0.3)
        if series_key is not None:
            ax.legend(fontsize=8)

    fig, axes = subplots(1, 2, figsize=(11, 4))
    panel(axes[0], "lost_rate", 100, "%")
    axes[0].set_title("Lost inquiries (mean, 95% CI band)")
    panel(axes[1], "inquiry_conversion", 100, "%")
    axes[1].set_title("Inquiry conversion (mean, 95% CI band)")
    fig.suptitle(f"{report.root.parent.name}/{report.root.name}: sweep over {', '.join(report.swept)}")
    paths.append(out_dir / "lost_and_conversion.png")
    write_png(paths[-1], fig)

    fig, axes = subplots(1, 2, figsize=(11, 4))
    panel(axes[0], "cost_total", 1e-3, "thousand CNY")
    axes[0].set_title("Cost (labor + bot)")
    panel(axes[1], "profit", 1e-3, "thousand CNY")
    axes[1].set_title("Profit = GMV x margin - cost")
    paths.append(out_dir / "cost_and_profit.png")
    write_png(paths[-1], fig)

    job, ov, _ = _default_point(ok)
    iv_file = job / "intervals.csv"
    if iv_file.is_file():
        fig = intraday_chart(pd.read_csv(iv_file), f"point {job.name}: " + ", ".join(f"{k}={ov.get(k)}" for k in report.swept))
        paths.append(out_dir / "intraday.png")
        write_png(paths[-1], fig)
    return paths


def _default_point(ok: list[tuple[Path, dict, dict]]) -> tuple[Path, dict, dict]:
    """The point the intraday chart shows: the middle job of the sweep."""
    return ok[len(ok) // 2]


def intraday_chart(intervals: pd.DataFrame, title: str):
    """Arrivals, lost, queue and mean first response per planning interval, and heads on
    shift: the shape of the day, each a mean over the replications in ``intervals`` (the title
    says how many). Legends sit right of the panels, clear of the lines."""
    n = intervals["replication"].nunique() if "replication" in intervals else 1
    iv = intervals.groupby("interval").mean(numeric_only=True)
    width = (iv["end_h"] - iv["start_h"]).iloc[0]
    fig, axes = subplots(3, 1, figsize=(12, 8), sharex=True)
    outside = {"loc": "upper left", "bbox_to_anchor": (1.07, 1.0), "fontsize": 8}
    axes[0].bar(iv["start_h"], iv["arrivals"], width=width, align="edge", alpha=0.5, label="arrivals")
    axes[0].bar(iv["start_h"], iv["lost"], width=width, align="edge", color="tab:red", label="lost")
    axes[0].set_ylabel("inquiries per interval")
    axes[0].legend(**outside)
    axes[0].set_title(f"{title} (mean over {n} replication{'s' if n != 1 else ''})")
    axes[1].plot(iv["end_h"], iv["waiting_queue"], color="tab:purple", label="in the shop queue (end of interval)")
    axes[1].plot(iv["end_h"], iv["waiting_agent"], color="tab:green", label="queued at an agent (end of interval)")
    axes[1].set_ylabel("waiting inquiries")
    ax2 = axes[1].twinx()
    ax2.plot(iv["start_h"] + width / 2, iv["mean_first_response_s"], color="tab:orange", label="mean first response")
    ax2.set_ylabel("first response (s)")
    handles = axes[1].get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    axes[1].legend(handles, [h.get_label() for h in handles], **outside)
    for p in POOLS:
        if iv[f"heads_{p}"].max() > 0:
            axes[2].step(iv["start_h"], iv[f"heads_{p}"], where="post", label=f"heads {p}")
    axes[2].set_ylabel("agents on shift")
    axes[2].set_xlabel("hour of horizon")
    axes[2].legend(**outside)
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig
