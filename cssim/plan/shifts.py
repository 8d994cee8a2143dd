"""Heads per block of time, written as a pool's ``count`` and ``shifts`` so the engine puts
exactly those heads on.

:mod:`cssim.roster` puts ``round(count x share)`` paid heads on each shift. A plan needs
integer heads per shift, so ``count`` is the total of the blocks' heads and each share is
``heads / count``; :func:`pool_with_blocks` checks with :func:`cssim.roster.pool_groups` that
the engine gets back exactly the integer heads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from cssim.config import Config, Shift
from cssim.roster import pool_groups


@dataclass(frozen=True)
class Block:
    """``heads`` paid heads of one pool on shift from ``start_h`` to ``end_h`` (hours)."""

    start_h: float
    end_h: float
    heads: int


def pool_with_blocks(cfg: Config, pool: str, blocks: list[Block], shrinkage: float | None = None) -> Config:
    """A copy of ``cfg`` whose ``pool`` works exactly ``blocks`` (other pools unchanged);
    ``shrinkage`` replaces the pool's shrinkage when given. Raises AssertionError if the
    roster's rounding would not reproduce the integer heads."""
    out = copy.deepcopy(cfg)
    p = getattr(out.staffing, pool)
    blocks = [b for b in blocks if b.heads > 0]
    total = sum(int(b.heads) for b in blocks)
    p.count = total
    p.shifts = [Shift(start_h=float(b.start_h), end_h=float(b.end_h), share=b.heads / total) for b in blocks]
    if shrinkage is not None:
        p.shrinkage = float(shrinkage)
    got = [(g.start_s / 3600.0, g.end_s / 3600.0, g.paid) for g in pool_groups(pool, p, out.horizon_h)]
    want = [(float(b.start_h), float(b.end_h), int(b.heads)) for b in blocks]
    assert got == want, f"roster rounding does not reproduce the planned heads of {pool}: {got} != {want}"
    return out


def staircase(heads: np.ndarray, edges_h: np.ndarray) -> list[Block]:
    """Blocks that put exactly ``heads[i]`` on shift in interval ``[edges_h[i], edges_h[i+1])``
    with the fewest shift changes: when heads rise, a new block starts; when they fall, the
    most recently started heads leave first (LIFO). A head on shift stays on until its block
    ends, so no chat is handed over at an interval edge unless the heads actually fall."""
    stack: list[list[float]] = []  # [start_h, heads] of open blocks, oldest first
    out: list[Block] = []
    level = 0
    for i, target in enumerate([*map(int, heads), 0]):
        t = float(edges_h[i])
        if target > level:
            stack.append([t, target - level])
        while level > target:
            start, h = stack[-1]
            leave = min(int(h), level - target)
            if t > start:
                out.append(Block(start, t, leave))
            if leave == h:
                stack.pop()
            else:
                stack[-1][1] = h - leave
            level -= leave
        level = target
    return sorted(out, key=lambda b: (b.start_h, b.end_h))
