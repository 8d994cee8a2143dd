"""Built-in shapes of inquiry volume over time.

A profile is a weight per minute (relative; only ratios matter) of a 24-hour day, or of a
longer period (``double11_2022_presale`` spans 12 days), repeated over the horizon. The hourly
weights below are stated assumptions shaped on the sources in docs/model.md#seed-facts: Double 11 2016 put about
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

def _presale_2022() -> np.ndarray:
    """Oct 31 00:00 to Nov 12 00:00 (12 days). 2022's presale: final payments opened at 20:00
    on Oct 31 (first wave) and Nov 10 (second wave), then the Nov 11 midnight peak. Quiet days
    in between run at half a normal day (assumption)."""
    normal = np.asarray(_FLAT)
    days = []
    for d in range(12):
        h = normal * (0.5 if 1 <= d <= 9 else 1.0)
        if d in (0, 10):  # 20:00 waves
            h = h.copy()
            h[20:24] = [4.0, 2.2, 1.6, 1.3]
        if d == 11:  # Nov 11 itself
            h = np.asarray(_D11_2022)
        days.append(h)
    hourly = np.concatenate(days)
    w = np.repeat(hourly / 60.0, 60)
    for start in (20 * 60, 10 * 1440 + 20 * 60, 11 * 1440):  # front-load each wave's first hour
        w[start : start + 60] = np.repeat(np.asarray(_PEAK_HOUR) * hourly[start // 60] / 15.0, 15)
    return w


PROFILES: dict[str, np.ndarray] = {
    "flat": _minutes(_FLAT),
    "double11_2016": _minutes(_D11_2016, {0: _PEAK_HOUR}),
    "double11_2019": _minutes(_D11_2019, {0: _PEAK_HOUR}),
    "double11_2022": _minutes(_D11_2022, {0: _PEAK_HOUR, 20: [0.35, 0.25, 0.22, 0.18]}),
    "618": _minutes(_S618, {0: [0.35, 0.25, 0.22, 0.18]}),
    "double11_2022_presale": _presale_2022(),
}


def interval_weights(profile: str, horizon_h: float, interval_min: float) -> np.ndarray:
    """Weight of each planning interval (the last one may be shorter), from a named profile
    repeated period after period (a day, or the profile's own length). Exact integration of
    the per-minute step function."""
    per_min = PROFILES[profile]
    horizon_min = horizon_h * 60.0
    periods = int(np.ceil(horizon_min / per_min.size)) + 1
    cum = np.concatenate([[0.0], np.cumsum(np.tile(per_min, periods))])
    edges = np.minimum(np.arange(0.0, horizon_min + interval_min, interval_min), horizon_min)
    edges = np.unique(edges)
    at = np.interp(edges, np.arange(cum.size, dtype=float), cum)
    return np.diff(at)
