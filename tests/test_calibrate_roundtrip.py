"""Round trip: simulate known parameters with ``log=True``, calibrate from the log, recover them.

Specification (MODEL.md "Chat log and calibration"): every parameter a log identifies is
recovered within its confidence interval, and the calibrated scenario reproduces the log's
KPIs. Each scenario checks k parameters at once, so each 95% interval is widened to a
family-wise 95% one (Bonferroni: z = Phi^-1(1 - 0.05 / (2k)) instead of 1.96); the KPIs are
compared with the back-test's test (difference within both half-widths in quadrature). Two
worlds: an Erlang-A-like shop (one pool, one slot, exponential typing, constant turns) and the
small 618 shop (ft + bot overflow, six slots, Poisson turns, follow-ups and nudges).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cssim
from cssim.calibrate import calibrate_log
from cssim.calibrate.backtest import run_backtest
from cssim.calibrate.logs import from_frame
from cssim.config import start_instant

ERLANG = [
    "warmup_h=0", "arrivals.rate_per_min=2.0", "customers.patience.dist=lognormal", "customers.patience.mean=90",
    "customers.patience.cv=1.2", "staffing.ft.reply_s.mean=15", "conversation.turns=6", "customers.presale_share=0.6",
    "customers.returning_share=0.3",
]
ERLANG_TRUE = {
    "arrivals.total": 2.0 * 1440, "customers.presale_share": 0.6, "customers.returning_share": 0.3,
    "staffing.ft.reply_s (effective).mean": 15.0, "conversation.think_s.mean": 45.0,
    "customers.patience.mean": 90.0, "customers.patience.cv": 1.2, "conversation.turns": 6.0,
    "funnel.order_prob": 0.55, "funnel.pay_now_prob": 0.75, "nudge.unnudged_pay_prob": 0.25,
    "funnel.order_value.mean": 200.0, "funnel.order_value.cv": 1.0,
}
ERLANG_FAMILIES = {"staffing.ft.reply_s (effective).dist": "exponential", "customers.patience.dist": "lognormal",
                   "conversation.turns_dist": "constant", "funnel.order_value.dist": "lognormal"}

# Three bot slots and slot-only takeover, so some customers wait long enough to leave (with the
# scenario's own bot, 50 slots taking over at once, nobody is lost and patience is not identified).
SHOP = [
    "arrivals.total=1500", "customers.patience.mean=90", "customers.patience.cv=1.2", "staffing.ft.reply_s.mean=15",
    "conversation.turns=6", "customers.presale_share=0.6", "staffing.bot.concurrency=3", "routing.takeover_s=inf",
    "customers.handover_patience={dist: lognormal, mean: 150.0, cv: 1.0}",
]
SHOP_TRUE = {
    "arrivals.total": 1500.0, "customers.presale_share": 0.6, "customers.returning_share": 0.35,
    "staffing.ft.reply_s (effective).mean": 15.0, "staffing.ft.reply_s (effective).cv": 0.8,
    "staffing.bot.reply_s (effective).mean": 1.2, "staffing.bot.speed": 12.5,
    "conversation.think_s.mean": 60.0, "customers.patience.mean": 90.0, "customers.patience.cv": 1.2,
    "conversation.turns": 6.0, "routing.bot_resolve_prob": 0.5, "funnel.order_prob": 0.7,
    "staffing.bot.conversion": 0.85, "funnel.pay_now_prob": 0.75, "nudge.nudged_pay_prob": 0.35,
    "nudge.unnudged_pay_prob": 0.25, "followup.conversion_prob": 0.12, "funnel.order_value.mean": 120.0,
    "funnel.order_value.cv": 1.0, "customers.handover_patience.mean": 150.0, "customers.handover_patience.cv": 1.0,
}
SHOP_FAMILIES = {"staffing.ft.reply_s (effective).dist": "lognormal", "customers.patience.dist": "lognormal",
                 "conversation.turns_dist": "poisson", "customers.handover_patience.dist": "lognormal"}

DAYS = 5
SEED = 1


def simulate_days(base: str, overrides: list[str], days: int = DAYS, seed: int = SEED):
    cfg = cssim.load_scenario(base, overrides)
    logs = [cssim.simulate(cfg, seed=seed, replication=d, log=True).log for d in range(days)]
    return cfg, pd.concat(logs, ignore_index=True)


@pytest.fixture(scope="module", params=["erlang_a", "small_shop_618"])
def world(request):
    if request.param == "erlang_a":
        cfg, log = simulate_days("erlang_a", ERLANG)
        return cfg, log, calibrate_log(log, cfg), ERLANG_TRUE, ERLANG_FAMILIES
    cfg, log = simulate_days("small_shop_618", SHOP)
    return cfg, log, calibrate_log(log, cfg), SHOP_TRUE, SHOP_FAMILIES


def widened(e, k: int) -> tuple[float, float]:
    """The estimate's 95% interval stretched to family-wise 95% over k checks."""
    s = stats.norm.ppf(1 - 0.05 / (2 * k)) / stats.norm.ppf(0.975)
    return e.value - (e.value - e.lo) * s, e.value + (e.hi - e.value) * s


def test_every_identifiable_parameter_recovered_within_its_interval(world):
    """Each true parameter lies in its estimate's family-wise 95% interval, and each chosen
    family (by AIC) is the one the log was simulated with."""
    cfg, log, cal, truth, families = world
    est = {e.key: e for e in cal.estimates}
    missing = set(truth) - set(est)
    assert not missing, f"not estimated: {missing}; notes: {cal.notes}"
    k = len(truth)
    table = []
    for key, true in truth.items():
        e = est[key]
        lo, hi = widened(e, k)
        table.append((key, true, e.value, e.lo, e.hi, lo <= true <= hi))
    bad = [row for row in table if not row[-1]]
    assert not bad, "outside the family-wise interval (key, true, estimate, 95% lo, hi):\n" + "\n".join(map(str, bad))
    for key, fam in families.items():
        assert est[key].text == fam, f"{key}: chose {est[key].text}, simulated {fam}"


def test_calibrated_scenario_reproduces_lost_rate_and_conversion(world):
    """The calibrated scenario, simulated with the base's staffing, matches the log's lost rate,
    response rate and inquiry conversion (difference within the two 95% half-widths combined)."""
    cfg, log, cal, truth, families = world
    L = from_frame(log, pd.Timestamp(start_instant(cfg)), cfg.horizon_h)
    bt = run_backtest(L, cal.config, replications=5, seed=cfg.seed + 1000)
    t = bt.table.set_index("kpi")
    for kpi in ("lost_rate", "inquiry_conversion", "response_rate"):
        assert t.loc[kpi, "consistent"], t.to_string()


def test_log_kpis_equal_the_engines_metrics():
    """The log is the engine's records in another form: lost (both kinds), responded (a serving
    reply), orders and paid orders counted from the log equal ``Result.metrics`` exactly (no
    warm-up)."""
    cfg = cssim.load_scenario("small_shop_618", ["arrivals.total=800"])
    res = cssim.simulate(cfg, seed=3, log=True)
    log, m = res.log, res.metrics
    lost = log.left_ts.notna()
    assert lost.sum() == m["lost_inquiries"]
    handed = log.handover_ts.notna()
    assert m["lost_after_handover"] > 0 and (lost & handed).sum() == m["lost_after_handover"]
    assert (lost & log.first_reply_ts.isna()).sum() == m["lost_before_reply"]
    serving = log.human_reply_ts.where(handed, log.first_reply_ts)
    assert (serving.notna() & ~lost).sum() == m["responded"]
    assert handed.sum() == m["escalated"]
    assert log.ordered.sum() == m["orders"]
    assert log.paid_ts.notna().sum() == m["paid_orders"]
    assert log.nudged.sum() == m["nudges_done"] and log.followed_up.sum() == m["followups_done"]
    pre = log.kind == "presale"
    assert math.isclose((log.paid_ts.notna() & pre).sum() / pre.sum(), m["inquiry_conversion"])
    frt = (log.first_reply_ts - log.arrival_ts).dt.total_seconds()[log.first_reply_ts.notna()]
    assert math.isclose(frt.mean(), m["avg_first_response_s"], rel_tol=1e-9)


def test_log_is_built_after_the_run_and_leaves_results_unchanged():
    """Asking for the log changes no metric (it is read from the records afterwards), and day d
    of a multi-day log is replication d, stamped start + d days."""
    cfg = cssim.load_scenario("erlang_a", ["horizon_h=2", "warmup_h=0"])
    a = cssim.simulate(cfg, seed=5, replication=1)
    b = cssim.simulate(cfg, seed=5, replication=1, log=True)
    assert a.log is None
    ma = {k: v for k, v in a.metrics.items() if not (isinstance(v, float) and np.isnan(v))}
    mb = {k: v for k, v in b.metrics.items() if not (isinstance(v, float) and np.isnan(v))}
    assert ma == mb
    first = b.log.arrival_ts.min()
    assert first >= pd.Timestamp("2016-11-12T00:00:00+08:00") and first < pd.Timestamp("2016-11-12T02:00:00+08:00")
