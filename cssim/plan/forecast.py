"""Planning for forecast error: ``plan.forecast_cv`` and ``plan.service_quantile``.

The day's volume is the forecast times one gamma multiplier (mean 1, coefficient of variation
``forecast_cv``), the scenario's ``arrivals.forecast_cv`` mechanism. An interval's expected
lost rate rises with the day's multiplier (more arrivals on the same heads), so the target
holds on a day exactly when its multiplier is at most the one where the interval just meets
it. The target therefore holds on a share ``q`` of days in every interval if and only if it
holds on the day at the multiplier's q-quantile ``m_q``: the robust plan is the point plan of
that day (:func:`robust_plan`), and it is verified on that day (fresh seeds) like any plan.

What the insurance costs is shown beside it: the point plan (multiplier 1) and the robust plan,
their roster costs, and both rosters simulated on quieter and busier days (fixed multipliers
0.8, 1.0, 1.2) and on fresh gamma days (``arrivals.forecast_cv = forecast_cv``), where the share
of days on which an interval met its target is counted from each day's own loss (sampling noise
included).
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np
from scipy import stats

from cssim.config import Config
from cssim.plan.replicate import Batch, Runner, ratio_ci

#: Fixed day multipliers the output compares the two plans on.
MULTIPLIERS = (0.8, 1.0, 1.2)
#: Seed offsets of the comparison runs: never a correction (seed) or verification (seed + k) seed.
FIXED_SEED, FRESH_SEED = 2000, 3000


def quantile_multiplier(cv: float, q: float) -> float:
    """The q-quantile of the gamma day multiplier with mean 1 and coefficient of variation cv
    (shape 1/cv^2, scale cv^2; :func:`cssim.arrivals.forecast_multiplier`)."""
    if cv <= 0:
        return 1.0
    shape = 1.0 / cv**2
    return float(stats.gamma.ppf(q, shape, scale=1.0 / shape))


def at_multiplier(cfg: Config, m: float, cv: float = 0.0) -> Config:
    """``cfg`` with the forecast volume times ``m`` and day multipliers drawn with ``cv``."""
    out = copy.deepcopy(cfg)
    a = out.arrivals
    if a.rate_per_min is not None:
        a.rate_per_min = a.rate_per_min * m
    else:
        a.total = a.total * m
    a.forecast_cv = float(cv)
    return out


def _lost(batch: Batch) -> tuple[float, float]:
    r, hw = ratio_ci(batch.lost.sum(axis=1, keepdims=True), batch.arrivals.sum(axis=1, keepdims=True))
    return float(r[0]), float(hw[0])


def _met(cfg: Config, batch: Batch, tgt: np.ndarray) -> int:
    lost, _ = batch.lost_rate()
    ok = ~(lost > cfg.plan.max_lost_rate)
    if cfg.plan.min_rr_3min is not None:
        ok &= ~(batch.rr_3min()[0] < cfg.plan.min_rr_3min)
    return int(ok[tgt].sum())


def _day_share(cfg: Config, batch: Batch, tgt: np.ndarray) -> np.ndarray:
    """Per interval with a target: the share of days (replications) whose own loss met it."""
    with np.errstate(invalid="ignore", divide="ignore"):
        day = batch.lost / np.where(batch.arrivals > 0, batch.arrivals, np.nan)
    ok = ~(day > cfg.plan.max_lost_rate)
    if cfg.plan.min_rr_3min is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            ok &= ~(batch.fast / np.where(batch.arrivals > 0, batch.arrivals, np.nan) < cfg.plan.min_rr_3min)
    return ok.mean(axis=0)[tgt]


def robust_plan(cfg: Config, plan_fn: Callable, runner: Runner, emit: Callable[[str], None], **kw):
    """The plan for ``plan.forecast_cv`` > 0 (module docstring): the point plan, the plan of
    the ``service_quantile`` day, both compared on fixed and on fresh gamma days. Returns the
    robust :class:`~cssim.plan.planner.Plan` with ``summary["forecast"]``."""
    pl = cfg.plan
    cv, q = pl.forecast_cv, pl.service_quantile
    mq = quantile_multiplier(cv, q)
    base = copy.deepcopy(cfg)
    base.plan.forecast_cv = 0.0
    base.arrivals.forecast_cv = 0.0
    emit(f"plan: forecast error cv {cv:g}: the target must hold on {100 * q:g}% of days, i.e. on a day {mq:.3f} x the forecast (gamma quantile)")
    emit("plan: [1/2] the point plan (the forecast day, multiplier 1)")
    point = plan_fn(base, **kw)
    emit(f"plan: [2/2] the robust plan (a day {mq:.3f} x the forecast)")
    robust = plan_fn(at_multiplier(base, mq), **kw)

    from cssim.plan.correct import targets
    from cssim.plan.requirements import queue_model

    tgt = targets(base, queue_model(base))
    R = pl.replications
    rows = []
    runs0 = runner.runs
    for m in MULTIPLIERS:
        a, b = runner.batches(
            [(f"point plan, day x{m:g}", at_multiplier(point.config, m), cfg.seed + FIXED_SEED, R),
             (f"robust plan, day x{m:g}", at_multiplier(robust.config, m / mq), cfg.seed + FIXED_SEED, R)]
        )
        (pl_, phw), (rl, rhw) = _lost(a), _lost(b)
        rows.append(
            {"multiplier": m, "point_lost_rate": pl_, "point_ci95": phw, "robust_lost_rate": rl, "robust_ci95": rhw,
             "point_met": _met(base, a, tgt), "robust_met": _met(base, b, tgt), "with_target": int(tgt.sum())}
        )
    days = max(16, 4 * R)
    a, b = runner.batches(
        [("point plan, fresh gamma days", at_multiplier(point.config, 1.0, cv), cfg.seed + FRESH_SEED, days),
         ("robust plan, fresh gamma days", at_multiplier(robust.config, 1.0 / mq, cv), cfg.seed + FRESH_SEED, days)]
    )
    mult = np.array([r["forecast_multiplier"] for r in a.metrics])
    ps, rs = _day_share(base, a, tgt), _day_share(base, b, tgt)
    fc = {
        "forecast_cv": cv,
        "service_quantile": q,
        "multiplier": mq,
        "point_cost_cny": point.summary["roster_cost_cny"],
        "robust_cost_cny": robust.summary["roster_cost_cny"],
        "point_roster": point.roster.to_dict("records"),
        "point_verified": bool(point.summary["verified"]),
        "by_multiplier": rows,
        "fresh": {
            "days": days,
            "seed": cfg.seed + FRESH_SEED,
            "share_days_within_quantile": float(np.mean(mult <= mq)),
            "point_share": float(ps.mean()) if ps.size else float("nan"),
            "robust_share": float(rs.mean()) if rs.size else float("nan"),
            "point_share_worst": float(ps.min()) if ps.size else float("nan"),
            "robust_share_worst": float(rs.min()) if rs.size else float("nan"),
        },
        "runs": runner.runs - runs0,
    }
    # The robust roster on the forecast: simulating plan.yaml draws the days it was bought for.
    robust.config = at_multiplier(robust.config, 1.0 / mq, cv)
    robust.config.description += f"; insured for forecast error cv {cv:g} at the {100 * q:g}% day (x{mq:.3f}), verified on that day"
    robust.summary["forecast"] = fc
    robust.summary["runs"]["forecast_comparison"] = fc["runs"]
    robust.summary["runs"]["point_plan"] = point.summary["runs"]["total"]
    robust.summary["wall_s"] += point.summary["wall_s"]
    robust.messages = [*(f"point plan: {m}" for m in point.messages), *robust.messages]
    robust.summary["messages"] = robust.messages
    return robust
