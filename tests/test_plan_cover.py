"""Planning step 3: the cheapest shifts covering the requirement (cssim.plan.cover), and the
roster arithmetic that turns integer heads into a pool's ``count`` and ``shifts``
(cssim.plan.shifts).

Specification: the MILP answer is optimal (equal in cost to brute-force enumeration on small
instances) and feasible (every segment covered) on random ones; the roster written for the
engine reproduces the integer heads exactly through :func:`cssim.roster.pool_groups`, and after
shrinkage and the roster's rounding the working heads still reach every requirement.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cssim
from cssim.plan.cover import plan_roster, solve_cover, templates
from cssim.plan.requirements import working_heads
from cssim.plan.shifts import Block, pool_with_blocks, staircase
from cssim.roster import pool_groups


@st.composite
def cover_instances(draw, max_segments=5, max_templates=4, max_need=3):
    m = draw(st.integers(1, max_segments))
    k = draw(st.integers(1, max_templates))
    # Templates as contiguous runs of segments (shifts are intervals of time).
    cols = []
    for _ in range(k):
        a = draw(st.integers(0, m - 1))
        b = draw(st.integers(a + 1, m))
        col = np.zeros(m)
        col[a:b] = 1
        cols.append(col)
    cov = np.array(cols).T
    need = np.array(draw(st.lists(st.integers(0, max_need), min_size=m, max_size=m)), dtype=float)
    need[cov.sum(axis=1) == 0] = 0  # an uncovered segment needs nobody (tested separately)
    cost = np.array(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), dtype=float)
    factor = np.array(draw(st.lists(st.sampled_from([1.0, 0.9, 0.75, 0.5]), min_size=k, max_size=k)))
    return cov, need, cost, factor


def brute_force(cov, need, cost, factor):
    """Cheapest integer x by enumeration: each x_t in 0..ceil(max need / factor_t) (more is
    never needed, since that template alone then covers every segment it touches)."""
    ub = [int(np.ceil(need.max() / f)) if need.max() > 0 else 0 for f in factor]
    best = np.inf
    for x in itertools.product(*(range(u + 1) for u in ub)):
        x = np.array(x)
        if ((cov * factor) @ x >= need - 1e-9).all():
            best = min(best, float(cost @ x))
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cover_instances())
def test_cover_is_optimal_against_brute_force(inst):
    """The MILP cost equals the brute-force optimum on small instances (HiGHS, zero gap)."""
    cov, need, cost, factor = inst
    x = solve_cover(cov, need, cost, factor)
    assert ((cov * factor) @ x >= need - 1e-9).all()
    assert float(cost @ x) == pytest.approx(brute_force(cov, need, cost, factor))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_cover_is_feasible_on_random_instances(seed):
    """96 quarter-hour segments, 38 templates (4 h and 8 h on the hour), needs up to 3,000:
    every segment is covered and no head is wasted on a template that could be dropped."""
    rng = np.random.default_rng(seed)
    temps = templates(24.0, [4.0, 8.0], 1.0)
    cov = np.array([[1.0 if s <= q / 4 and q / 4 + 0.25 <= s + L else 0.0 for s, L in temps] for q in range(96)])
    need = np.round(rng.gamma(1.0, 500.0, 96))
    cost = np.array([20.0 * L for _, L in temps])
    factor = np.full(len(temps), 0.9)
    x = solve_cover(cov, need, cost, factor)
    got = (cov * factor) @ x
    assert (got >= need - 1e-9).all()
    # Optimality implies minimality: removing one head from any used template breaks cover.
    for t in np.flatnonzero(x):
        y = x.copy()
        y[t] -= 1
        assert not ((cov * factor) @ y >= need - 1e-9).all()


def test_uncovered_need_is_an_error():
    cov = np.array([[1.0], [0.0]])
    with pytest.raises(ValueError, match="segment 1"):
        solve_cover(cov, np.array([1.0, 1.0]), np.array([1.0]))


def test_templates_lie_inside_the_horizon():
    t = templates(24.0, [4.0, 8.0], 1.0)
    assert len(t) == 21 + 17
    assert all(0 <= s and s + L <= 24.0 for s, L in t)
    assert templates(10.0, [4.0], 3.0) == [(0.0, 4.0), (3.0, 4.0), (6.0, 4.0)]


@functools.lru_cache
def scenario(name: str, *overrides: str) -> cssim.Config:
    return cssim.load_scenario(name, list(overrides))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 7000), min_size=1, max_size=12))
def test_shares_reproduce_integer_heads(heads):
    """count = total heads and share = heads / count: the roster's round(count x share)
    gives back every block's heads exactly, for any mix of large and small blocks."""
    cfg = scenario("semir_double11_2016")
    blocks = [Block(float(i), float(i + 8), h) for i, h in enumerate(heads)]
    if sum(heads) == 0:
        return
    out = pool_with_blocks(cfg, "temps", blocks)
    got = [g.paid for g in pool_groups("temps", out.staffing.temps, out.horizon_h)]
    assert got == [h for h in heads if h > 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=24, max_size=24))
def test_staircase_puts_exactly_the_heads_on_shift(heads):
    """The correction's roster: heads[i] working agents in interval i, no more, no less."""
    cfg = scenario("erlang_a", "interval_min=60", "warmup_h=0")
    if sum(heads) == 0:
        return
    edges_h = np.arange(25.0)
    out = pool_with_blocks(cfg, "ft", staircase(np.array(heads), edges_h), shrinkage=0.0)
    np.testing.assert_array_equal(working_heads(out, "ft"), heads)


@pytest.mark.parametrize("shrinkage", [0.0, 0.1, 0.37])
def test_roster_covers_every_interval_after_shrinkage_and_rounding(shrinkage):
    """Working heads = paid x (1 - shrinkage), rounded per shift by the roster: the planned
    roster's working heads, read back through cssim.roster, reach every interval's need,
    and each template is costed as heads x length x hourly cost."""
    cfg = cssim.load_scenario("semir_double11_2016", [f"staffing.temps.shrinkage={shrinkage}"])
    rng = np.random.default_rng(7)
    need = np.round(rng.gamma(2.0, 200.0, 96)).astype(int)
    r = plan_roster(cfg, need, {"temps": 1.0})
    working = working_heads(r.config, "temps")  # time-average per quarter hour
    assert (r.covered >= need).all()
    assert (working >= need - 1e-9).all()
    assert r.table["cost_cny"].to_numpy() == pytest.approx((r.table["heads"] * r.table["length_h"] * 20.0).to_numpy())
    assert r.cost_cny == pytest.approx(r.table["cost_cny"].sum())
    # Paid heads exceed working ones by the shrinkage, never by less.
    assert (r.table["working"] <= r.table["heads"]).all()
    if shrinkage == 0:
        assert (r.table["working"] == r.table["heads"]).all()


def brute_force_rounded(cov, need, cost, keep):
    """Cheapest integer x (one pool) whose working heads, rounded half up per segment as the
    roster rounds them (cssim.roster: once per pool and segment), reach every need."""
    from cssim.roster import _round

    ub = [int(np.ceil((need.max() + 1) / keep)) if need.max() > 0 else 0 for _ in range(cov.shape[1])]
    best = np.inf
    for x in itertools.product(*(range(u + 1) for u in ub)):
        x = np.array(x)
        paid = cov @ x
        if all(_round(keep * p) >= n for p, n in zip(paid, need)):
            best = min(best, float(cost @ x))
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=cover_instances(max_segments=4, max_templates=3, max_need=4), keep=st.sampled_from([1.0, 0.9, 0.85, 0.7]))
def test_rounded_cover_is_optimal_against_brute_force(inst, keep):
    """The cover reads working heads through the roster's own rounding: its cost equals the
    brute-force optimum under that rounding, and never exceeds the linear cover's
    (keep x paid >= need), which ignores that rounding half up can reach a need."""
    from cssim.plan.cover import solve_rounded_cover

    cov, need, cost, _ = inst
    k = cov.shape[1]
    x = solve_rounded_cover(cov, need, cost, np.zeros(k, dtype=int), np.array([keep]), np.array([1.0]))
    assert float(cost @ x) == pytest.approx(brute_force_rounded(cov, need, cost, keep))
    linear = solve_cover(cov, need, cost, np.full(k, keep))
    assert float(cost @ x) <= float(cost @ linear) + 1e-9


def test_exact_cover_is_cheaper_than_the_linear_one_on_semir():
    """The planted difference: at 10% shrinkage a need of 9 working heads is met by 10 paid
    (round(9.0) = 9) and a need of 5 by 5 paid (round(4.5) = 5, half up), where the linear cover
    buys 6. On a Semir-like requirement the exact cover is cheaper, and still covers."""
    cfg = cssim.load_scenario("semir_double11_2016", ["staffing.temps.shrinkage=0.1"])
    rng = np.random.default_rng(11)
    need = np.round(rng.gamma(2.0, 30.0, 96)).astype(int)
    r = plan_roster(cfg, need, {"temps": 1.0})
    assert (r.covered >= need).all()
    from cssim.plan.cover import _segments

    temps = templates(cfg.horizon_h, list(cfg.plan.shift_lengths_h), cfg.plan.start_step_h)
    edges, seg_iv = _segments(cfg, temps)
    cov = np.array([[1.0 if s - 1e-9 <= edges[j] and edges[j + 1] <= s + L + 1e-9 else 0.0 for s, L in temps] for j in range(edges.size - 1)])
    linear = solve_cover(cov, need[seg_iv].astype(float), np.array([L * 20.0 for _, L in temps]), np.full(len(temps), 0.9))
    linear_cost = float(np.array([L * 20.0 for _, L in temps]) @ linear)
    assert r.cost_cny < linear_cost, (r.cost_cny, linear_cost)
