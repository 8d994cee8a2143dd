"""The degenerate case against exact queueing theory (MODEL.md "Degenerate case").

The ``erlang_a`` scenario is M/M/n+M: Poisson arrivals, n agents with concurrency 1, one
exponential reply per chat, exponential patience judged at the start of service. Its stationary
behaviour is the birth-death chain solved exactly by :func:`cssim.analytic.erlang_a`.

Tolerance: each point runs R independent replications (different seeds) of a long horizon after a
warm-up that washes out the empty start. The replication means are i.i.d., so
``mean +- t(0.999, R-1) * sd / sqrt(R)`` is a 99.8% confidence interval for the stationary value
(up to the warm-up bias, which is orders of magnitude smaller than the interval here). A test
fails only if the exact value falls outside that interval; with the handful of comparisons in
this file a false alarm is rarer than 1 in 100 runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import cssim
from cssim.analytic import erlang_a, erlang_c
from cssim.engine import Simulation


def replicate(overrides: list[str], reps: int, metric_names: list[str]) -> dict[str, np.ndarray]:
    cfg = cssim.load_scenario("erlang_a", overrides=overrides)
    out: dict[str, list[float]] = {m: [] for m in metric_names}
    for r in range(reps):
        res = cssim.simulate(cfg, seed=cfg.seed, replication=r)
        for m in metric_names:
            out[m].append(res.metrics[m])
    return {m: np.asarray(v) for m, v in out.items()}


def ci_halfwidth(x: np.ndarray, level: float = 0.998) -> float:
    return float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def check_point(n: int, rate_per_min: float, horizon_h: float, warmup_h: float, reps: int) -> dict:
    """Simulate erlang_a at one point and compare lost rate, mean first response (= E[W|served]
    + mean reply time) and agent utilization with the exact M/M/n+M values."""
    overrides = [
        f"staffing.ft.count={n}",
        f"arrivals.rate_per_min={rate_per_min}",
        f"horizon_h={horizon_h}",
        f"warmup_h={warmup_h}",
    ]
    sim = replicate(overrides, reps, ["lost_rate", "avg_first_response_s", "utilization_ft"])
    exact = erlang_a(rate_per_min / 60.0, 1 / 60.0, 1 / 120.0, n)
    expected = {
        "lost_rate": exact.p_abandon,
        "avg_first_response_s": exact.mean_wait_served + 60.0,
        "utilization_ft": exact.utilization,
    }
    rows = {}
    for m, x in sim.items():
        hw = ci_halfwidth(x)
        rows[m] = (x.mean(), hw, expected[m])
        assert abs(x.mean() - expected[m]) <= hw, (
            f"{m}: simulated {x.mean():.5f} +- {hw:.5f} (99.8% CI, {reps} reps) vs exact {expected[m]:.5f} "
            f"at n={n}, lambda={rate_per_min}/min"
        )
    return rows


def test_small_n_matches_exact_erlang_a():
    """n=10, lambda=9.5/min, mu=1/min, theta=0.5/min (rho = 0.95): exact Erlang-A."""
    check_point(10, 9.5, horizon_h=25.0, warmup_h=1.0, reps=12)


def test_large_n_matches_exact_erlang_a():
    """n=500, lambda=490/min (rho = 0.98): quality-and-efficiency-driven regime, exact Erlang-A."""
    check_point(500, 490.0, horizon_h=1.5, warmup_h=0.5, reps=10)


def test_overloaded_matches_exact_erlang_a():
    """n=10, lambda=14/min > n*mu = 10/min: stable only thanks to abandonment; exact Erlang-A."""
    check_point(10, 14.0, horizon_h=25.0, warmup_h=1.0, reps=12)


@pytest.mark.slow
@pytest.mark.parametrize(
    "n,rate", [(1, 0.8), (5, 4.0), (10, 9.5), (50, 48.0), (100, 110.0), (1000, 950.0), (1000, 1100.0)]
)
def test_erlang_a_grid_slow(n, rate):
    """Wider grid (slow): from one agent to 1,000, under- and over-loaded."""
    check_point(n, rate, horizon_h=max(3.0, 200.0 / max(rate, 1.0)), warmup_h=1.0, reps=20)


def test_infinite_patience_matches_exact_erlang_c():
    """customers.patience = constant inf turns M/M/n+M into M/M/n: nobody is lost, and the
    mean first response is the Erlang-C mean wait plus the mean reply time."""
    n, rate = 10, 8.0
    sim = replicate(
        [
            f"staffing.ft.count={n}",
            f"arrivals.rate_per_min={rate}",
            "customers.patience={dist: constant, mean: inf}",
            "horizon_h=25",
            "warmup_h=1",
        ],
        12,
        ["lost_rate", "avg_first_response_s"],
    )
    assert np.all(sim["lost_rate"] == 0.0)
    exact = erlang_c(rate / 60.0, 1 / 60.0, n)
    x = sim["avg_first_response_s"]
    assert abs(x.mean() - (exact.mean_wait + 60.0)) <= ci_halfwidth(x)


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
