"""Planning step 1: the Erlang-A starting requirement (cssim.plan.requirements).

Specification: in the degenerate case (docs/model.md#degenerate-case: concurrency 1, one turn, exponential reply
and patience, no bot) the queue model *is* M/M/n+M, so the starting requirement of every
interval is the exact Erlang-A minimum staffing (Palm 1943; computed here independently by
counting servers up with :func:`cssim.analytic.erlang_a`). Outside it, the stated slot
approximation: a head is ``concurrency`` servers held ``turns x reply / speed + (turns - 1) x
think`` seconds per chat.
"""

from __future__ import annotations


import numpy as np
import pytest

import cssim
from cssim.analytic import erlang_a
from cssim.plan.requirements import pool_service, queue_model, starting_requirement, working_heads

RATES = [2.0, 5.0, 8.0, 12.0, 6.0, 4.0]  # inquiries per minute, one per 4-hour interval


def stepped_erlang_a(rates=RATES, extra=()) -> cssim.Config:
    """The erlang_a scenario with one stationary rate per 4-hour interval."""
    total = sum(r * 240 for r in rates)
    return cssim.load_scenario(
        "erlang_a",
        [
            "warmup_h=0", "interval_min=240", "arrivals.rate_per_min=null", f"arrivals.total={total}",
            f"arrivals.weights={list(rates)}", "plan.pools=[ft]", "staffing.ft.cost_per_hour=30", *extra,
        ],
    )


def exact_profit_heads(rate_per_min: float, value: float, head_cost: float, minutes: float = 240.0) -> int:
    """Agents maximising value x answered - head_cost x agents over one stationary interval
    of the M/M/n+M above (exact Erlang-A, every n tried up to well past the offered load)."""
    arrivals = rate_per_min * minutes
    n_max = int(3 * rate_per_min) + 20
    profit = [value * arrivals * (1 - erlang_a(rate_per_min / 60, 1 / 60, 1 / 120, n).p_abandon) - head_cost * n for n in range(1, n_max)]
    return 1 + int(np.argmax(profit))


def exact_minimum(rate_per_min: float, target: float) -> int:
    """Fewest agents with Erlang-A abandonment <= target: 1-minute service, 2-minute patience."""
    n = 1
    while erlang_a(rate_per_min / 60, 1 / 60, 1 / 120, n).p_abandon > target:
        n += 1
    return n


@pytest.mark.parametrize("target", [0.01, 0.03, 0.10])
def test_degenerate_case_start_is_exact_erlang_a_minimum(target):
    """M/M/n+M per interval: the start equals the exact Erlang-A minimum staffing."""
    cfg = stepped_erlang_a()
    got = starting_requirement(queue_model(cfg), target)
    assert list(got) == [exact_minimum(r, target) for r in RATES]


def test_requirement_grows_with_load_and_with_a_tighter_target():
    """Erlang-A abandonment rises with the load and falls with servers, so the minimum staffing
    is non-decreasing in the rate and non-increasing in the allowed loss."""
    cfg = stepped_erlang_a(rates=[1, 2, 4, 8, 16, 32])
    m = queue_model(cfg)
    loose, tight = starting_requirement(m, 0.05), starting_requirement(m, 0.01)
    assert (np.diff(loose) >= 0).all() and (np.diff(tight) >= 0).all()
    assert (tight >= loose).all() and (tight > loose).any()


def test_slot_model_of_semir_temps_states_holding_time():
    """The stated approximation for a temp of Semir 2016: ``concurrency`` slots, each held
    turns x reply / speed + (turns - 1) x think seconds per chat (10 turns, 12 s replies, 60 s
    think gaps), of which turns x reply / speed is typing."""
    cfg = cssim.load_scenario("semir_double11_2016")
    t = cfg.staffing.temps
    s = pool_service(cfg, "temps")
    assert s.concurrency == t.concurrency
    assert s.holding_s == pytest.approx(10 * 12 / t.speed + 9 * 60)
    assert s.work_s == pytest.approx(10 * 12 / t.speed)
    assert s.capacity == pytest.approx(t.concurrency / s.holding_s)


def test_unplanned_pool_and_bot_first_lower_the_start():
    """Heads of a pool that is not planned are servers too (converted by capacity c / H), and
    under bot_first the humans see only the share the bot does not resolve."""
    base = cssim.load_scenario("semir_double11_2016", ["staffing.ft.count=0"])
    with_ft = cssim.load_scenario("semir_double11_2016")
    bot_first = cssim.load_scenario("semir_double11_2016", ["routing.policy=bot_first", "staffing.ft.count=0"])
    r0 = starting_requirement(queue_model(base), 0.03)
    r_ft = starting_requirement(queue_model(with_ft), 0.03)
    r_bot = starting_requirement(queue_model(bot_first), 0.03)
    m = queue_model(with_ft)
    assert m.fixed_slots.max() > 0
    # Full-time heads on shift replace temps at the capacity ratio, to within rounding.
    ft = pool_service(with_ft, "ft")
    temps = pool_service(with_ft, "temps")
    ratio = ft.capacity / temps.capacity
    i = 0  # midnight: all 70 full-time agents on shift, less shrinkage
    ft_working = working_heads(with_ft, "ft")[i]
    assert 62 <= ft_working <= 64
    assert r0[i] - r_ft[i] == pytest.approx(ft_working * ratio, abs=2)
    assert (r_bot <= r0).all() and r_bot.sum() < 0.5 * r0.sum()


def test_fitted_load_reproduces_an_observed_loss():
    """fit_load inverts the Erlang-A loss in the load: the load it returns gives back the
    observed lost rate, and a model with that load needs the heads the exact formula says."""
    m = queue_model(stepped_erlang_a())
    i, heads = 2, 11  # 8/min
    for load in (0.7, 1.0, 1.6):
        observed = m.lost_rate(i, heads, load)
        got = m.fit_load(i, heads, observed)
        assert got == pytest.approx(load, rel=1e-3)
    assert m.fit_load(i, heads, 0.0) is None  # no loss seen: no information
    assert m.min_heads(i, 0.03, 1.0)[0] == exact_minimum(8.0, 0.03)


def test_cap_makes_a_target_unreachable():
    """With a cap below the need the search reports the cap and 'unreachable'."""
    m = queue_model(stepped_erlang_a())
    need = exact_minimum(12.0, 0.03)
    assert m.min_heads(3, 0.03, cap=need - 1) == (need - 1, False)
    assert m.min_heads(3, 0.03, cap=need) == (need, True)
