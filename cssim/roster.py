"""Who is on shift when: each pool's head count turned into groups of agents with start and end.

Shared by the engine (which puts agents on and off shift) and the metrics (head-seconds for
utilization, paid hours for cost), so both read the same roster.

Shrinkage (breaks, meetings) is applied once per pool and time segment, never per small group
(docs/model.md#shifts): within every segment between planning-interval edges and shift starts/ends,
the pool works ``round(paid heads on shift x (1 - shrinkage))`` heads, shared out among the groups
on shift by largest remainder. Five groups of 2 heads at 10% shrinkage rounded one by one would
keep all 10 heads working; rounded for the pool they give 9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cssim.config import POOLS, Config, Pool


@dataclass(frozen=True)
class Group:
    """``paid`` rostered heads (breaks are paid) on shift from ``start_s`` to ``end_s``.
    ``spans``: ``(from_s, to_s, working)`` pieces covering the shift, each with the number of
    heads actually working then (after shrinkage)."""

    pool: str
    start_s: float
    end_s: float
    paid: int
    spans: tuple[tuple[float, float, int], ...]

    @property
    def working(self) -> int:
        """The most heads this group ever has working at once (agents the engine creates)."""
        return max((w for _, _, w in self.spans), default=0)


def _round(x: float) -> int:
    return int(math.floor(x + 0.5 + 1e-9))


def pool_groups(name: str, pool: Pool, horizon_h: float, edges_s: np.ndarray | None = None) -> list[Group]:
    """The groups of one pool. No shifts: the whole head count works the whole horizon.
    ``edges_s``: planning-interval edges; shrinkage is rounded once per pool in every segment
    between them (and between shift starts and ends)."""
    horizon = horizon_h * 3600.0
    shifts = pool.shifts or [None]
    blocks = []
    for s in shifts:
        start_h, end_h, share = (0.0, horizon_h, 1.0) if s is None else (s.start_h, s.end_h, s.share)
        paid = _round(pool.count * share)
        if paid > 0:
            blocks.append((start_h * 3600.0, end_h * 3600.0, paid))
    if not blocks:
        return []
    cuts = {0.0, horizon}
    if edges_s is not None:
        cuts.update(float(e) for e in edges_s)
    for a, b, _ in blocks:
        cuts.update((a, b))
    cuts = sorted(c for c in cuts if 0.0 <= c <= horizon)
    keep = 1.0 - pool.shrinkage
    spans: list[list[tuple[float, float, int]]] = [[] for _ in blocks]
    prev = [-1] * len(blocks)  # each group's working heads in the previous segment
    for a, b in zip(cuts[:-1], cuts[1:]):
        on = [i for i, (s, e, _) in enumerate(blocks) if s <= a < e]
        if not on:
            continue
        exact = {i: blocks[i][2] * keep for i in on}
        total = _round(sum(exact.values()))
        base = {i: int(math.floor(x + 1e-9)) for i, x in exact.items()}
        # Largest remainder; ties go to a group that already had the extra head (fewer
        # agents flip on and off), then to the earlier group.
        order = sorted(on, key=lambda i: (-(exact[i] - base[i]), prev[i] != base[i] + 1, i))
        for i in order[: max(0, total - sum(base.values()))]:
            base[i] += 1
        for i in on:
            w = base[i]
            if spans[i] and spans[i][-1][2] == w and spans[i][-1][1] == a:
                spans[i][-1] = (spans[i][-1][0], b, w)
            else:
                spans[i].append((a, b, w))
            prev[i] = w
    return [
        Group(name, s, e, paid, tuple(spans[i])) for i, (s, e, paid) in enumerate(blocks) if spans[i]
    ]


def roster(cfg: Config, edges_s: np.ndarray | None = None) -> dict[str, list[Group]]:
    """Groups of every pool, by pool name."""
    if edges_s is None:
        from cssim.arrivals import interval_edges_s

        edges_s = interval_edges_s(cfg)
    return {p: pool_groups(p, getattr(cfg.staffing, p), cfg.horizon_h, edges_s) for p in POOLS}


def head_seconds(groups: list[Group], edges_s: np.ndarray, paid: bool = False) -> np.ndarray:
    """Agent-seconds on shift inside each interval [edges[i], edges[i+1]) (working heads, or
    paid heads with ``paid``)."""
    out = np.zeros(edges_s.size - 1)
    lo_e, hi_e = edges_s[:-1], edges_s[1:]
    for g in groups:
        pieces = ((g.start_s, g.end_s, g.paid),) if paid else g.spans
        for a, b, heads in pieces:
            out += (np.clip(hi_e, a, b) - np.clip(lo_e, a, b)) * heads
    return out
