"""MODEL.md step 2's invariant a planner relies on: with common random numbers, adding heads to
any pool never raises lost inquiries (both kinds: before a first reply and after a hand-over)
beyond sampling noise.

The check (:func:`rises`): each step up in heads is compared with the step below on the same
replications (the same customers). The paired differences of lost inquiries are tested with a
one-sided paired t-test per step, family-wise level ``ALPHA`` over the steps of a sweep
(Bonferroni). With ``REPS`` = 8 replications a step fails once its mean rise exceeds about
4 standard errors (t at 0.99/5 one-sided, 7 degrees of freedom), where the old 3-replication,
99.9% check needed about 13.

Power: the check must catch a real rise. :func:`test_the_check_catches_a_planted_rise` plants
one: the 1,500-temps replications keep their real paired noise against the 1,000-temps ones
(the same customers) but their mean is moved to 5% *more* lost inquiries than at 1,000 temps.
The check must flag it (the old 3-replication, 99.9% check did not: see CHANGELOG 0.3.0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import cssim
from scaled import scaled

REPS = 8
ALPHA = 0.01


def lost(cfg, reps: int = REPS, day: bool = False) -> np.ndarray:
    """Lost inquiries (both kinds) per replication; ``day``: the 09:00-16:00 lost rate."""
    out = []
    for r in range(reps):
        res = cssim.simulate(cfg, replication=r)
        if day:
            iv = res.intervals
            d = iv[(iv.start_h >= 9) & (iv.start_h < 16)]
            out.append(d["lost"].sum() / d["arrivals"].sum())
        else:
            out.append(res.metrics["lost_inquiries"])
    return np.asarray(out, dtype=float)


def rises(results: list[np.ndarray], alpha: float = ALPHA) -> list[tuple[int, float, float]]:
    """Steps (index, mean rise, t) where more heads lost significantly more: one-sided paired
    t-test per step at level ``alpha / steps``."""
    steps = len(results) - 1
    bad = []
    for i, (a, b) in enumerate(zip(results, results[1:])):
        d = b - a
        if np.all(d == d[0]):
            if d[0] > 0:
                bad.append((i, float(d[0]), math.inf))
            continue
        t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
        if t > stats.t.ppf(1 - alpha / steps, d.size - 1):
            bad.append((i, float(d.mean()), float(t)))
    return bad


@pytest.mark.parametrize(
    "key,levels",
    [("staffing.temps.count", [0, 500, 1000, 1500, 2000, 3000]), ("staffing.ft.count", [0, 35, 70, 140])],
)
def test_semir_loses_no_more_with_more_heads(key, levels):
    # 10% store: heads are given full-store and scaled by scaled() with the volume.
    results = [lost(scaled("semir_double11_2016", 0.1, [f"{key}={n}"])) for n in levels]
    assert not rises(results), f"lost rose with {key}: {[r.mean() for r in results]}"
    assert results[0].mean() > results[-1].mean()  # heads do matter here


@pytest.mark.parametrize("key,levels", [("staffing.ft.count", [1, 2, 3, 5, 8]), ("staffing.temps.count", [0, 1, 2, 4])])
def test_small_shop_loses_no_more_with_more_heads(key, levels):
    results = [lost(cssim.load_scenario("small_shop_618", [f"{key}={n}", "arrivals.total=6000"])) for n in levels]
    assert not rises(results), f"lost rose with {key}: {[r.mean() for r in results]}"
    assert results[0].mean() > results[-1].mean()


def test_the_check_catches_a_planted_rise():
    """Power: a non-monotone rule that makes 1,500 temps lose 5% more than 1,000 temps, with the
    real paired noise between the two levels, is flagged by the same check on the same number
    of replications."""
    a, b = (lost(scaled("semir_double11_2016", 0.1, [f"staffing.temps.count={n}"])) for n in (1000, 1500))
    d = b - a
    planted = a + (d - d.mean()) + 0.05 * a.mean()
    assert rises([a, planted]), (a, planted)
    assert not rises([a, b]), (a, b)
