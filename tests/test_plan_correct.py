"""Planning step 2 and the whole planner against theory (cssim.plan.correct, cssim.plan).

Specification:

* The whole planner equals the exact Erlang-A minimum on time-varying M/M/n+M: tests/test_plan_exact.py.
* Common random numbers: the same seed gives the same iterations and the same plan, bit for
  bit; the brackets only narrow (``known_bad`` never falls, ``known_good`` never rises except
  when a later run misses beyond its CI), and a tighter target never asks for fewer heads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

import cssim
from cssim.analytic import erlang_a
from cssim.plan.correct import correct
from cssim.plan.replicate import Runner
from cssim.plan.requirements import queue_model, starting_requirement
from test_plan_requirements import RATES, exact_minimum, exact_profit_heads, stepped_erlang_a

THEORY = ["plan.shift_lengths_h=[4]", "plan.start_step_h=4", "plan.replications=12", "plan.correction_replications=12", "plan.max_iterations=10"]


def _correct(cfg, seed=None):
    if seed is not None:
        cfg.seed = seed
    m = queue_model(cfg)
    return correct(cfg, m, starting_requirement(m, cfg.plan.max_lost_rate), Runner(workers=1, quiet=True))


def test_same_seed_same_correction_bit_for_bit():
    """Common random numbers: two corrections with the same seed agree to the last bit; another
    seed sees other customers (so the seed really drives the runs)."""
    extra = ["plan.replications=4", "plan.max_iterations=4"]
    a = _correct(cssim.load_scenario("small_shop_618", ["plan.pools=[ft]", "routing.policy=humans_only", *extra]))
    b = _correct(cssim.load_scenario("small_shop_618", ["plan.pools=[ft]", "routing.policy=humans_only", *extra]))
    pd.testing.assert_frame_equal(a.log, b.log, check_exact=True)
    np.testing.assert_array_equal(a.required, b.required)
    c = _correct(cssim.load_scenario("small_shop_618", ["plan.pools=[ft]", "routing.policy=humans_only", *extra]), seed=1)
    assert not a.log["lost_rate"].equals(c.log["lost_rate"])


def test_brackets_only_narrow_and_tighter_target_needs_more():
    """On the stepped M/M/n+M the correction's brackets are monotone over the iterations, and a
    1% target asks for at least as many heads as a 5% one in every interval."""
    loose = _correct(stepped_erlang_a(extra=[*THEORY, "plan.max_lost_rate=0.05"]))
    tight = _correct(stepped_erlang_a(extra=[*THEORY, "plan.max_lost_rate=0.01"]))
    assert (tight.required >= loose.required).all() and tight.required.sum() > loose.required.sum()
    for target, res in ((0.05, loose), (0.01, tight)):
        assert res.converged
        for _, g in res.log.groupby("interval"):
            bad = g["known_bad"].fillna(-1).to_numpy()
            good = g["known_good"].fillna(np.inf).to_numpy()
            assert (np.diff(bad) >= 0).all()
            assert (np.diff(good) <= 0).all()  # no reopening needed with 4-hour intervals
        # Every interval settled where its heads do not miss beyond noise and one fewer
        # does not meet beyond noise.
        last = res.log[res.log["iteration"] == res.iterations].set_index("interval")
        assert last["settled"].all() and not last["misses"].any() and not last["probe_meets"].any()
        np.testing.assert_array_equal(last["heads"].to_numpy(), res.required)


def test_profit_objective_plans_the_exact_profit_optimal_heads():
    """objective=profit on stepped M/M/n+M where every answered inquiry is worth exactly
    100 CNY (presale, orders and pays at once, constant order value, margin 1, no delay
    effect) and an agent costs 30 CNY/h (120 CNY per 4-hour interval). Exact expected profit
    of n agents in an interval: 100 x arrivals x (1 - P_abandon(n)) - 120 n (Erlang-A).

    The search adds heads only while its estimate of their marginal profit is positive beyond
    its 95% CI half-width w. So it stops short of the optimum only where the exact marginal
    profit of the next probe is below 2w (were it above, the estimate, within w of it with 95%
    probability, would have cleared w), and it never goes past the optimum by more than a
    probe step."""
    cfg = stepped_erlang_a(
        extra=[
            *THEORY, "plan.max_replications=12", "plan.objective=profit", "customers.presale_share=1", "funnel.order_prob=1", "funnel.pay_now_prob=1",
            "funnel.order_value={dist: constant, mean: 100}", "funnel.delay_effect.kind=none", "economics.gross_margin=1",
        ]
    )
    plan = cssim.plan(cfg, workers=1, quiet=True)
    assert plan.summary["verified"] and plan.summary["correction"]["converged"]
    planned = plan.requirements["planned_working_ft"].to_numpy().astype(int)
    log = plan.correction_log

    def profit(rate: float, n: int) -> float:
        return 100.0 * rate * 240 * (1 - erlang_a(rate / 60, 1 / 60, 1 / 120, n).p_abandon) - 120.0 * n

    for i, rate in enumerate(RATES):
        best = exact_profit_heads(rate, 100.0, 120.0)
        g = log[log["interval"] == i]
        w = g["marginal_profit_ci99"].max()
        step = int((g["probe_heads"] - g["heads"]).max())
        n = planned[i]
        assert profit(rate, n + step) - profit(rate, n) <= 2 * w, (i, n, best, w)
        assert n <= best + step, (i, n, best, step)
    # Here profit asks for more agents than the 3% loss target would.
    exact_3pct = np.array([exact_minimum(r, 0.03) for r in RATES])
    assert (planned >= exact_3pct).all() and (planned > exact_3pct).any()


def _exact_day_profit(heads) -> float:
    """Exact expected profit of a day of the profit-exact stepped M/M/n+M (see the test above)."""
    return sum(100.0 * r * 240 * (1 - erlang_a(r / 60, 1 / 60, 1 / 120, int(n)).p_abandon) - 120.0 * int(n) for r, n in zip(RATES, heads))


def test_profit_day_check_gives_back_heads_a_whole_day_misses_and_keeps_a_flat_answer():
    """The profit search's whole-day check (cssim.plan.correct.day_check) on the profit-exact
    stepped M/M/n+M, against exact Erlang-A day profits.

    Planted shortfall: per-interval answers at 60% of the exact profit-optimal heads, with the
    optimum as reference. The day's exact profit is thousands of CNY short, far beyond the 99%
    CI of a day's paired difference at 12 replications, so the check must give heads back
    (were it a no-op, this fails), and the heads it returns must be within noise of the
    reference (the best point of its line): a returned point whose exact shortfall exceeded
    twice the CI half-width would
    have been seen below the flat with probability > 99%.
    Flat: per-interval answers at the optimum, reference one head above: the exact difference
    is a few CNY, so the cheaper answer stands, and 10% more than the optimum does not pay."""
    from cssim.plan.correct import caps, day_check, targets, working_head_cost

    cfg = stepped_erlang_a(
        extra=[
            *THEORY, "plan.max_replications=12", "plan.objective=profit", "customers.presale_share=1", "funnel.order_prob=1", "funnel.pay_now_prob=1",
            "funnel.order_value={dist: constant, mean: 100}", "funnel.delay_effect.kind=none", "economics.gross_margin=1",
        ]
    )
    model = queue_model(cfg)
    tgt = targets(cfg, model)
    best = np.array([exact_profit_heads(r, 100.0, 120.0) for r in RATES], dtype=np.int64)
    cap = caps(cfg, model, best)
    cost = working_head_cost(cfg, model)
    np.testing.assert_allclose(cost, 120.0)  # 30 CNY/h, no shrinkage, 4-hour intervals: the exact model's cost
    runner = Runner(workers=1, quiet=True)

    short = np.maximum(1, np.floor(0.6 * best)).astype(np.int64)
    assert _exact_day_profit(best) - _exact_day_profit(short) > 5_000
    got, rows = day_check(cfg, runner, short, best, cap, tgt, cost, 1.0, 12)
    assert (got >= short).all() and (got <= best + np.ceil(0.1 * best) * 4).all()
    assert got.sum() > short.sum(), "the check kept a day that is short beyond noise"
    hw = max(r["ci99_cny"] for r in rows)
    assert _exact_day_profit(best) - _exact_day_profit(got) <= 2 * hw, (got, best, hw)

    got_flat, rows_flat = day_check(cfg, runner, best, best + 1, cap, tgt, cost, 1.0, 12)
    np.testing.assert_array_equal(got_flat, best)
    assert abs(_exact_day_profit(best + 1) - _exact_day_profit(best)) < min(r["ci99_cny"] for r in rows_flat)


def test_profit_plans_on_two_seeds_earn_the_same_exact_profit_within_the_day_checks_resolution():
    """Stability of objective=profit (docs/planning.md#the-profit-objective): on the
    profit-exact stepped M/M/n+M, plans made on two seeds (different customers throughout)
    earn exact Erlang-A day profits that differ by less than the day check's resolution (the
    largest 99% CI half-width of its comparisons, over both plans), and each is within twice
    that of the exact optimum's profit. The criterion has power: a plan at 60% of the first
    plan's heads (the kind of shortfall the per-interval search alone left on Semir) differs
    from it by more than that resolution (asserted below). On these 4-hour intervals the
    per-interval search alone already lands within it; the day check's own power is tested
    above with a planted shortfall."""
    extra = [
        *THEORY, "plan.max_replications=12", "plan.objective=profit", "customers.presale_share=1", "funnel.order_prob=1", "funnel.pay_now_prob=1",
        "funnel.order_value={dist: constant, mean: 100}", "funnel.delay_effect.kind=none", "economics.gross_margin=1",
    ]
    best = _exact_day_profit([exact_profit_heads(r, 100.0, 120.0) for r in RATES])
    got, res, heads = [], 0.0, []
    for seed in (3, 11):
        cfg = stepped_erlang_a(extra=extra)
        cfg.seed = seed
        p = cssim.plan(cfg, workers=1, quiet=True)
        heads.append(p.requirements["planned_working_ft"].to_numpy().astype(int))
        got.append(_exact_day_profit(heads[-1]))
        res = max(res, max((r["ci99_cny"] for r in p.summary["correction"]["day_check"]), default=0.0))
    assert res > 0
    assert got[0] - _exact_day_profit(np.maximum(1, np.floor(0.6 * heads[0]))) > res  # the planted shortfall would be seen
    assert abs(got[0] - got[1]) <= res, (got, res)
    assert all(best - g <= 2 * res for g in got), (best, got, res)
