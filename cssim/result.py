"""What one replication returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: importing pandas costs ~0.4 s
    import pandas as pd


@dataclass(frozen=True)
class Result:
    """One replication of one scenario.

    metrics: the public KPIs (names and units in :data:`cssim.metrics.METRICS`) plus a few
        diagnostics (:data:`cssim.metrics.DIAGNOSTICS`); plain Python numbers, NaN where a rate
        has an empty denominator.
    intervals: one row per planning interval: arrivals, lost, responded (by arrival interval),
        mean first response (s), queue length at the interval's end, mean heads on shift and
        utilization per pool.
    seed, replication: the random streams used (same pair, same customers).
    wall_s: wall-clock seconds the replication took.
    log: the chat log, one row per inquiry (:mod:`cssim.chatlog`), when asked for; else None.
    """

    metrics: dict[str, float]
    intervals: pd.DataFrame = field(repr=False)
    seed: int = 0
    replication: int = 0
    wall_s: float = 0.0
    log: pd.DataFrame | None = field(default=None, repr=False)
