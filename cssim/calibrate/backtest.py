"""The back-test: simulate the calibrated scenario (with the base's staffing, which must be the
log's) and set its KPIs beside the log's, each with a 95% confidence interval.

KPIs are computed the same way on both sides, from a chat log (:func:`cssim.calibrate.logs.kpis`):
the simulated replications are logged and read back. The log's interval is across its days
(Student t) when it has several, else binomial (Wilson) for rates and t over inquiries for the
mean first response; the simulation's is across replications. ``consistent`` says whether the
difference is within the two half-widths combined in quadrature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cssim.calibrate.estimators import mean_t, wilson
from cssim.calibrate.logs import KPI_NAMES, KPI_UNITS, LogData, from_frame, interval_kpis, kpis
from cssim.config import Config, start_instant


@dataclass
class Backtest:
    table: pd.DataFrame  # kpi, unit, log, log_lo, log_hi, sim, sim_lo, sim_hi, consistent
    log_intervals: pd.DataFrame
    sim_intervals: pd.DataFrame
    replications: int


def _log_cis(L: LogData) -> dict[str, tuple[float, float, float]]:
    if L.n_days >= 2:
        per_day = [kpis(L, [d]) for d in range(L.n_days)]
        return {k: mean_t([p[k] for p in per_day if np.isfinite(p[k])]) for k in KPI_NAMES}
    k = kpis(L)
    n = L.n
    out = {
        "lost_rate": wilson(int(L.lost.sum()), n),
        "response_rate": wilson(int(L.responded.sum()), n),
        "inquiry_conversion": wilson(int((np.isfinite(L.paid) & L.presale).sum()), int(L.presale.sum())),
    }
    frt = (L.first_reply - L.arrival)[L.replied]
    m, lo, hi = mean_t(frt)
    out["avg_first_response_s"] = (k["avg_first_response_s"], lo, hi)
    return out


def run_backtest(L: LogData, cfg: Config, replications: int = 5, seed: int | None = None) -> Backtest:
    """Simulate ``cfg`` ``replications`` times (logged) and compare KPIs with the log ``L``."""
    from cssim.api import simulate

    seed = cfg.seed if seed is None else seed
    start = pd.Timestamp(start_instant(cfg))
    sims, ivs = [], []
    for r in range(replications):
        res = simulate(cfg, seed=seed, replication=r, log=True)
        Ls = from_frame(res.log, start, cfg.horizon_h)
        sims.append(kpis(Ls))
        ivs.append(interval_kpis(Ls, cfg.interval_min * 60.0).assign(replication=r))
    log_ci = _log_cis(L)
    log_k = kpis(L)
    rows = []
    for k in KPI_NAMES:
        s_m, s_lo, s_hi = mean_t([s[k] for s in sims])
        l_m, l_lo, l_hi = log_ci[k]
        l_m = log_k[k] if L.n_days < 2 else l_m
        hw = math.hypot((l_hi - l_lo) / 2 if np.isfinite(l_hi) else 0.0, (s_hi - s_lo) / 2 if np.isfinite(s_hi) else 0.0)
        rows.append({"kpi": k, "unit": KPI_UNITS[k], "log": l_m, "log_lo": l_lo, "log_hi": l_hi,
                     "sim": s_m, "sim_lo": s_lo, "sim_hi": s_hi, "difference": s_m - l_m,
                     "consistent": bool(abs(s_m - l_m) <= hw)})
    return Backtest(pd.DataFrame(rows), interval_kpis(L, cfg.interval_min * 60.0), pd.concat(ivs, ignore_index=True), replications)


def _fmt(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    return f"{100 * v:.2f} %" if unit == "share" else f"{v:,.1f} s"


def format_backtest(bt: Backtest, log_days: int) -> str:
    lines = [f"Back-test: log ({log_days} day(s)) vs calibrated scenario ({bt.replications} replications), 95% CIs"]
    rows = []
    for r in bt.table.itertuples():
        rows.append({
            "KPI": r.kpi, "log": _fmt(r.log, r.unit), "log 95% CI": f"{_fmt(r.log_lo, r.unit)} - {_fmt(r.log_hi, r.unit)}",
            "simulated": _fmt(r.sim, r.unit), "sim 95% CI": f"{_fmt(r.sim_lo, r.unit)} - {_fmt(r.sim_hi, r.unit)}",
            "consistent": "yes" if r.consistent else "NO",
        })
    lines.append(pd.DataFrame(rows).to_string(index=False))
    return "\n".join(lines)


def chart(bt: Backtest, path: Path) -> Path:
    """Lost rate and mean first response per planning interval: the log against the simulation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cssim.io import write_png

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for ax, col, label in ((axes[0], "lost_rate", "lost rate (share)"), (axes[1], "mean_first_response_s", "mean first response (s)")):
        log = bt.log_intervals.groupby("start_h")[col].mean()
        g = bt.sim_intervals.groupby("start_h")[col]
        m, sd, n = g.mean(), g.std(ddof=1), g.count()
        hw = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        ax.step(log.index, log.values, where="post", color="k", label="log")
        ax.step(m.index, m.values, where="post", color="C1", label=f"simulated (mean of {bt.replications})")
        ax.fill_between(m.index, (m - hw).clip(lower=0), m + hw, step="post", color="C1", alpha=0.3, label="95% CI")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    axes[1].set_xlabel("hour of the day (h)")
    axes[0].set_title("Back-test per planning interval")
    write_png(path, fig)
    plt.close(fig)
    return path
