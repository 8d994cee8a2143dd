"""One job of the command line: a scenario run for N replications, written to a run folder.

A run folder holds ``metrics.json`` (every replication's metrics, and per metric the mean with
its 95% CI half-width) and ``intervals.csv`` with the same table as ``intervals.parquet`` (one
row per replication and planning interval). All are written atomically, ``metrics.json`` last:
a folder with ``metrics.json`` is complete. Used by the ``cssim`` app for single runs and for
each sweep point.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from cssim.api import simulate
from cssim.backends import map_replications
from cssim.chatlog import write_log
from cssim.config import Config
from cssim.io import write_csv, write_json, write_parquet
from cssim.metrics import DIAGNOSTICS, METRICS, UNITS
from cssim.progress import ReplicationProgress
from cssim.result import Result
from cssim.stats import summarize


def run_replications(cfg: Config, label: str = "cssim", quiet: bool = False) -> list[Result]:
    """``cfg.replications`` replications with seed ``cfg.seed`` (replication r uses streams
    (seed, r), so every sweep point sees the same customers in its r-th replication), run on
    ``cfg.runner.backend`` (:mod:`cssim.backends`): the results are the same on every backend.
    Progress goes to stderr (:class:`cssim.progress.ReplicationProgress`) unless ``quiet``."""
    prog = None if quiet else ReplicationProgress(label, cfg.replications)
    reps = range(cfg.replications)
    try:
        if cfg.runner.backend == "serial":
            # In process: the bar moves by planning interval, not only by replication.
            out = []
            for r in reps:
                res = simulate(cfg, seed=cfg.seed, replication=r, progress=(lambda f, r=r: prog.update(r + f)) if prog else None)
                if prog:
                    prog.finished(r, res, count=r + 1)
                out.append(res)
            return out
        count = [0]

        def done(r: int, res: Result) -> None:
            count[0] += 1
            if prog:
                prog.finished(r, res, count=count[0])

        return map_replications(cfg, reps, on_done=done)
    finally:
        if prog:
            prog.close()


def summary_table(results: Sequence[Result]) -> pd.DataFrame:
    """Mean, 95% CI half-width, n and unit per metric (public metrics, then diagnostics)."""
    names = list(METRICS) + list(DIAGNOSTICS)
    table = summarize([r.metrics for r in results], names)
    table["unit"] = [UNITS[n] for n in table.index]
    return table


def write_run(folder: Path, cfg: Config, results: Sequence[Result], overrides: Sequence[str] = ()) -> None:
    """Write ``intervals.csv``, ``intervals.parquet``, then ``metrics.json`` for one job into ``folder`` (so a folder
    with ``metrics.json`` is complete; ``cssim aggregate`` counts the others as not run)."""
    folder = Path(folder)
    table = summary_table(results)
    iv = pd.concat([r.intervals.reset_index().assign(replication=r.replication) for r in results], ignore_index=True)
    iv = iv[["replication"] + [c for c in iv.columns if c != "replication"]]
    write_csv(folder / "intervals.csv", iv)
    write_parquet(folder / "intervals.parquet", iv)
    logs = [r.log for r in results if r.log is not None]
    if logs:  # log=true: one day per replication (cssim.chatlog), before metrics.json marks the folder complete
        write_log(folder, pd.concat(logs, ignore_index=True))
    write_json(
        folder / "metrics.json",
        {
            "scenario": cfg.name,
            "overrides": list(overrides),
            "seed": cfg.seed,
            "replications": [{"replication": r.replication, "wall_s": r.wall_s, **r.metrics} for r in results],
            "summary": {
                name: {"mean": row["mean"], "ci95": row["ci95"], "n": int(row["n"]), "unit": row["unit"]}
                for name, row in table.iterrows()
            },
        },
    )


KPI_ROWS = (
    ("lost_inquiries", "Lost inquiries", "{:,.0f}"),
    ("lost_rate", "Lost rate", "pct"),
    ("response_rate", "Response rate", "pct"),
    ("avg_first_response_s", "Mean first response", "{:,.1f} s"),
    ("p90_first_response_s", "p90 first response", "{:,.1f} s"),
    ("inquiry_conversion", "Inquiry conversion", "pct"),
    ("payment_rate", "Payment rate", "pct"),
    ("gmv", "GMV", "{:,.0f} CNY"),
    ("bot_share", "Bot share of receptions", "pct"),
    ("utilization_ft", "Utilization full-time", "pct"),
    ("utilization_temps", "Utilization temps", "pct"),
    ("utilization_bot", "Utilization bot", "pct"),
    ("cost_total", "Cost", "{:,.0f} CNY"),
    ("profit", "Profit", "{:,.0f} CNY"),
)


def _fmt(value: float, fmt: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if fmt == "pct":
        return f"{100 * value:.2f} %"
    return fmt.format(value)


#: The precision the "too noisy" advice aims at: a CI half-width of 10% of the estimate.
TARGET_RELATIVE_HW = 0.1
#: A share (a rate, or lost inquiries over all inquiries) known to within half a percentage
#: point is precise enough to plan with, however small it is: a 0.07% lost rate +- 0.10% is
#: not "too noisy" against a 3% target.
PLANNING_RESOLUTION = 0.005


def too_noisy(mean: float, hw: float, share_of: float | None = None) -> bool:
    """Whether a CI half-width ``hw`` makes the estimate ``mean`` unusable: wider than the
    estimate itself and, for a share (``share_of`` = 1) or a count of inquiries (``share_of`` =
    the inquiries), wider than :data:`PLANNING_RESOLUTION` of the whole.

    >>> too_noisy(0.0007, 0.0010, share_of=1.0), too_noisy(0.02, 0.03, share_of=1.0)
    (False, True)
    """
    if math.isnan(hw) or hw <= abs(mean):
        return False
    return share_of is None or hw > PLANNING_RESOLUTION * share_of


def replications_needed(n: int, mean: float, hw: float, rel: float = TARGET_RELATIVE_HW) -> int | None:
    """Replications for a CI half-width of ``rel`` x |mean|, from ``n`` replications with
    half-width ``hw`` (half-widths shrink as 1/sqrt(n)): n x (hw / (rel |mean|))^2. None when
    the mean is 0 (no relative precision is reachable)."""
    if mean == 0 or math.isnan(hw) or math.isnan(mean):
        return None
    return max(n + 1, math.ceil(n * (hw / (rel * abs(mean))) ** 2))


def kpi_table(cfg: Config, results: Sequence[Result]) -> str:
    """The planner's KPI table as text: estimate and 95% CI half-width with units. An estimate
    whose CI is wider than itself is flagged too noisy, with the replications that would make it
    +-10%."""
    table = summary_table(results)
    n = len(results)
    inquiries = table.loc["inquiries", "mean"]
    lines = [f"{cfg.name}: {inquiries:,.0f} inquiries, {n} replication(s), 95% CI half-widths"]
    width = max(len(label) for _, label, _ in KPI_ROWS)
    for key, label, fmt in KPI_ROWS:
        mean, hw = table.loc[key, "mean"], table.loc[key, "ci95"]
        ci = "(1 replication: no CI)" if n < 2 else ("" if hw != hw else f"+- {_fmt(hw, fmt)}")
        share_of = 1.0 if fmt == "pct" else inquiries if key == "lost_inquiries" else None
        if n >= 2 and too_noisy(mean, hw, share_of):
            need = replications_needed(n, mean, hw)
            ci += "  too noisy: the CI is wider than the estimate" + (
                f"; ~{need:,} replications for +-10%" if need else "")
        value = "n/a (no inquiries)" if math.isnan(mean) and not inquiries else _fmt(mean, fmt)
        lines.append(f"  {label:<{width}}  {value:>18}  {ci}".rstrip())
    return "\n".join(lines)
