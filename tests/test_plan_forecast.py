"""Planning for forecast error (cssim.plan.forecast): ``plan.forecast_cv``, ``plan.service_quantile``.

Specification: the day's volume is the forecast times one gamma multiplier (mean 1, cv); an
interval's expected loss rises with the multiplier, so its target holds on a share q of days
iff it holds on the q-quantile day m_q. Hence, on time-varying M/M/n+M (tests/test_plan_exact.py),
the robust plan is the exact Erlang-A minimum at the rates times m_q, and the point plan the
exact minimum at the forecast rates. On fresh gamma days the robust plan's worst interval meets
its target on about q of the days (each day's own loss, so sampling noise shaves a little);
the point plan's worst one on about half (it just meets on the forecast day): the check below
separates the two, so it can fail.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

import cssim
from cssim.arrivals import forecast_multiplier
from cssim.plan.forecast import quantile_multiplier
from test_plan_exact import CASES, case_config, exact_minimum


def test_quantile_multiplier_is_the_quantile_of_the_scenarios_own_draw():
    """The q-quantile from scipy equals the empirical quantile of the engine's own gamma draw
    (cssim.arrivals.forecast_multiplier): 40,000 draws, 99.9% binomial band around q."""
    cfg = cssim.load_scenario("erlang_a", ["arrivals.forecast_cv=0.2"])
    rng = np.random.default_rng(2016)
    draws = np.array([forecast_multiplier(cfg, rng) for _ in range(40_000)])
    for q in (0.5, 0.9, 0.95):
        share = np.mean(draws <= quantile_multiplier(0.2, q))
        assert abs(share - q) < stats.norm.ppf(0.9995) * np.sqrt(q * (1 - q) / draws.size), (q, share)
    assert quantile_multiplier(0.0, 0.9) == 1.0


def test_robust_plan_is_the_exact_minimum_of_the_quantile_day_and_holds_on_fresh_days():
    case = CASES["long_patience_5pct"]
    cv, q = 0.2, 0.9
    mq = quantile_multiplier(cv, q)
    cfg = case_config(case, 1, [f"plan.forecast_cv={cv}", f"plan.service_quantile={q}", "plan.replications=8"])
    plan = cssim.plan(cfg, quiet=True)
    fc = plan.summary["forecast"]
    assert fc["multiplier"] == mq
    robust = plan.requirements["planned_working_ft"].astype(int).tolist()
    assert robust == [exact_minimum(r * mq, case["reply"], case["patience"], case["target"]) for r in case["rates"]]
    point = [int(r["heads"]) for r in sorted(fc["point_roster"], key=lambda r: r["start_h"])]
    assert point == [exact_minimum(r, case["reply"], case["patience"], case["target"]) for r in case["rates"]]
    assert fc["robust_cost_cny"] > fc["point_cost_cny"]
    # Busier days: the robust plan loses less than the point plan at x1.2 (paired seeds).
    busy = next(r for r in fc["by_multiplier"] if r["multiplier"] == 1.2)
    assert busy["robust_lost_rate"] < busy["point_lost_rate"] and busy["robust_met"] >= busy["point_met"]
    fresh = fc["fresh"]
    assert fresh["days"] == 32
    # Robust: near q on its worst interval; point: near one half. 32 days: the binomial sd is
    # 0.05 at q = 0.9 and 0.09 at 1/2, so 0.75 separates them by about 3 sd each side.
    assert fresh["robust_share_worst"] >= 0.75, fresh
    assert fresh["point_share_worst"] < 0.75, fresh
    # The planned scenario draws the days it was bought for.
    assert plan.config.arrivals.forecast_cv == cv
