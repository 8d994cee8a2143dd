"""MODEL.md step 2's invariant a planner relies on: with common random numbers, adding heads to
any pool never raises lost inquiries beyond sampling noise.

Each step up in heads is compared with the step below on the same replications (the same
customers): the paired difference of lost inquiries may be positive only by noise, i.e. its
one-sided 99.9% t lower bound must not exceed zero. And the reason the old default failed it,
documented: with ``routing.takeover_s=inf`` (the bot only gets inquiries when every human slot
is full), the pre-0.2 Semir world loses *more* inquiries by day as temps rise from 1,000 to
1,500, because temps with free slots but long typing queues take chats the idle bot would have
answered at once.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import cssim
from scaled import scaled


def lost(cfg, reps: int, day: bool = False) -> np.ndarray:
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


def not_increasing(a: np.ndarray, b: np.ndarray) -> None:
    """b (more heads) loses no more than a beyond noise (paired, one-sided 99.9%)."""
    d = b - a
    if np.all(d == 0):
        return
    lower = d.mean() - stats.t.ppf(0.999, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    assert lower <= 0, f"lost rose: {a} -> {b}"


def sweep(scenario: str, factor: float, key: str, levels: list[int], reps: int, extra=()) -> list[np.ndarray]:
    return [lost(scaled(scenario, factor, [*extra, f"{key}={n}"]), reps) for n in levels]


@pytest.mark.parametrize(
    "key,levels",
    [("staffing.temps.count", [0, 500, 1000, 1500, 2000, 3000]), ("staffing.ft.count", [0, 35, 70, 140])],
)
def test_semir_loses_no_more_with_more_heads(key, levels):
    # 10% store: heads are given full-store and scaled by scaled() with the volume.
    factor = 0.1
    results = []
    for n in levels:
        cfg = scaled("semir_double11_2016", factor, [f"{key}={n}"])
        results.append(lost(cfg, 3))
    for a, b in zip(results, results[1:]):
        not_increasing(a, b)
    assert results[0].mean() > results[-1].mean()  # heads do matter here


@pytest.mark.parametrize("key,levels", [("staffing.ft.count", [1, 2, 3, 5, 8]), ("staffing.temps.count", [0, 1, 2, 4])])
def test_small_shop_loses_no_more_with_more_heads(key, levels):
    results = [lost(cssim.load_scenario("small_shop_618", [f"{key}={n}", "arrivals.total=6000"]), 4) for n in levels]
    for a, b in zip(results, results[1:]):
        not_increasing(a, b)


OLD_WORLD = [  # the pre-0.2 Semir values, slot-only overflow
    "routing.takeover_s=inf", "staffing.temps.speed=0.55", "staffing.temps.concurrency=3",
    "staffing.bot.concurrency=1000", "customers.midchat_patience.mean=180",
]


def test_slot_only_overflow_lets_more_temps_lose_more_by_day():
    """Documents the artefact the takeover rule removes (issue 8): 09-16 h loss, paired."""
    low = lost(scaled("semir_double11_2016", 0.2, OLD_WORLD + ["staffing.temps.count=1000"]), 2, day=True)
    high = lost(scaled("semir_double11_2016", 0.2, OLD_WORLD + ["staffing.temps.count=1500"]), 2, day=True)
    assert np.all(high > low + 0.01), (low, high)
    fixed = [w for w in OLD_WORLD if not w.startswith("routing.takeover_s")] + ["routing.takeover_s=0"]
    low = lost(scaled("semir_double11_2016", 0.2, fixed + ["staffing.temps.count=1000"]), 2, day=True)
    high = lost(scaled("semir_double11_2016", 0.2, fixed + ["staffing.temps.count=1500"]), 2, day=True)
    assert np.all(high < low), (low, high)
