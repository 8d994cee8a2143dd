"""Exact stationary formulas for the M/M/n (Erlang-C), M/M/n/n (Erlang-B) and M/M/n+M (Erlang-A) queues.

These are the reference values the simulator is validated against in its degenerate case:
Poisson arrivals at rate ``arrival_rate``, ``servers`` agents each serving one customer at a time
with exponential service times of rate ``service_rate``, FCFS queue, and (Erlang-A only)
exponential patience of rate ``abandon_rate``: a waiting customer leaves when its patience runs
out before service starts. Rates in 1/s, times in s (any time unit works if used consistently).

Model and formulas:

* C. Palm (1943), "Intensitätsschwankungen im Fernsprechverkehr", Ericsson Technics 44 -- the
  M/M/n+M queue, solved as a birth-death chain.
* O. Garnett, A. Mandelbaum & M. Reiman (2002), "Designing a call center with impatient
  customers", Manufacturing & Service Operations Management 4(3) -- Erlang-A performance measures.
* A. Mandelbaum & S. Zeltyn (2004/2007), "The impact of customers' patience on delay and
  abandonment" / "Service engineering in action: the Palm/Erlang-A queue" -- conditional waits
  such as E[W | served] through the tagged-customer argument used below.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = ["ErlangAResult", "erlang_a", "erlang_b", "erlang_c"]

# Truncation margin (nats): the neglected tail of the Erlang-A chain is bounded above by
# exp(-_TAIL_NATS) times the sums it would enter (see _erlang_a_log_pi), i.e. < 1e-26 relative.
_TAIL_NATS = 60.0
# Guard against abandon_rate so small (relative to an overload) that the mass sits at an
# astronomically long queue: refuse rather than allocate gigabytes.
_MAX_STATES = 20_000_000


@dataclass(frozen=True)
class ErlangAResult:
    """Stationary performance of an M/M/n+M (or M/M/n) queue. Times in s if rates are in 1/s.

    Attributes:
        p_abandon: probability that an arrival abandons before service (0 for Erlang-C).
        p_wait: probability that an arrival has to wait, P(W > 0); by PASTA this is the
            stationary probability that all servers are busy, P(N >= n).
        mean_wait: E[W] over all arrivals, time in queue until service or abandonment
            (= E[Q] / arrival_rate by Little's law).
        mean_wait_served: E[W | served], mean time in queue of the customers who get served.
        mean_queue: E[Q], mean number of customers waiting (not in service).
        utilization: E[number of busy servers] / n.
        p_served: 1 - p_abandon.
    """

    p_abandon: float
    p_wait: float
    mean_wait: float
    mean_wait_served: float
    mean_queue: float
    utilization: float
    p_served: float


def _rate(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 if allow_zero), else ValueError naming the parameter."""
    kind = "non-negative" if allow_zero else "positive"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(x) and (x > 0 or (allow_zero and x == 0))):
        raise ValueError(f"{name} must be a {kind} finite number, got {value!r}")
    return x


def _servers(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"servers must be a positive integer, got {value!r}")
    return int(value)


def erlang_b(offered_load: float, servers: int) -> float:
    """Erlang-B blocking probability B(a, n) of the M/M/n/n loss system.

    Args:
        offered_load: a = arrival_rate / service_rate (dimensionless, in Erlangs), >= 0.
        servers: number of servers n >= 1.

    Returns:
        The probability that an arrival finds all n servers busy (and is lost).

    Uses the recursion B(a, 0) = 1, B(a, k) = a B(a, k-1) / (k + a B(a, k-1)), whose terms stay
    in [0, 1] -- no factorials, no overflow for any n.

    >>> round(erlang_b(10.0, 10), 5)
    0.21458
    """
    a = _rate("offered_load", offered_load, allow_zero=True)
    n = _servers(servers)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> ErlangAResult:
    """Exact stationary M/M/n (Erlang-C) queue: infinite patience, nobody abandons.

    Args:
        arrival_rate: Poisson arrival rate lambda (1/s), > 0.
        service_rate: per-server service rate mu (1/s), > 0.
        servers: number of servers n >= 1; stability needs lambda < n * mu.

    Returns:
        ErlangAResult with p_abandon = 0, p_served = 1, p_wait = C(n, a) with a = lambda / mu,
        mean_wait = mean_wait_served = C / (n mu - lambda) (s), mean_queue = lambda * mean_wait,
        utilization = a / n.

    >>> r = erlang_c(arrival_rate=10.0, service_rate=1.0, servers=11)
    >>> round(r.p_wait, 4), round(r.mean_wait, 4)
    (0.6821, 0.6821)
    """
    lam = _rate("arrival_rate", arrival_rate)
    mu = _rate("service_rate", service_rate)
    n = _servers(servers)
    if not lam < n * mu:
        raise ValueError(
            f"arrival_rate must be < servers * service_rate = {n * mu!r} for a stable queue "
            f"without abandonment, got {arrival_rate!r}"
        )
    a = lam / mu
    b = erlang_b(a, n)
    c = n * b / (n - a * (1.0 - b))  # standard B -> C conversion; denominator > 0 since a < n
    wait = c / (n * mu - lam)
    return ErlangAResult(
        p_abandon=0.0,
        p_wait=c,
        mean_wait=wait,
        mean_wait_served=wait,
        mean_queue=lam * wait,
        utilization=a / n,
        p_served=1.0,
    )


def _erlang_a_log_pi(lam: float, mu: float, theta: float, n: int) -> np.ndarray:
    """Unnormalised log stationary probabilities log pi_k, k = 0..n+L, of the M/M/n+M chain.

    Birth rate lam, death rate d_k = min(k, n) mu + max(k - n, 0) theta, so
    pi_k / pi_{k-1} = lam / d_k. L is grown until a geometric bound on the neglected tail,
    weighted by (j + 1) for j = k - n waiting customers (this weight bounds, up to constant
    factors, every sum erlang_a forms: probability mass, E[Q], E[W 1{served}]), is below exp(-_TAIL_NATS) times the same
    weighted sum over the kept states.
    """
    nmu = n * mu
    j_mode = max(0.0, (lam - nmu) / theta)  # queue length where lam = d_k: peak of the chain
    # Past the peak log pi falls like -m^2 theta / (2 lam) (overload) or -m log(n mu / lam)
    # (underload); start with room for ~70 nats of either and double if the bound says so.
    extra = 64 + int(12.0 * math.sqrt(lam / theta))
    if lam < nmu:
        extra = min(extra, 64 + int(70.0 / math.log(nmu / lam)))
    while True:
        L = int(j_mode) + extra
        if n + L > _MAX_STATES:
            raise ValueError(
                f"abandon_rate is too small for this load: the stationary queue would need more than "
                f"{_MAX_STATES} states, got abandon_rate={theta!r}"
            )
        k = np.arange(1, n + L + 1, dtype=float)
        d = np.minimum(k, n) * mu + np.maximum(k - n, 0.0) * theta
        # log(lam / d_k) as -log(d_k / lam): one rounding per term, no cancellation of two logs.
        inc = -np.log(d / lam)
        # Sum outward from the mode m (the last k with d_k <= lam) so that partial sums, and their
        # rounding errors, stay small exactly where the probability mass is.
        m = int(np.count_nonzero(d <= lam))
        log_pi = np.empty(n + L + 1)
        log_pi[m] = 0.0
        log_pi[:m] = -np.cumsum(inc[:m][::-1])[::-1]
        log_pi[m + 1 :] = np.cumsum(inc[m:])
        # Tail bound: beyond the last state K = n + L every ratio pi_{k+1}/pi_k is <= r < 1, so
        # sum_{i>=1} (L + 1 + i) pi_K r^i = pi_K [(L + 1) r / (1 - r) + r / (1 - r)^2].
        r = lam / (nmu + (L + 1) * theta)
        if r < 1.0:
            log_tail = log_pi[-1] + math.log((L + 1) * r / (1 - r) + r / (1 - r) ** 2)
            log_kept = logsumexp(np.log(np.arange(1, L + 2)) + log_pi[n:])
            if log_tail < log_kept - _TAIL_NATS:
                return log_pi
        extra *= 2


def erlang_a(arrival_rate: float, service_rate: float, abandon_rate: float, servers: int) -> ErlangAResult:
    """Exact stationary M/M/n+M (Palm / Erlang-A) queue.

    Args:
        arrival_rate: Poisson arrival rate lambda (1/s), > 0.
        service_rate: per-server exponential service rate mu (1/s), > 0.
        abandon_rate: exponential patience rate theta (1/s), >= 0, i.e. mean patience 1/theta s.
            With theta > 0 the queue is stable at any load (lambda > n mu is fine); theta = 0 is
            the Erlang-C queue and requires lambda < n mu.
        servers: number of servers n >= 1.

    Returns:
        ErlangAResult; times (mean_wait, mean_wait_served) in s when rates are in 1/s.

    The stationary distribution of the number in system is computed in log space from the
    birth-death balance equations and truncated where the neglected tail is provably below
    e^-60 of what is kept (accurate to rounding, ~1e-12 relative, for n in the thousands).
    p_abandon = theta E[Q] / lambda (abandonment flow balance). E[W | served] uses the
    tagged-customer argument: an arrival that finds j = k - n >= 0 customers waiting moves
    through phases h = j, j-1, ..., 0 ahead of it, each left at total rate n mu + (h+1) theta
    and ending in its own abandonment with rate theta.

    >>> r = erlang_a(arrival_rate=9.5 / 60, service_rate=1 / 60, abandon_rate=1 / 120, servers=10)
    >>> round(r.p_abandon, 4), round(r.mean_wait_served, 2), round(r.utilization, 4)
    (0.0845, 9.62, 0.8698)
    >>> 0 <= erlang_a(15.0, 1.0, 1.0, 10).p_abandon <= 1   # overloaded, stable thanks to abandonment
    True
    """
    lam = _rate("arrival_rate", arrival_rate)
    mu = _rate("service_rate", service_rate)
    theta = _rate("abandon_rate", abandon_rate, allow_zero=True)
    n = _servers(servers)
    if theta == 0.0:
        if not lam < n * mu:
            raise ValueError(
                f"arrival_rate must be < servers * service_rate = {n * mu!r} when abandon_rate is 0 "
                f"(no abandonment, unstable queue otherwise), got {arrival_rate!r}"
            )
        return erlang_c(lam, mu, n)

    log_pi = _erlang_a_log_pi(lam, mu, theta, n)
    p = np.exp(log_pi - log_pi.max())
    p /= p.sum()
    below, q = p[:n], p[n:]  # q[j] = P(N = n + j): j customers waiting
    j = np.arange(q.size, dtype=float)
    # Summing q directly (not 1 - sum(below)) keeps small p_wait accurate; min() only strips the
    # last-ulp excess that different summation orders can leave when p_wait ~ 1.
    p_wait = min(1.0, float(q.sum()))
    mean_queue = float(j @ q)
    busy = float(np.arange(n) @ below) + n * p_wait

    # Tagged customer finding j waiting: phase h (h ahead of it) has exit rate rate[h].
    rate = n * mu + (j + 1.0) * theta
    # P(served | j) = prod_{i=0..j} (n mu + i theta) / (n mu + (i+1) theta), which telescopes.
    served_j = n * mu / rate
    # E[W 1{served} | j] = P(served | j) * (sum of the mean sojourns of phases j..0).
    wait_served_j = served_j * np.cumsum(1.0 / rate)
    p_served_tagged = float(below.sum() + served_j @ q)
    mean_wait_served = float(wait_served_j @ q) / p_served_tagged

    p_abandon = theta * mean_queue / lam
    return ErlangAResult(
        p_abandon=p_abandon,
        p_wait=p_wait,
        mean_wait=mean_queue / lam,
        mean_wait_served=mean_wait_served,
        mean_queue=mean_queue,
        utilization=min(1.0, busy / n),
        p_served=1.0 - p_abandon,
    )
