"""Step 4 of planning: simulate the planned roster on fresh seeds and check every interval.

The roster chosen by the cover (:mod:`cssim.plan.cover`) is run with R *independent*
replications: verification round k uses seed ``cfg.seed + k``, never the correction's seed
``cfg.seed``, so the check is not fitted to the customers the requirement was built on.

Per interval, the lost rate is lost / arrivals pooled over the replications, with the ratio
estimator's CI (:func:`cssim.plan.replicate.ratio_ci`). The rule (docs/planning.md#the-four-steps):

* an interval whose *point estimate* misses its target (lost rate above the ceiling, or
  3-minute rate below the floor) is a miss to be settled, never a pass;
* it is *confirmed* by a one-sided test at level ``ALPHA`` (5%): the lower end of the
  one-sided 95% bound still misses (``lost - t_0.95 se > max_lost_rate``);
* while a point miss is not confirmed, replications are added (doubling, up to
  ``plan.max_replications``): more data either confirms it or brings the estimate back under
  the ceiling. A confirmed miss is raised (to where the Erlang-A fitted to its verified loss
  puts the target, and at least a step above what it had) and the planner covers and verifies
  again with the next seed; one still unconfirmed at ``plan.max_replications`` is reported as
  *unresolved*: within the simulation's resolution of the target. It does not start another
  round by itself: on a fresh seed every round, some intervals near the target always show a
  point miss within noise, and chasing them round after round only creeps the roster up (on
  the 12-day two-wave world at 8 replications: 10 rounds, 76 of 288 hours stepped, +12.5 % of
  roster cost, and still 4 within noise at the end). When a confirmed miss starts a round, each
  miss within noise gets one step too, once per interval (the benefit of the doubt goes to the
  customers).
* The rounds end when one confirms no miss (at most ``plan.max_iterations`` rounds). The plan
  holds if no point estimate misses either; an interval still within noise is named with its
  estimate and CI and is not a pass: more ``plan.max_replications`` settles it.
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


#: One-sided level of the verification's test of a point miss.
ALPHA = 0.05


def check(cfg: Config, batch: Batch, target_mask: np.ndarray, heads: np.ndarray | None = None) -> pd.DataFrame:
    """Per-interval verification table of one batch: arrivals per replication, lost rate and
    3-minute rate with 95% CI half-widths, the targets, whether the point estimate meets them,
    whether a miss is confirmed by the one-sided test at ``ALPHA``, and whether it is not
    (``miss_unresolved``)."""
    pl = cfg.plan
    edges_h = interval_edges_s(cfg) / 3600.0
    lost, lost_hw = batch.lost_rate()
    rr, rr_hw = batch.rr_3min()
    _, lost_1s = batch.lost_rate(1 - 2 * ALPHA)  # one-sided ALPHA = two-sided 1 - 2 ALPHA
    _, rr_1s = batch.rr_3min(1 - 2 * ALPHA)
    tgt = np.asarray(target_mask, dtype=bool)
    with np.errstate(invalid="ignore"):
        meets = ~(lost > pl.max_lost_rate)
        confirmed = lost - np.nan_to_num(lost_1s, nan=np.inf) > pl.max_lost_rate
        if pl.min_rr_3min is not None:
            meets &= ~(rr < pl.min_rr_3min)
            confirmed |= rr + np.nan_to_num(rr_1s, nan=np.inf) < pl.min_rr_3min
    has = tgt & ~np.isnan(lost)
    df = pd.DataFrame(
        {
            "interval": np.arange(lost.size),
            "start_h": edges_h[:-1],
            "end_h": edges_h[1:],
            "arrivals_per_replication": batch.arrivals.mean(axis=0),
            "replications": batch.replications,
            "lost_rate": lost,
            "lost_rate_ci95": lost_hw,
            "target_lost_rate": np.where(tgt, pl.max_lost_rate, np.nan),
            "rr_3min": rr,
            "rr_3min_ci95": rr_hw,
            "target_rr_3min": np.where(tgt, pl.min_rr_3min if pl.min_rr_3min is not None else np.nan, np.nan),
            "meets": np.where(tgt, meets, True),
            "miss_confirmed": np.where(has, confirmed & ~meets, False),
            "miss_unresolved": np.where(has, ~meets & ~confirmed, False),
        }
    )
    if heads is not None:
        df["planned_working_heads"] = heads
    return df


def verify(cfg: Config, runner, label: str, roster_cfg: Config, seed: int, target_mask: np.ndarray, heads: np.ndarray | None = None):
    """Simulate ``roster_cfg`` on ``plan.replications`` replications of ``seed`` and, while
    some interval's point miss is not confirmed, on twice as many (up to
    ``plan.max_replications``). Returns (batch, :func:`check` table)."""
    pl = cfg.plan
    reps, batch = pl.replications, None
    while True:
        batch = runner.extend([(label, roster_cfg, seed, reps, batch)])[0]
        table = check(cfg, batch, target_mask, heads)
        if reps >= pl.max_replications or not table["miss_unresolved"].any():
            return batch, table
        reps = min(pl.max_replications, 2 * reps)


def raised_need(
    cfg: Config, model, need: np.ndarray, covered: np.ndarray, table: pd.DataFrame, cap: np.ndarray, stepped: np.ndarray | None = None,
    streak: np.ndarray | None = None,
) -> np.ndarray:
    """New requirement after a verification round: every interval whose miss was confirmed
    asks for more than the roster gave it (``covered``, reference working heads): where the
    Erlang-A fitted to its verified loss puts the target, and at least a step more -- 2^(k-1)
    steps when ``streak`` says its miss was confirmed k rounds running (the fitted model
    under-reads an interval whose loss comes from a backlog carried in, such as the quarter-hour
    after a big shift ends, and one step a round would take many rounds). A point miss still
    within noise at ``plan.max_replications`` gets one step more, once: not where ``stepped``
    (the intervals that had their step in an earlier round) is set."""
    from cssim.plan.correct import _step

    out = np.asarray(need, dtype=np.int64).copy()
    runs = np.ones(len(out), dtype=np.int64) if streak is None else np.maximum(1, np.asarray(streak, dtype=np.int64))
    for i in np.flatnonzero(table["miss_confirmed"].to_numpy()):
        have = int(math.floor(covered[i]))
        up = have + _step(cfg, have) * 2 ** int(min(runs[i] - 1, 10))
        load = model.fit_load(i, have, float(table["lost_rate"].iloc[i]))
        if load is not None and table["lost_rate"].iloc[i] > cfg.plan.max_lost_rate:
            up = max(up, model.min_heads(i, cfg.plan.max_lost_rate, load, int(cap[i]))[0])
        out[i] = min(max(out[i], up), int(cap[i]))
    # The benefit of the doubt goes to the customers, once: a point miss still within noise at
    # plan.max_replications gets a step (each round's fresh seed shows other intervals within
    # noise, so stepping the same ones again would only creep).
    done = np.zeros(len(out), dtype=bool) if stepped is None else np.asarray(stepped, dtype=bool)
    for i in np.flatnonzero(table["miss_unresolved"].to_numpy() & ~done):
        have = int(math.floor(covered[i]))
        out[i] = min(max(out[i], have + _step(cfg, have)), int(cap[i]))
    return out
