"""The seed facts of MODEL.md ("Seed facts the default world must reproduce") on the shipped
``semir_double11_2016`` scenario, each band checked with a 95% confidence interval over
independent replications: the whole interval must lie inside the band.

The default run checks a proportionally scaled store (20% of the volume, heads and bot slots);
``-m slow`` checks the full store. One band is known not to hold (temps' receptions per 8 h on
shift; see the scenario file and README "Calibration"): it is an expected failure, strict, so
that the day it starts to hold the test says so.
"""

from __future__ import annotations

import copy

import pytest

import cssim
from cssim.stats import mean_ci
from scaled import scaled

BANDS = {  # metric: (low, high), MODEL.md's table
    "bot_share": (0.15, 0.25),
    "response_rate": (0.95, 1.0),
    "rr_3min": (0.90, 1.0),
    "inquiry_conversion": (0.40, 0.50),
    "receptions_per_8h_ft": (150.0, 200.0),
}
REPS = 5
# Shares of inquiries: a value above 1 is impossible, so their intervals are clipped to [0, 1]
# (a t-interval around 0.999 can reach past 1, and a band ending at 1.0 would then "fail").
PROPORTIONS = {"bot_share", "response_rate", "rr_3min", "inquiry_conversion"}


def replicate(cfg, reps: int = REPS) -> list[dict]:
    return [cssim.simulate(cfg, replication=r).metrics for r in range(reps)]


def check_band(runs: list[dict], metric: str, low: float, high: float) -> None:
    m, hw, n = mean_ci(r[metric] for r in runs)
    lo, hi = m - hw, m + hw
    if metric in PROPORTIONS:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    assert low <= lo and hi <= high, f"{metric}: {m:.4f} +- {hw:.4f} (n={n}) not inside [{low}, {high}]"


def bot_off(cfg):
    off = copy.deepcopy(cfg)
    off.routing.policy = "humans_only"
    return off


@pytest.fixture(scope="module")
def scaled_store():
    cfg = scaled("semir_double11_2016", 0.2)
    return cfg, replicate(cfg)


@pytest.mark.parametrize("metric", list(BANDS))
def test_seed_fact_band_on_a_scaled_store(scaled_store, metric):
    _, runs = scaled_store
    check_band(runs, metric, *BANDS[metric])


@pytest.mark.xfail(strict=True, reason="infeasible with the sourced work per chat and temps speed <= 0.7 (README 'Calibration')")
def test_temps_receptions_per_8h_band(scaled_store):
    _, runs = scaled_store
    check_band(runs, "receptions_per_8h_temps", 150.0, 200.0)


def test_bot_off_loses_more_inquiries(scaled_store):
    """Seed: the bot cut loss (~5% year on year; another year's volume and staff, so only the
    sign carries over). Paired by replication (the same customers), ``humans_only`` loses more
    inquiries, the 95% CI of the paired difference above zero."""
    cfg, runs = scaled_store
    off = replicate(bot_off(cfg), len(runs))
    diff, hw, _ = mean_ci(b["lost_inquiries"] - a["lost_inquiries"] for a, b in zip(runs, off))
    assert diff - hw > 0, (diff, hw)


def test_a_shop_with_no_humans_fails_the_response_bands():
    """MODEL.md's seed-fact table: with no humans on shift (ft 0, temps 0, the bot as shipped)
    the bot's first reply is not service when the customer asks for a human, so the response
    rate is at most the bot's resolved share, and the response and 3-minute bands fail (their
    95% CIs lie wholly below the bands' floors)."""
    cfg = scaled("semir_double11_2016", 0.2, ["staffing.ft.count=0", "staffing.temps.count=0"])
    runs = replicate(cfg, 3)
    for r in runs:
        assert r["response_rate"] <= r["bot_resolved"] / r["inquiries"] + 1e-12, r
        assert r["responded"] == r["bot_resolved"]
    for metric in ("response_rate", "rr_3min"):
        m, hw, _ = mean_ci(r[metric] for r in runs)
        assert m + hw < BANDS[metric][0], (metric, m, hw)


def test_every_hand_over_is_lost_when_no_human_is_ever_on_shift():
    """With no human on shift all day, every customer the bot hands over is lost after the
    hand-over, or still waiting for a human when the horizon comes (and then never served)."""
    cfg = scaled("small_shop_618", 1.0, ["staffing.ft.count=0", "warmup_h=0", "arrivals.total=3000"])
    res = cssim.simulate(cfg, seed=7, log=True)
    m, log = res.metrics, res.log
    assert m["escalated"] > 100
    waiting_handed = int((log.handover_ts.notna() & log.left_ts.isna() & log.human_reply_ts.isna()).sum())
    assert m["lost_after_handover"] + waiting_handed == m["escalated"]
    assert m["lost_after_handover"] > 0.9 * m["escalated"]


@pytest.mark.slow
def test_seed_fact_bands_on_the_full_store():
    cfg = cssim.load_scenario("semir_double11_2016")
    runs = replicate(cfg)
    for metric, (low, high) in BANDS.items():
        check_band(runs, metric, low, high)
    off = replicate(bot_off(cfg))
    diff, hw, _ = mean_ci(b["lost_inquiries"] - a["lost_inquiries"] for a, b in zip(runs, off))
    assert diff - hw > 0, (diff, hw)
