"""Statistics the calibration is made of, free of the log's columns: each function takes plain
arrays and returns an estimate with its 95% confidence interval and sample size.

* Positive durations, possibly right-censored (patience: a customer answered after waiting w
  is censored at w): maximum likelihood for exponential, lognormal and gamma parametrised by
  (log mean, log cv), standard errors from the observed information (numerical Hessian), the
  family chosen by AIC. Kaplan-Meier (lifelines) for the nonparametric curve.
* Shares: Wilson score intervals. Means: Student t.
* Turns per chat, possibly censored (a chat dropped at message k had at least k turns):
  1 + Poisson or geometric by censored maximum likelihood, or constant when every complete chat
  has the same number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass
class Estimate:
    """One fitted number: ``value`` with 95% CI [``lo``, ``hi``] from ``n`` observations.

    ``key``: the scenario key it sets (dotted) or a label for a reported-only number;
    ``unit``: s, share, inquiries, ...; ``method``: how it was estimated, in words."""

    key: str
    value: float
    lo: float
    hi: float
    n: int
    method: str
    unit: str = ""
    text: str | None = None  # a non-numeric estimate (a family name), shown instead of value


@dataclass
class DurationFit:
    """A fitted duration family. ``mean``/``cv`` with 95% CIs (log-scale Wald intervals)."""

    family: str
    mean: float
    mean_ci: tuple[float, float]
    cv: float
    cv_ci: tuple[float, float]
    loglik: float
    aic: float
    n: int
    events: int
    theta: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def frozen(self):
        """The fitted distribution as a frozen scipy distribution."""
        return frozen(self.family, self.mean, self.cv)


def frozen(family: str, mean: float, cv: float):
    """scipy distribution with this mean and coefficient of variation."""
    if family == "exponential":
        return stats.expon(scale=mean)
    if family == "lognormal":
        s = math.sqrt(math.log1p(cv * cv))
        return stats.lognorm(s, scale=mean * math.exp(-s * s / 2))
    if family == "gamma":
        a = 1.0 / (cv * cv)
        return stats.gamma(a, scale=mean / a)
    raise ValueError(f"family={family!r}: unknown")


def _loglik(family: str, theta: np.ndarray, t: np.ndarray, event: np.ndarray, w: np.ndarray) -> float:
    mean = math.exp(theta[0])
    cv = math.exp(theta[1]) if theta.size > 1 else 1.0
    if not (np.isfinite(mean) and np.isfinite(cv)) or mean <= 0 or cv <= 0 or cv > 50:
        return -np.inf
    d = frozen(family, mean, cv)
    ll = (w[event] * d.logpdf(t[event])).sum() + (w[~event] * d.logsf(t[~event])).sum()
    return float(ll) if np.isfinite(ll) else -np.inf


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def fit_duration(t: np.ndarray, event: np.ndarray | None = None, family: str = "lognormal", weights: np.ndarray | None = None) -> DurationFit:
    """Maximum likelihood fit of one family to durations ``t`` (s; > 0), right-censored where
    ``event`` is False. ``weights``: each row's share of one observation (a censoring instant
    known only as a mixture is several rows summing to 1). Standard errors of (log mean,
    log cv) from the observed information."""
    t = np.asarray(t, dtype=float)
    event = np.ones(t.size, dtype=bool) if event is None else np.asarray(event, dtype=bool)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    t = np.maximum(t, 1e-6)
    n_ev = int(event.sum())
    if n_ev < 2:
        raise ValueError(f"{family} fit needs at least 2 events, got {n_ev}")
    exp_mean = (w * t).sum() / w[event].sum()  # the exponential MLE under censoring, in closed form
    if family == "exponential":
        theta0 = np.array([math.log(exp_mean)])
    else:
        lt = np.log(t[event])
        s2 = max(float(lt.var()), 1e-4)
        theta0 = np.array([math.log(exp_mean), 0.5 * math.log(math.expm1(s2))])

    def nll(th):
        v = -_loglik(family, np.asarray(th, dtype=float), t, event, w)
        return v if np.isfinite(v) else 1e300

    if family == "exponential":
        theta = theta0
    else:
        best = None
        for start in (theta0, np.array([theta0[0], 0.0])):
            r = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
            if best is None or r.fun < best.fun:
                best = r
        theta = best.x
    ll = -nll(theta)
    H = _hessian(nll, theta)
    try:
        cov = np.linalg.inv(H)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(theta.size, np.nan)
    mean = math.exp(theta[0])
    mean_ci = (math.exp(theta[0] - Z95 * se[0]), math.exp(theta[0] + Z95 * se[0]))
    if theta.size > 1:
        cv = math.exp(theta[1])
        cv_ci = (math.exp(theta[1] - Z95 * se[1]), math.exp(theta[1] + Z95 * se[1]))
    else:
        cv, cv_ci = 1.0, (1.0, 1.0)
    return DurationFit(family, mean, mean_ci, cv, cv_ci, ll, 2 * theta.size - 2 * ll, int(round(w.sum())), n_ev, theta)


def best_duration(t: np.ndarray, event: np.ndarray | None = None, families=("exponential", "lognormal"), weights: np.ndarray | None = None) -> tuple[DurationFit, dict[str, DurationFit]]:
    """Fit each family; the one with the lowest AIC first, then all fits by family."""
    fits = {}
    for fam in families:
        try:
            fits[fam] = fit_duration(t, event, fam, weights)
        except ValueError:
            continue
    if not fits:
        raise ValueError("no family could be fitted (fewer than 2 events)")
    best = min(fits.values(), key=lambda f: f.aic)
    return best, fits


def kaplan_meier(t: np.ndarray, event: np.ndarray, weights: np.ndarray | None = None):
    """lifelines' Kaplan-Meier fitter on durations ``t`` (s) with ``event`` flags (Greenwood
    CIs); ``weights`` as in :func:`fit_duration`."""
    import warnings

    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns about non-integer weights; they are meant
        return KaplanMeierFitter().fit(np.maximum(np.asarray(t, float), 1e-6), np.asarray(event, bool), weights=weights)


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """Share ``k/n`` with its 95% Wilson score interval."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def mean_t(x: np.ndarray) -> tuple[float, float, float]:
    """Mean with its 95% Student-t interval."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan
    hw = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - hw, m + hw


@dataclass
class TurnsFit:
    dist: str  # constant | poisson | geometric (the scenario's conversation.turns_dist)
    mean: float
    lo: float
    hi: float
    n: int
    aic: dict


def _turns_loglik(dist: str, m: float, k: np.ndarray, cens: np.ndarray) -> float:
    if dist == "poisson":  # 1 + Poisson(m - 1)
        lam = m - 1.0
        return float(stats.poisson.logpmf(k[~cens] - 1, lam).sum() + stats.poisson.logsf(k[cens] - 2, lam).sum())
    p = 1.0 / m  # geometric on 1, 2, ...
    return float(stats.geom.logpmf(k[~cens], p).sum() + stats.geom.logsf(k[cens] - 1, p).sum())


def fit_turns(k: np.ndarray, censored: np.ndarray) -> TurnsFit:
    """Turns per chat from complete chats (``k`` exactly) and censored ones (at least ``k``)."""
    k = np.asarray(k, dtype=np.int64)
    cens = np.asarray(censored, dtype=bool)
    done = k[~cens]
    if done.size == 0:
        raise ValueError("no complete chat to count turns on")
    if np.all(done == done[0]) and (not cens.any() or k[cens].max() <= done[0]):
        v = float(done[0])
        return TurnsFit("constant", v, v, v, int(k.size), {})
    fits = {}
    for dist in ("poisson", "geometric"):
        def nll(x, dist=dist):
            v = -_turns_loglik(dist, 1.0 + math.exp(x), k, cens)
            return v if np.isfinite(v) else 1e300

        x0 = math.log(max(done.mean() - 1.0, 1e-3))
        r = optimize.minimize_scalar(nll, bracket=(x0 - 0.5, x0 + 0.5))
        h = 1e-4
        d2 = (nll(r.x + h) - 2 * nll(r.x) + nll(r.x - h)) / (h * h)
        se = 1.0 / math.sqrt(d2) if d2 > 0 else math.nan
        fits[dist] = (r.x, se, 2 + 2 * r.fun)
    dist = min(fits, key=lambda d: fits[d][2])
    x, se, _ = fits[dist]
    return TurnsFit(dist, 1 + math.exp(x), 1 + math.exp(x - Z95 * se), 1 + math.exp(x + Z95 * se), int(k.size), {d: f[2] for d, f in fits.items()})
