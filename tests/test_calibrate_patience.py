"""Patience from censored data: why ``cssim calibrate`` uses Kaplan-Meier and censored maximum
likelihood instead of the waits of those who left.

Specification: when most customers are answered quickly (heavy censoring), the Kaplan-Meier
survival curve is unbiased for the patience distribution at every wait it observes (true
survival inside its 95% Greenwood band), and the censored lognormal fit recovers the mean
patience; the naive mean of the abandoners' waits is far below it (its own 95% interval
excludes the truth). Synthetic data with known patience, so the truth is exact.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from cssim.calibrate.estimators import best_duration, kaplan_meier, mean_t

MEAN, CV = 120.0, 1.5  # true patience (s): lognormal, median 66.6 s


def censored_sample(n: int = 4000, wait_mean: float = 20.0, seed: int = 11):
    """Patience T and wait W for a first reply (exponential, mean 20 s: most are answered
    quickly); a customer leaves at T if T < W (event), else is answered at W (censored)."""
    rng = np.random.default_rng(seed)
    s2 = math.log1p(CV**2)
    T = rng.lognormal(math.log(MEAN) - s2 / 2, math.sqrt(s2), n)
    W = rng.exponential(wait_mean, n)
    left = T < W
    return np.where(left, T, W), left


def true_survival(t):
    s = math.sqrt(math.log1p(CV**2))
    return stats.lognorm(s, scale=MEAN * math.exp(-s * s / 2)).sf(t)


def test_kaplan_meier_unbiased_where_naive_mean_of_abandoners_is_not():
    t, left = censored_sample()
    assert left.mean() < 0.25  # heavily censored: over 75% answered before they would leave
    km = kaplan_meier(t, left)
    ci = km.confidence_interval_
    for x in (5.0, 15.0, 30.0, 60.0):  # waits the data covers
        lo, hi = ci[ci.index <= x].iloc[-1]
        assert lo <= true_survival(x) <= hi, (x, lo, hi, true_survival(x))

    fit, fits = best_duration(t, left, ("exponential", "lognormal"))
    assert fit.family == "lognormal"
    assert fit.mean_ci[0] <= MEAN <= fit.mean_ci[1], fit

    naive, n_lo, n_hi = mean_t(t[left])
    assert n_hi < MEAN / 3, (naive, n_lo, n_hi)  # the abandoners' waits say "about 20 s"
    print(f"censored lognormal ML: {fit.mean:.1f} s (95% CI {fit.mean_ci[0]:.1f}-{fit.mean_ci[1]:.1f}); "
          f"naive mean of abandoners' waits: {naive:.1f} s ({n_lo:.1f}-{n_hi:.1f}); true {MEAN:.0f} s")
