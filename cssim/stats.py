"""Estimates across replications: means with 95% confidence intervals (Student t)."""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy.special import stdtrit


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, int]:
    """Mean, confidence-interval half-width and count of the finite values. The half-width
    is NaN with fewer than two values (one replication says nothing about spread)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1:
        return float(x[0]), math.nan, 1
    # Student t quantile (what scipy.stats.t.ppf computes, without importing scipy.stats: the
    # command line starts a second faster).
    hw = stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean()), float(hw), n


def summarize(runs: Iterable[Mapping[str, float]], names: Iterable[str]) -> pd.DataFrame:
    """One row per metric: mean, ci95 (half-width) and n over the replications ``runs``."""
    runs = list(runs)
    rows = []
    for name in names:
        m, hw, n = mean_ci(r[name] for r in runs)
        rows.append({"metric": name, "mean": m, "ci95": hw, "n": n})
    return pd.DataFrame(rows).set_index("metric")
