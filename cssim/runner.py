"""One job of the command line: a scenario run for N replications, written to a run folder.

A run folder holds ``metrics.json`` (every replication's metrics, and per metric the mean with
its 95% CI half-width) and ``intervals.csv`` (one row per replication and planning interval).
Both are written atomically, ``metrics.json`` last: a folder with ``metrics.json`` is complete.
Used by the ``cssim`` app for single runs and for each sweep point.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from cssim.api import simulate
from cssim.chatlog import write_log
from cssim.config import Config
from cssim.io import write_csv, write_json
from cssim.metrics import DIAGNOSTICS, METRICS, UNITS
from cssim.result import Result
from cssim.stats import summarize


class Progress:
    """Progress on stderr: a bar redrawn in place on a terminal, a line per replication
    otherwise (logs, CI, joblib workers)."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()

    def update(self, rep: int, frac: float) -> None:
        if self.tty:
            done = (rep + frac) / self.total
            bar = "#" * int(30 * done)
            sys.stderr.write(f"\r{self.label}: [{bar:<30}] {100 * done:5.1f}%  rep {rep + 1}/{self.total}")
            sys.stderr.flush()

    def finished(self, rep: int, res: Result) -> None:
        m = res.metrics
        lost = f"lost {100 * m['lost_rate']:.1f}% of {m['inquiries']:,} inquiries" if m["inquiries"] else "lost n/a (no inquiries)"
        line = f"{self.label}: replication {rep + 1}/{self.total} done in {res.wall_s:.1f} s ({lost})"
        sys.stderr.write(("\r" + line + " " * 10 + "\n") if self.tty else line + "\n")
        sys.stderr.flush()


def run_replications(cfg: Config, label: str = "cssim", quiet: bool = False) -> list[Result]:
    """``cfg.replications`` replications with seed ``cfg.seed`` (replication r uses streams
    (seed, r), so every sweep point sees the same customers in its r-th replication)."""
    prog = None if quiet else Progress(label, cfg.replications)
    out = []
    for r in range(cfg.replications):
        res = simulate(cfg, seed=cfg.seed, replication=r, progress=(lambda f, r=r: prog.update(r, f)) if prog else None)
        if prog:
            prog.finished(r, res)
        out.append(res)
    return out


def summary_table(results: Sequence[Result]) -> pd.DataFrame:
    """Mean, 95% CI half-width, n and unit per metric (public metrics, then diagnostics)."""
    names = list(METRICS) + list(DIAGNOSTICS)
    table = summarize([r.metrics for r in results], names)
    table["unit"] = [UNITS[n] for n in table.index]
    return table


def write_run(folder: Path, cfg: Config, results: Sequence[Result], overrides: Sequence[str] = ()) -> None:
    """Write ``intervals.csv`` then ``metrics.json`` for one job into ``folder`` (so a folder
    with ``metrics.json`` is complete; ``cssim aggregate`` counts the others as not run)."""
    folder = Path(folder)
    table = summary_table(results)
    iv = pd.concat([r.intervals.reset_index().assign(replication=r.replication) for r in results], ignore_index=True)
    write_csv(folder / "intervals.csv", iv[["replication"] + [c for c in iv.columns if c != "replication"]])
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
        if n >= 2 and not math.isnan(hw) and hw > abs(mean):
            need = replications_needed(n, mean, hw)
            ci += "  too noisy: the CI is wider than the estimate" + (
                f"; ~{need:,} replications for +-10%" if need else "")
        value = "n/a (no inquiries)" if math.isnan(mean) and not inquiries else _fmt(mean, fmt)
        lines.append(f"  {label:<{width}}  {value:>18}  {ci}".rstrip())
    return "\n".join(lines)
