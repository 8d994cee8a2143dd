"""Inquiry arrivals: a non-homogeneous Poisson process, piecewise constant per planning interval.

Exact construction: in each interval the count is Poisson(rate x length) and, given the count,
the arrival instants are independent uniforms on the interval (order statistics).
"""

from __future__ import annotations

import numpy as np

from cssim.config import Config
from cssim.profiles import interval_weights


def interval_edges_s(cfg: Config) -> np.ndarray:
    """Planning-interval edges in seconds, from 0 to the horizon (the last may be shorter)."""
    horizon = cfg.horizon_h * 3600.0
    step = cfg.interval_min * 60.0
    edges = np.arange(0.0, horizon, step)
    return np.append(edges, horizon)


def interval_rates(cfg: Config) -> np.ndarray:
    """Expected arrivals per second in each planning interval (before the forecast multiplier)."""
    a = cfg.arrivals
    lengths = np.diff(interval_edges_s(cfg))
    if a.rate_per_min is not None:
        return np.full(lengths.size, a.rate_per_min / 60.0)
    if a.weights:
        # Weights spread evenly over the horizon, then integrated onto planning intervals.
        w = np.asarray(a.weights, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(w)])
        edges = interval_edges_s(cfg) / (cfg.horizon_h * 3600.0) * w.size
        mass = np.diff(np.interp(edges, np.arange(cum.size, dtype=float), cum))
    else:
        mass = interval_weights(a.profile, cfg.horizon_h, cfg.interval_min)
    return a.total * mass / mass.sum() / lengths


def forecast_multiplier(cfg: Config, rng: np.random.Generator) -> float:
    """One gamma draw with mean 1 and coefficient of variation ``arrivals.forecast_cv``
    (1.0 when the cv is 0): the whole horizon's volume is that much off the forecast."""
    cv = cfg.arrivals.forecast_cv
    if cv <= 0:
        return 1.0
    shape = 1.0 / cv**2
    return float(rng.gamma(shape, 1.0 / shape))


def arrival_times(cfg: Config, rng: np.random.Generator, multiplier: float = 1.0) -> np.ndarray:
    """Sorted arrival instants (s) over the horizon."""
    edges = interval_edges_s(cfg)
    lengths = np.diff(edges)
    counts = rng.poisson(interval_rates(cfg) * lengths * multiplier)
    starts = np.repeat(edges[:-1], counts)
    spans = np.repeat(lengths, counts)
    t = starts + rng.random(starts.size) * spans
    # Uniforms within one interval are unordered; intervals are already in order.
    t.sort(kind="stable")
    return t
