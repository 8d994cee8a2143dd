"""cssim.analytic against textbook values and independent computations.

Nothing here reuses the module's own algorithm: references come from the direct factorial sums,
a dense CTMC generator solved with numpy.linalg, exact rational arithmetic, or the
tagged-customer recursion written out as plain loops.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from cssim.analytic import ErlangAResult, erlang_a, erlang_b, erlang_c


def erlang_b_direct(a: float, n: int) -> float:
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def erlang_c_direct(a: float, n: int) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def ctmc_stationary(lam: float, mu: float, theta: float, n: int, states: int = 200) -> np.ndarray:
    """pi Q = 0, sum(pi) = 1 for the birth-death generator truncated to 0..states-1."""
    Q = np.zeros((states, states))
    for k in range(states):
        if k + 1 < states:
            Q[k, k + 1] = lam
        if k > 0:
            Q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * theta
        Q[k, k] = -Q[k].sum()
    A = Q.T.copy()
    A[-1] = 1.0  # one balance equation is redundant: replace it by the normalisation
    b = np.zeros(states)
    b[-1] = 1.0
    return np.linalg.solve(A, b)


def tagged_customer(pi: np.ndarray, mu: float, theta: float, n: int) -> tuple[float, float, float]:
    """P(served), E[W 1{served}], E[W 1{abandoned}] by an arrival seeing pi (PASTA), looped.

    An arrival finding j = k - n >= 0 waiting goes through phases h = j, ..., 0 (h customers
    ahead). Phase h is left at rate n mu + (h + 1) theta: by its own abandonment with rate theta,
    otherwise to phase h - 1 (or to service from h = 0). Exit time and exit type are independent
    in an exponential race, so a customer abandoning in phase h waited the sum of the mean
    sojourns of phases j..h."""
    p_served = float(pi[:n].sum())
    w_served = w_aband = 0.0
    for k in range(n, pi.size):
        reach, elapsed = 1.0, 0.0  # P(reach phase h), E[time to leave phase h]
        for h in range(k - n, -1, -1):
            rate = n * mu + (h + 1) * theta
            elapsed += 1.0 / rate
            w_aband += pi[k] * reach * (theta / rate) * elapsed
            reach *= (rate - theta) / rate
        p_served += pi[k] * reach
        w_served += pi[k] * reach * elapsed
    return p_served, w_served, w_aband


def assert_proper(r: ErlangAResult) -> None:
    for name in ("p_abandon", "p_wait", "utilization", "p_served"):
        v = getattr(r, name)
        assert math.isfinite(v) and 0.0 <= v <= 1.0, (name, v)
    for name in ("mean_wait", "mean_wait_served", "mean_queue"):
        v = getattr(r, name)
        assert math.isfinite(v) and v >= 0.0, (name, v)


def test_erlang_b_textbook_and_direct_sum():
    """Erlang-B: B(a=10, n=10) = 0.21458 (standard tables), and the recursion equals the
    defining ratio (a^n/n!) / sum_{k<=n} a^k/k! for small n."""
    assert erlang_b(10.0, 10) == pytest.approx(0.21458, abs=5e-6)
    for a, n in [(0.5, 1), (2.0, 3), (10.0, 10), (7.3, 12), (25.0, 20)]:
        assert erlang_b(a, n) == pytest.approx(erlang_b_direct(a, n), rel=1e-12)
    assert erlang_b(0.0, 5) == 0.0


def test_erlang_b_large_n_no_overflow():
    """Erlang-B at n = 5000 (factorials would overflow): in (0, 1) and consistent with the
    recursion identity B(a, n) = a B(a, n-1) / (n + a B(a, n-1))."""
    b_prev, b = erlang_b(4800.0, 4999), erlang_b(4800.0, 5000)
    assert 0.0 < b < 1.0
    assert b == pytest.approx(4800.0 * b_prev / (5000 + 4800.0 * b_prev), rel=1e-13)


def test_erlang_c_textbook_and_direct_sum():
    """Erlang-C: P(wait) = C(n, a) from the direct sum (C(11, 10) = 0.6821), and the M/M/n means
    E[W] = C / (n mu - lambda), E[Q] = lambda E[W] (Little), utilization = a / n."""
    r = erlang_c(10.0, 1.0, 11)
    assert r.p_wait == pytest.approx(0.6821, abs=5e-5)
    for lam, mu, n in [(10.0, 1.0, 11), (0.5, 2.0, 1), (4.0, 0.5, 9), (18.0, 1.0, 20)]:
        r = erlang_c(lam, mu, n)
        c = erlang_c_direct(lam / mu, n)
        assert r.p_wait == pytest.approx(c, rel=1e-12)
        assert r.mean_wait == pytest.approx(c / (n * mu - lam), rel=1e-12)
        assert r.mean_wait_served == r.mean_wait
        assert r.mean_queue == pytest.approx(lam * r.mean_wait, rel=1e-12)
        assert r.utilization == pytest.approx(lam / (n * mu), rel=1e-15)
        assert (r.p_abandon, r.p_served) == (0.0, 1.0)


@pytest.mark.parametrize("lam,mu,n", [(10.0, 1.0, 11), (0.8, 1.0, 1), (95.0, 1.0, 100)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(lam, mu, n):
    """M/M/n+M -> M/M/n as theta -> 0 in the stable case: the error is O(theta)."""
    a, c = erlang_a(lam, mu, 1e-10, n), erlang_c(lam, mu, n)
    for name in ("p_wait", "mean_wait", "mean_wait_served", "mean_queue", "utilization", "p_served"):
        assert getattr(a, name) == pytest.approx(getattr(c, name), rel=1e-6), name
    assert a.p_abandon < 1e-6


def test_erlang_a_zero_patience_rate_is_erlang_c():
    """abandon_rate = 0 is exactly Erlang-C, which needs lambda < n mu."""
    assert erlang_a(10.0, 1.0, 0.0, 11) == erlang_c(10.0, 1.0, 11)
    with pytest.raises(ValueError, match="arrival_rate"):
        erlang_a(12.0, 1.0, 0.0, 11)


@pytest.mark.parametrize(
    "lam,mu,theta,n",
    [(2.5, 1.0, 0.7, 3), (5.0, 1.0, 2.0, 2), (0.3, 1.0, 0.1, 1), (4.0, 0.5, 0.25, 6)],
)
def test_erlang_a_matches_dense_ctmc(lam, mu, theta, n):
    """Stationary distribution of the birth-death CTMC (Palm 1943), solved independently as
    pi Q = 0 on a 200-state truncation: P(N >= n), E[Q], E[busy]/n and theta E[Q]/lambda agree
    to 1e-10."""
    pi = ctmc_stationary(lam, mu, theta, n)
    k = np.arange(pi.size)
    mean_queue = float(np.maximum(k - n, 0) @ pi)
    r = erlang_a(lam, mu, theta, n)
    assert r.p_wait == pytest.approx(pi[n:].sum(), abs=1e-10)
    assert r.mean_queue == pytest.approx(mean_queue, abs=1e-10)
    assert r.p_abandon == pytest.approx(theta * mean_queue / lam, abs=1e-10)
    assert r.utilization == pytest.approx(float(np.minimum(k, n) @ pi) / n, abs=1e-10)
    assert r.mean_wait == pytest.approx(mean_queue / lam, abs=1e-10)


@pytest.mark.parametrize(
    "lam,mu,theta,n",
    [(2.5, 1.0, 0.7, 3), (5.0, 1.0, 2.0, 2), (0.3, 1.0, 0.1, 1), (8.0, 1.0, 0.05, 6)],
)
def test_tagged_customer_consistency(lam, mu, theta, n):
    """Two routes to the same quantities (Mandelbaum & Zeltyn): the tagged-customer P(served)
    equals 1 - theta E[Q]/lambda (abandonment flow balance), and E[W] = E[Q]/lambda (Little)
    splits as P(served) E[W|served] + P(abandon) E[W|abandoned], with E[W|abandoned] from the
    analogous phase recursion."""
    pi = ctmc_stationary(lam, mu, theta, n, states=n + 400)
    p_served, w_served, w_aband = tagged_customer(pi, mu, theta, n)
    r = erlang_a(lam, mu, theta, n)
    assert p_served == pytest.approx(r.p_served, abs=1e-10)
    assert r.p_served + r.p_abandon == pytest.approx(1.0, abs=1e-15)
    assert r.mean_wait_served == pytest.approx(w_served / p_served, rel=1e-9)
    e_w_aband = w_aband / r.p_abandon
    assert r.mean_wait == pytest.approx(r.p_served * r.mean_wait_served + r.p_abandon * e_w_aband, rel=1e-9)


def test_large_n_exact_rational_reference():
    """n = 1000, lambda = 950, mu = 1, theta = 0.5 (QED regime): log-space computation matches
    the birth-death solution in exact rational arithmetic to 1e-12 relative, with no overflow."""
    lam, mu, theta, n = 950, 1, Fraction(1, 2), 1000
    w = [Fraction(1)]
    for k in range(1, n + 400):  # the queue tail is < 1e-60 of the mass by then
        w.append(w[-1] * lam / (min(k, n) * mu + max(k - n, 0) * theta))
    z = sum(w)
    p_wait = sum(w[n:]) / z
    mean_queue = sum(j * x for j, x in enumerate(w[n:])) / z
    r = erlang_a(950.0, 1.0, 0.5, 1000)
    assert_proper(r)
    assert r.p_wait == pytest.approx(float(p_wait), rel=1e-12)
    assert r.mean_queue == pytest.approx(float(mean_queue), rel=1e-12)
    assert r.p_abandon == pytest.approx(float(theta * mean_queue / lam), rel=1e-12)


@pytest.mark.parametrize("lam,mu,theta,n", [(950.0, 1.0, 0.5, 1000), (15.0, 1.0, 1.0, 10), (3000.0, 1.0, 0.1, 2000)])
def test_flow_balance_and_bounds(lam, mu, theta, n):
    """Rate conservation: arrivals = services + abandonments, i.e. n mu utilization =
    lambda (1 - p_abandon); probabilities in [0, 1]; and the fluid bound: at most n mu of the
    lambda arrivals per unit time can be served, so p_abandon >= 1 - n mu / lambda."""
    r = erlang_a(lam, mu, theta, n)
    assert_proper(r)
    assert n * mu * r.utilization == pytest.approx(lam * r.p_served, rel=1e-11)
    # 1e-12 slack: at lambda = 1.5 n mu with n = 2000 all agents are busy with probability
    # 1 - 1e-(hundreds), so the bound is attained up to rounding.
    assert r.p_abandon >= 1.0 - n * mu / lam - 1e-12
    assert r.mean_wait == pytest.approx(r.mean_queue / lam, rel=1e-15)


def test_overloaded_fluid_lower_bound():
    """Overloaded n = 10, lambda = 15, mu = 1, theta = 1: stable only thanks to abandonment;
    p_abandon >= 1 - n mu / lambda = 1/3 (fluid lower bound)."""
    r = erlang_a(15.0, 1.0, 1.0, 10)
    assert_proper(r)
    assert r.p_abandon >= 1.0 - 10 * 1.0 / 15.0
    assert r.p_wait > 0.9


BAD = [
    (erlang_b, dict(offered_load=-1.0, servers=3), "offered_load"),
    (erlang_b, dict(offered_load=float("nan"), servers=3), "offered_load"),
    (erlang_b, dict(offered_load=1.0, servers=0), "servers"),
    (erlang_b, dict(offered_load=1.0, servers=2.5), "servers"),
    (erlang_c, dict(arrival_rate=0.0, service_rate=1.0, servers=3), "arrival_rate"),
    (erlang_c, dict(arrival_rate=1.0, service_rate=-1.0, servers=3), "service_rate"),
    (erlang_c, dict(arrival_rate=1.0, service_rate=float("inf"), servers=3), "service_rate"),
    (erlang_c, dict(arrival_rate=1.0, service_rate=1.0, servers=True), "servers"),
    (erlang_c, dict(arrival_rate=3.0, service_rate=1.0, servers=3), "arrival_rate"),  # unstable
    (erlang_a, dict(arrival_rate="2", service_rate=1.0, abandon_rate=0.5, servers=3), "arrival_rate"),
    (erlang_a, dict(arrival_rate=2.0, service_rate=0.0, abandon_rate=0.5, servers=3), "service_rate"),
    (erlang_a, dict(arrival_rate=2.0, service_rate=1.0, abandon_rate=-0.5, servers=3), "abandon_rate"),
    (erlang_a, dict(arrival_rate=2.0, service_rate=1.0, abandon_rate=0.5, servers=-1), "servers"),
    (erlang_a, dict(arrival_rate=2.0, service_rate=1.0, abandon_rate=None, servers=3), "abandon_rate"),
]


@pytest.mark.parametrize("func,kwargs,param", BAD, ids=[f"{f.__name__}-{p}-{i}" for i, (f, _, p) in enumerate(BAD)])
def test_bad_inputs_raise_value_error_naming_parameter(func, kwargs, param):
    """Invalid arguments raise ValueError with a one-line message naming the parameter and value."""
    with pytest.raises(ValueError, match=param) as exc:
        func(**kwargs)
    assert "\n" not in str(exc.value)
    assert "got" in str(exc.value)
