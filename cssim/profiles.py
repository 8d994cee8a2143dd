"""Built-in intraday shapes of inquiry volume.

A profile is a weight per minute of a 24-hour day (relative; only ratios matter). The hourly
weights below are stated assumptions shaped on the sources in MODEL.md: Double 11 2016 put about
30% of the day's GMV in hour 00 and about 8% in its first 7 minutes; inquiries are flatter than
GMV, so hour 00 carries about 4-5x the day's mean inquiry rate, front-loaded inside the hour.
Later years add a 20:00 wave (presale deposits paid off at 20:00 from 2019/2020 on).
"""

from __future__ import annotations

import numpy as np

_FLAT = [1.0] * 24

# Hour 00 = 4.5x the mean hour; within hour 00 the first quarter takes 40% (about 7x the day's
# mean rate), echoing the GMV spike of the first minutes. Night trough 03-06, steady day.
_D11_2016 = [4.5, 2.0, 0.9, 0.45, 0.3, 0.25, 0.3, 0.45, 0.7, 0.95, 1.05, 1.0,
             0.9, 0.95, 1.0, 1.0, 0.95, 0.9, 0.85, 0.9, 1.05, 1.15, 1.1, 0.9]

# 2019: the midnight peak is a little lower relative to the day (more pre-sale in the days
# before) and 20:00 carries a second, smaller wave.
_D11_2019 = [3.8, 1.8, 0.8, 0.4, 0.3, 0.25, 0.3, 0.45, 0.7, 0.95, 1.05, 1.0,
             0.9, 0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 1.1, 2.0, 1.4, 1.2, 1.0]

# 2022 (two presale waves): a 20:00 wave as strong as midnight's shoulder (final payments open
# at 20:00 on Oct 31 and Nov 10) and the midnight peak of the day itself.
_D11_2022 = [3.2, 1.6, 0.7, 0.4, 0.3, 0.25, 0.3, 0.45, 0.7, 0.95, 1.0, 1.0,
             0.9, 0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 1.2, 3.0, 1.8, 1.3, 1.0]

# 618 (June 18): milder; midnight about 2.5x, evening wave at 20:00.
_S618 = [2.5, 1.4, 0.6, 0.35, 0.25, 0.2, 0.3, 0.5, 0.8, 1.0, 1.1, 1.05,
         0.95, 1.0, 1.05, 1.05, 1.0, 0.95, 0.95, 1.1, 1.6, 1.4, 1.2, 0.9]


def _minutes(hourly: list[float], front_load: dict[int, list[float]] | None = None) -> np.ndarray:
    """Per-minute weights from hourly weights; ``front_load[h]`` splits hour h's weight over
    its four quarters (shares summing to 1) instead of evenly."""
    w = np.repeat(np.asarray(hourly, dtype=float) / 60.0, 60)
    for h, shares in (front_load or {}).items():
        for q, s in enumerate(shares):
            w[h * 60 + q * 15 : h * 60 + (q + 1) * 15] = hourly[h] * s / 15.0
    return w


_PEAK_HOUR = [0.40, 0.25, 0.20, 0.15]

PROFILES: dict[str, np.ndarray] = {
    "flat": _minutes(_FLAT),
    "double11_2016": _minutes(_D11_2016, {0: _PEAK_HOUR}),
    "double11_2019": _minutes(_D11_2019, {0: _PEAK_HOUR}),
    "double11_2022": _minutes(_D11_2022, {0: _PEAK_HOUR, 20: [0.35, 0.25, 0.22, 0.18]}),
    "618": _minutes(_S618, {0: [0.35, 0.25, 0.22, 0.18]}),
}


def interval_weights(profile: str, horizon_h: float, interval_min: float) -> np.ndarray:
    """Weight of each planning interval (the last one may be shorter), from a named profile
    repeated day after day. Exact integration of the per-minute step function."""
    per_min = PROFILES[profile]
    horizon_min = horizon_h * 60.0
    days = int(np.ceil(horizon_min / 1440.0)) + 1
    cum = np.concatenate([[0.0], np.cumsum(np.tile(per_min, days))])
    edges = np.minimum(np.arange(0.0, horizon_min + interval_min, interval_min), horizon_min)
    edges = np.unique(edges)
    at = np.interp(edges, np.arange(cum.size, dtype=float), cum)
    return np.diff(at)
