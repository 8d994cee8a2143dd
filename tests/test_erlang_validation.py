"""The degenerate case against exact queueing theory (docs/model.md#degenerate-case).

The ``erlang_a`` scenario is M/M/n+M: Poisson arrivals, n agents with concurrency 1, one
exponential reply per chat, exponential patience judged at the start of service. Its stationary
behaviour is the birth-death chain solved exactly by :func:`cssim.analytic.erlang_a`.

Tolerance (:mod:`cssim.erlang_check`): each point runs R independent replications of a long horizon
after a warm-up that washes out the empty start. The replication means are i.i.d., so
``mean +- t(0.999, R-1) * sd / sqrt(R)`` is a 99.8% confidence interval for the stationary value
(up to the warm-up bias, orders of magnitude smaller than the interval here). A test fails only
if an exact value falls outside its interval; with the 12 comparisons in the default run a false
alarm is rarer than 1 in 40 runs, and the runs are seeded, so a given commit passes or fails
reproducibly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import cssim
from cssim.analytic import erlang_a
from cssim.kernel import Simulation
from cssim.erlang_check import compare, table


def check(**point) -> None:
    """Every compared metric's exact value lies in the simulated 99.8% CI."""
    rows = compare(**point)
    bad = [c for c in rows if not c.within]
    assert not bad, "outside the CI:\n" + table(bad)


def test_small_n_matches_exact_erlang_a():
    """n=10, lambda=9.5/min, mu=1/min, theta=0.5/min (rho = 0.95): exact Erlang-A."""
    check(n=10, rate_per_min=9.5, horizon_h=25.0, warmup_h=1.0, reps=12)


def test_large_n_matches_exact_erlang_a():
    """n=500, lambda=490/min (rho = 0.98): quality-and-efficiency-driven regime, exact Erlang-A."""
    check(n=500, rate_per_min=490.0, horizon_h=1.5, warmup_h=0.5, reps=10)


def test_overloaded_matches_exact_erlang_a():
    """n=10, lambda=14/min > n*mu = 10/min: stable only thanks to abandonment; exact Erlang-A."""
    check(n=10, rate_per_min=14.0, horizon_h=25.0, warmup_h=1.0, reps=12)


@pytest.mark.slow
@pytest.mark.parametrize(
    "n,rate", [(1, 0.8), (5, 4.0), (10, 9.5), (50, 48.0), (100, 110.0), (1000, 950.0), (1000, 1100.0)]
)
def test_erlang_a_grid_slow(n, rate):
    """Wider grid (slow): from one agent to 1,000, under- and over-loaded."""
    check(n=n, rate_per_min=rate, horizon_h=max(3.0, 200.0 / max(rate, 1.0)), warmup_h=1.0, reps=20)


def test_infinite_patience_matches_exact_erlang_c():
    """customers.patience = constant inf turns M/M/n+M into M/M/n: nobody is lost (exactly),
    and the mean first response is the Erlang-C mean wait plus the mean reply time."""
    rows = compare(n=10, rate_per_min=8.0, horizon_h=25.0, warmup_h=1.0, reps=12, infinite_patience=True)
    lost = next(c for c in rows if c.metric == "lost_rate")
    assert lost.simulated == 0.0 == lost.exact
    assert all(c.within for c in rows), table(rows)


def waits(overrides: list[str], seed: int = 7) -> np.ndarray:
    cfg = cssim.load_scenario("erlang_a", overrides=overrides)
    rec = Simulation(cfg, seed).run()
    return np.asarray(rec.first_start) - rec.customers.arrival


def test_more_agents_never_make_anyone_wait_longer_erlang_c():
    """Common random numbers, pathwise (Kiefer & Wolfowitz 1955): in a FCFS multi-server queue
    where every customer is served, each customer's wait is non-increasing in the number of
    servers for the same arrival times and service requirements. With infinite patience every
    customer is served in arrival order, so the k-th reply-time draw goes to the k-th customer
    at every staffing level: the theorem applies customer by customer."""
    base = ["arrivals.rate_per_min=9", "customers.patience={dist: constant, mean: inf}", "horizon_h=12", "warmup_h=0"]
    w10, w11, w14 = (waits(base + [f"staffing.ft.count={n}"]) for n in (10, 11, 14))
    assert w10.size == w11.size == w14.size > 5000
    finite = np.isfinite(w10) & np.isfinite(w11) & np.isfinite(w14)
    assert finite.mean() > 0.99  # only the last few customers are still waiting at the horizon
    assert np.all(w11[finite] <= w10[finite] + 1e-9)
    assert np.all(w14[finite] <= w11[finite] + 1e-9)


def test_more_agents_lose_fewer_inquiries_on_common_streams_erlang_a():
    """Erlang-A with abandonment: P(abandon) decreases in n (exact; checked below), but losses
    are not pathwise monotone in general: an extra agent can serve an impatient customer who
    would have left, and the service it takes can make a later customer wait past its patience.
    So the claim we can make, and check, is about the paired difference under common random
    numbers: lost(n) - lost(n+2) is positive on average over replications (paired t-test at
    99.9%), and on each replication it is never more negative than a handful of customers."""
    diffs = []
    for r in range(10):
        lost = []
        for n in (10, 12):
            cfg = cssim.load_scenario("erlang_a", [f"staffing.ft.count={n}", "horizon_h=6", "warmup_h=0"])
            lost.append(cssim.simulate(cfg, replication=r).metrics["lost_inquiries"])
        diffs.append(lost[0] - lost[1])
    d = np.asarray(diffs, dtype=float)
    assert erlang_a(9.5 / 60, 1 / 60, 1 / 120, 12).p_abandon < erlang_a(9.5 / 60, 1 / 60, 1 / 120, 10).p_abandon
    assert d.min() >= -5, f"pathwise reversal larger than expected: {d}"
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert t > stats.t.ppf(0.999, d.size - 1), f"paired differences {d}"
