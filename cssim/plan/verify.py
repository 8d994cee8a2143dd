"""Step 4 of planning: simulate the planned roster on fresh seeds and check every interval.

The roster chosen by the cover (:mod:`cssim.plan.cover`) is run with R *independent*
replications: verification round k uses seed ``cfg.seed + k``, never the correction's seed
``cfg.seed``, so the check is not fitted to the customers the requirement was built on.

Per interval, the lost rate is lost / arrivals pooled over the replications, with the ratio
estimator's 95% CI (:func:`cssim.plan.replicate.ratio_ci`). An interval *misses by more than
its CI* when the whole interval lies above the ceiling (``lost - hw > max_lost_rate``; for the
3-minute rate, ``rr + hw < min_rr_3min``): the data then reject "this interval meets its
target" at the 2.5% level. Such an interval's requirement is raised (to where the Erlang-A
fitted to its verified loss puts the target, and at least a step above what it had), and the
planner covers and verifies again with the next seed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.plan.replicate import Batch


def verification_seed(cfg: Config, round_: int) -> int:
    """The seed of verification round ``round_`` (1, 2, ...): fresh customers every round."""
    return int(cfg.seed) + int(round_)


def check(cfg: Config, batch: Batch, target_mask: np.ndarray, heads: np.ndarray | None = None) -> pd.DataFrame:
    """Per-interval verification table of one batch: arrivals per replication, lost rate and
    3-minute rate with 95% CI half-widths, the targets, whether the estimate meets them and
    whether it misses by more than its CI."""
    pl = cfg.plan
    edges_h = interval_edges_s(cfg) / 3600.0
    lost, lost_hw = batch.lost_rate()
    rr, rr_hw = batch.rr_3min()
    tgt = np.asarray(target_mask, dtype=bool)
    meets = ~(lost > pl.max_lost_rate)
    miss = lost - np.nan_to_num(lost_hw, nan=0.0) > pl.max_lost_rate
    if pl.min_rr_3min is not None:
        meets &= ~(rr < pl.min_rr_3min)
        miss |= rr + np.nan_to_num(rr_hw, nan=0.0) < pl.min_rr_3min
    df = pd.DataFrame(
        {
            "interval": np.arange(lost.size),
            "start_h": edges_h[:-1],
            "end_h": edges_h[1:],
            "arrivals_per_replication": batch.arrivals.mean(axis=0),
            "lost_rate": lost,
            "lost_rate_ci95": lost_hw,
            "target_lost_rate": np.where(tgt, pl.max_lost_rate, np.nan),
            "rr_3min": rr,
            "rr_3min_ci95": rr_hw,
            "target_rr_3min": np.where(tgt, pl.min_rr_3min if pl.min_rr_3min is not None else np.nan, np.nan),
            "meets": np.where(tgt, meets, True),
            "misses_beyond_ci": np.where(tgt, miss & ~np.isnan(lost), False),
        }
    )
    if heads is not None:
        df["planned_working_heads"] = heads
    return df


def raised_need(cfg: Config, model, need: np.ndarray, covered: np.ndarray, table: pd.DataFrame, cap: np.ndarray) -> np.ndarray:
    """New requirement after a verification round: every interval that missed beyond its CI
    asks for more than the roster gave it (``covered``, reference working heads): where the
    Erlang-A fitted to its verified loss puts the target, and at least a step more."""
    from cssim.plan.correct import _step

    out = np.asarray(need, dtype=np.int64).copy()
    for i in np.flatnonzero(table["misses_beyond_ci"].to_numpy()):
        have = int(math.floor(covered[i]))
        up = have + _step(cfg, have)
        load = model.fit_load(i, have, float(table["lost_rate"].iloc[i]))
        if load is not None and table["lost_rate"].iloc[i] > cfg.plan.max_lost_rate:
            up = max(up, model.min_heads(i, cfg.plan.max_lost_rate, load, int(cap[i]))[0])
        out[i] = min(max(out[i], up), int(cap[i]))
    return out
