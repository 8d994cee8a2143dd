"""Who is on shift when: each pool's head count turned into groups of agents with start and end.

Shared by the engine (which puts the groups on and off shift) and the metrics (head-seconds for
utilization, paid hours for cost), so both read the same roster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cssim.config import POOLS, Config, Pool


@dataclass(frozen=True)
class Group:
    """``working`` agents on shift from ``start_s`` to ``end_s``; ``paid`` is the rostered head
    count before shrinkage (breaks are paid)."""

    pool: str
    start_s: float
    end_s: float
    paid: int
    working: int


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


def pool_groups(name: str, pool: Pool, horizon_h: float) -> list[Group]:
    """The groups of one pool. No shifts: the whole head count works the whole horizon."""
    shifts = pool.shifts or [None]
    out = []
    for s in shifts:
        start_h, end_h, share = (0.0, horizon_h, 1.0) if s is None else (s.start_h, s.end_h, s.share)
        paid = _round(pool.count * share)
        working = _round(paid * (1.0 - pool.shrinkage))
        if paid > 0:
            out.append(Group(name, start_h * 3600.0, end_h * 3600.0, paid, working))
    return out


def roster(cfg: Config) -> dict[str, list[Group]]:
    """Groups of every pool, by pool name."""
    return {p: pool_groups(p, getattr(cfg.staffing, p), cfg.horizon_h) for p in POOLS}


def head_seconds(groups: list[Group], edges_s: np.ndarray, paid: bool = False) -> np.ndarray:
    """Agent-seconds on shift inside each interval [edges[i], edges[i+1]) (working heads, or
    paid heads with ``paid``)."""
    out = np.zeros(edges_s.size - 1)
    for g in groups:
        lo = np.clip(edges_s[:-1], g.start_s, g.end_s)
        hi = np.clip(edges_s[1:], g.start_s, g.end_s)
        out += (hi - lo) * (g.paid if paid else g.working)
    return out
