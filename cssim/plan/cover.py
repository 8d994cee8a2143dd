"""Step 3 of planning: the cheapest shifts that cover the heads every interval needs.

An integer set cover (a covering integer program): shift templates start on a grid
(``plan.start_step_h``) with the lengths ``plan.shift_lengths_h``, inside the horizon; a head
on template t of pool p is paid for the template's length at the pool's hourly cost. Choose
integer heads x[p, t] >= 0 minimising the cost such that at every instant the working heads on
shift, counted in reference-pool heads, reach the interval's requirement:

    sum over templates covering the instant of  worth[p] x (1 - shrinkage[p]) x x[p, t]  >=  need

Instants are the segments between consecutive interval and template edges (each template
covers a segment wholly or not at all), so the cover holds at every instant. It is solved to
proven optimality (zero MIP gap) by HiGHS through :func:`scipy.optimize.milp`.

Shrinkage makes working = paid x (1 - shrinkage), and :mod:`cssim.roster` rounds that once per
pool and segment (half up; largest remainder across the shift groups). The cover reads working
heads through that same rounding (:func:`solve_rounded_cover`), so it neither falls a head short
nor pays for the head that ``(1 - shrinkage) x paid >= need`` would add where the rounding
already reaches the need. :func:`plan_roster` then reads the working heads back through the
roster itself, as a check (a short segment would raise its right-hand side and solve again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.plan.shifts import Block, pool_with_blocks
from cssim.roster import head_seconds, roster

_EPS = 1e-9


def templates(horizon_h: float, lengths_h: list[float], step_h: float) -> list[tuple[float, float]]:
    """Every (start_h, length_h): starts 0, step, 2 step, ... with start + length within the
    horizon; ordered by length, then start."""
    out = []
    for length in sorted(set(float(x) for x in lengths_h)):
        k = 0
        while k * step_h + length <= horizon_h + _EPS:
            out.append((round(k * step_h, 9), length))
            k += 1
    return out


def solve_cover(
    coverage: np.ndarray, need: np.ndarray, cost: np.ndarray, factor: np.ndarray | None = None, time_limit_s: float = 120.0
) -> np.ndarray:
    """Minimum-cost integer x >= 0 with ``(coverage * factor) @ x >= need``.

    coverage: 0/1 matrix [segment, template]; need: per segment (>= 0); cost: per template
    (> 0); factor: what one unit of a template counts for (default 1). Returns integer x.
    Raises ValueError when some segment needs heads and no template covers it.
    """
    coverage = np.asarray(coverage, dtype=float)
    need = np.asarray(need, dtype=float)
    cost = np.asarray(cost, dtype=float)
    k = coverage.shape[1]
    factor = np.ones(k) if factor is None else np.asarray(factor, dtype=float)
    rows = need > 0
    if not rows.any():
        return np.zeros(k, dtype=np.int64)
    a = coverage[rows] * factor
    uncovered = np.flatnonzero(a.sum(axis=1) <= 0)
    if uncovered.size:
        raise ValueError(f"segment {int(np.flatnonzero(rows)[uncovered[0]])}: needs heads but no shift template covers it")
    # One template alone never needs more heads than the largest need it covers.
    ub = np.array([math.ceil(max((need[rows][a[:, j] > 0] / factor[j]).max(initial=0.0), 0.0)) for j in range(k)], dtype=float)
    res = milp(
        c=cost,
        integrality=np.ones(k),
        bounds=Bounds(np.zeros(k), ub),
        constraints=LinearConstraint(a, lb=need[rows] - 1e-9, ub=np.inf),
        options={"mip_rel_gap": 0.0, "time_limit": time_limit_s},
    )
    if res.x is None:
        raise ValueError(f"shift cover: HiGHS found no solution ({res.message})")
    return np.round(res.x).astype(np.int64)


def solve_rounded_cover(
    coverage: np.ndarray, need: np.ndarray, cost: np.ndarray, pool_of: np.ndarray, keep: np.ndarray, worth: np.ndarray,
    time_limit_s: float = 120.0,
) -> np.ndarray:
    """Minimum-cost integer x >= 0 such that in every segment s with ``need[s] > 0`` the
    working heads *as the roster rounds them* reach the need:

        sum over pools p of  worth[p] x round(keep[p] x paid[p, s])  >=  need[s],
        paid[p, s] = sum of x[t] over pool p's templates t covering s,

    with ``round`` the roster's half-up rounding of a pool's working heads per segment
    (:mod:`cssim.roster`). Exact as an integer program: an integer w[p, s] <= keep[p] x
    paid[p, s] + 1/2 is at most that rounding, and the cover asks sum worth[p] w[p, s] >= need.
    ``pool_of``: each template's pool index (0..P-1); ``keep``, ``worth``: per pool.
    """
    coverage = np.asarray(coverage, dtype=float)
    need = np.asarray(need, dtype=float)
    k = coverage.shape[1]
    rows = np.flatnonzero(need > 0)
    if rows.size == 0:
        return np.zeros(k, dtype=np.int64)
    pools = int(np.max(pool_of)) + 1
    uncovered = rows[coverage[rows].sum(axis=1) <= 0]
    if uncovered.size:
        raise ValueError(f"segment {int(uncovered[0])}: needs heads but no shift template covers it")
    m = rows.size
    nw = pools * m  # w[p, j] at column k + p m + j
    a_round = np.zeros((nw, k + nw))
    a_need = np.zeros((m, k + nw))
    for p in range(pools):
        cols = np.flatnonzero(pool_of == p)
        for j, s in enumerate(rows):
            r = p * m + j
            a_round[r, cols] = -keep[p] * coverage[s, cols]
            a_round[r, k + r] = 1.0
            a_need[j, k + r] = worth[p]
    # A template alone never needs more heads than it takes to cover the largest need it covers.
    ub_x = np.array(
        [math.ceil(max((need[rows][coverage[rows, t] > 0]).max(initial=0.0) / (keep[pool_of[t]] * worth[pool_of[t]]), 0.0)) + 1 for t in range(k)],
        dtype=float,
    )
    ub_w = np.repeat([math.ceil(need[rows].max() / worth[p]) + 1 for p in range(pools)], m).astype(float)
    res = milp(
        c=np.concatenate([np.asarray(cost, dtype=float), np.zeros(nw)]),
        integrality=np.ones(k + nw),
        bounds=Bounds(np.zeros(k + nw), np.concatenate([ub_x, ub_w])),
        constraints=[LinearConstraint(a_round, lb=-np.inf, ub=0.5 + 1e-9), LinearConstraint(a_need, lb=need[rows] - 1e-9, ub=np.inf)],
        options={"mip_rel_gap": 0.0, "time_limit": time_limit_s},
    )
    if res.x is None:
        raise ValueError(f"shift cover: HiGHS found no solution ({res.message})")
    return np.round(res.x[:k]).astype(np.int64)


@dataclass
class Roster:
    """A planned roster.

    table: one row per template with heads: pool, start_h, end_h, length_h, heads (paid),
    working (after shrinkage as the roster rounds it; mean over the shift), cost_cny. config: the scenario with the
    planned pools on exactly these shifts. working: per interval and planned pool, the fewest
    working heads on shift at any instant of the interval (DataFrame); covered: per interval,
    the fewest reference-equivalent working heads. rounds: cover solves until rounding held.
    """

    table: pd.DataFrame
    config: Config
    working: pd.DataFrame
    paid: pd.DataFrame
    covered: np.ndarray
    cost_cny: float
    rounds: int


def _segments(cfg: Config, temps: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Segment edges (h) between every interval and template edge, and each segment's interval."""
    iv_edges = interval_edges_s(cfg) / 3600.0
    pts = set(np.round(iv_edges, 9))
    for s, length in temps:
        pts.update((round(s, 9), round(s + length, 9)))
    edges = np.array(sorted(p for p in pts if -_EPS <= p <= cfg.horizon_h + _EPS))
    mids = (edges[:-1] + edges[1:]) / 2
    interval = np.searchsorted(iv_edges, mids, side="right") - 1
    return edges, np.minimum(interval, iv_edges.size - 2)


def plan_roster(cfg: Config, need: np.ndarray, worth: dict[str, float]) -> Roster:
    """The cheapest roster of ``cfg.plan.pools`` on the templates putting at least ``need[i]``
    reference working heads on shift at every instant of interval i (see module docstring).
    Hourly cost 0 for every planned pool: paid hours are minimised instead."""
    pl = cfg.plan
    temps = templates(cfg.horizon_h, list(pl.shift_lengths_h), pl.start_step_h)
    edges, seg_iv = _segments(cfg, temps)
    columns = [(p, s, length) for p in pl.pools for s, length in temps]
    cov = np.array([[1.0 if s - _EPS <= edges[j] and edges[j + 1] <= s + length + _EPS else 0.0 for (_, s, length) in columns] for j in range(edges.size - 1)])
    pools = {p: getattr(cfg.staffing, p) for p in pl.pools}
    free = all(pools[p].cost_per_hour == 0 for p in pl.pools)
    cost = np.array([length * (1.0 if free else pools[p].cost_per_hour) for p, _, length in columns])
    pool_of = np.array([pl.pools.index(p) for p, _, _ in columns])
    keep = np.array([1.0 - pools[p].shrinkage for p in pl.pools])
    worth_of = np.array([worth[p] for p in pl.pools])
    seg_need = np.asarray(need, dtype=float)[seg_iv]
    rhs = seg_need.copy()
    seg_s = edges * 3600.0
    for rounds in range(1, 51):
        try:
            x = solve_rounded_cover(cov, rhs, cost, pool_of, keep, worth_of)
        except ValueError as e:
            if "segment" not in str(e):
                raise
            j = int(str(e).split()[1].rstrip(":"))
            raise ValueError(
                f"plan.start_step_h={pl.start_step_h:g}, plan.shift_lengths_h={list(pl.shift_lengths_h)}: no shift template "
                f"covers {edges[j]:g}-{edges[j + 1]:g} h, where heads are needed"
            ) from None
        planned = cfg
        for p in pl.pools:
            blocks = [Block(s, s + length, int(x[k])) for k, (q, s, length) in enumerate(columns) if q == p and x[k] > 0]
            planned = pool_with_blocks(planned, p, blocks)
        # Working heads per segment exactly as the engine will put them on (cssim.roster).
        groups = roster(planned)
        work_seg = {p: head_seconds(groups[p], seg_s) / np.diff(seg_s) for p in pl.pools}
        got = sum(worth[p] * work_seg[p] for p in pl.pools)
        short = seg_need - got
        if (short <= 1e-6).all():
            break
        rhs = rhs + np.maximum(short, 0.0)  # rounding lost a head here: ask the cover for more
    else:
        raise RuntimeError("shift cover: rounding of working heads did not settle in 50 rounds")

    rows = []
    for k, (p, s, length) in enumerate(columns):
        if x[k] > 0:
            paid = int(x[k])
            g = [g for g in groups[p] if abs(g.start_s / 3600.0 - s) < 1e-6 and abs(g.end_s / 3600.0 - s - length) < 1e-6]
            span = np.array([s, s + length]) * 3600.0
            mean_working = head_seconds(g, span)[0] / (length * 3600.0)
            rows.append(
                {"pool": p, "start_h": s, "end_h": s + length, "length_h": length, "heads": paid,
                 "working": round(float(mean_working), 2), "cost_cny": paid * length * pools[p].cost_per_hour}
            )
    table = pd.DataFrame(rows, columns=["pool", "start_h", "end_h", "length_h", "heads", "working", "cost_cny"])
    n = int(seg_iv.max()) + 1 if seg_iv.size else 0
    paid_seg = {p: head_seconds(groups[p], seg_s, paid=True) / np.diff(seg_s) for p in pl.pools}
    working = pd.DataFrame({p: [work_seg[p][seg_iv == i].min() for i in range(n)] for p in pl.pools})
    paid = pd.DataFrame({p: [paid_seg[p][seg_iv == i].min() for i in range(n)] for p in pl.pools})
    covered = np.array([got[seg_iv == i].min() for i in range(n)])
    return Roster(table, planned, working, paid, covered, float(table["cost_cny"].sum()), rounds)
