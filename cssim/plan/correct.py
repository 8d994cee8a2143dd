"""Step 2 of planning: correct the Erlang-A requirement by simulation, interval by interval.

What the simulation knows and the queue model does not (the bot, concurrency with a typing
queue per agent, multi-turn chats, follow-ups and nudges, non-exponential patience, queues
carried from one interval into the next) is put back by iterative staffing (in the spirit of
Feldman, Mandelbaum, Massey & Whitt 2008, "Staffing of time-varying queues to achieve
time-stable performance", Management Science 54(2)):

1. Simulate the whole horizon twice on the same customers: the planned reference pool on shift
   exactly ``heads[i]`` in interval i (no shrinkage: these are *working* heads), and one step
   fewer (``heads[i] - max(1, head_tolerance x heads[i])``) in every interval; read every
   interval's lost rate (and 3-minute rate) from both at once.
2. Move a requirement only on a significant difference (:func:`misses`, 99% CIs): up when
   ``heads`` misses the target beyond its CI, down when one step fewer meets it beyond its CI;
   otherwise the interval is settled where it is. While an interval still searching (or whose
   heads just moved) is undecided, both rosters get more replications of the same customers
   (doubling, :func:`sequential`) up to ``plan.max_replications``; undecided there, it keeps
   its heads. So the Erlang-A start stands unless the simulation shows it wrong: in the
   M/M/n+M case the plan is the exact minimum.
3. A miss is raised to where the simulation's own loss curve (a log-linear secant through the
   runs) or the Erlang-A fitted to the run (:meth:`~cssim.plan.requirements.QueueModel.fit_load`)
   puts the target; a trim likewise, or by bisection towards what is known to miss when one
   step fewer is far below the ceiling. Brackets keep it monotone: never up to heads known to
   meet beyond noise, never down to heads known to miss beyond noise.
4. Stop when no interval moves (or after ``plan.max_iterations``). Whether all of them hold
   *together* is then checked by the verification.

Common random numbers: every iteration simulates the *same* customers (seed ``cfg.seed``,
replications 0..R-1: arrivals, patience, turns, think times and funnel draws never depend on
staffing, and neither do reply times: each (customer, turn) has its own draw), so two rosters
differ only by the heads, and the same seed gives the same iterations and the same
requirement, bit for bit. After a change earlier in the day later customers find agents free
at other moments, so an interval's loss at fixed heads moves by about its sampling error when
its neighbours change: that is why a move needs a significant difference.

``objective=profit`` (:func:`correct_profit`) searches, with the same brackets and common
random numbers, for the heads where one more head (10% more) no longer pays for itself in the
interval's gross profit: margin x GMV of the inquiries arriving in it, measured by simulation,
so the bot, conversion by pool, response-time effects, drops and follow-ups all count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from cssim.arrivals import interval_edges_s
from cssim.config import Config
from cssim.plan.replicate import Batch, Runner
from cssim.plan.requirements import QueueModel
from cssim.plan.shifts import pool_with_blocks, staircase


@dataclass
class Correction:
    """The corrected requirement: working heads of the reference pool per interval.

    reachable: False where even the cap misses the target. met: whether the interval met its
    target in the last simulated run. lost_rate, rr_3min: per interval in the last run (pooled
    over the common-random-number replications). log: one row per iteration and interval.
    """

    required: np.ndarray
    reachable: np.ndarray
    met: np.ndarray
    lost_rate: np.ndarray
    rr_3min: np.ndarray
    best_lost_rate: np.ndarray
    log: pd.DataFrame
    iterations: int
    converged: bool
    replications: int = 0
    resolution: np.ndarray | None = None
    flat: np.ndarray | None = None
    day_log: pd.DataFrame | None = None


def targets(cfg: Config, model: QueueModel) -> np.ndarray:
    """Intervals with a target: not excluded, and with arrivals expected."""
    mask = model.rates > 0
    mask[list(cfg.plan.exclude_intervals)] = False
    return mask


def caps(cfg: Config, model: QueueModel, start: np.ndarray) -> np.ndarray:
    """The most working heads the search tries per interval: ``plan.max_heads``, or else three
    times the larger of the Erlang-A start and the offered load (a third of the heads would
    then carry all the work without any queue)."""
    if cfg.plan.max_heads is not None:
        return np.full(model.n_intervals, int(cfg.plan.max_heads), dtype=np.int64)
    offered = np.array([model.offered_heads(i) for i in range(model.n_intervals)])
    return np.maximum(10, 3 * np.maximum(start, np.ceil(offered))).astype(np.int64)


def correction_replications(cfg: Config) -> int:
    """Replications per correction iteration: ``plan.correction_replications``, else
    ``plan.replications``."""
    pl = cfg.plan
    return int(pl.correction_replications if pl.correction_replications is not None else pl.replications)


def staffed(cfg: Config, heads: np.ndarray) -> Config:
    """``cfg`` with the reference planned pool on shift exactly ``heads[i]`` (working, no
    shrinkage) in interval i, and the other planned pools off."""
    ref, *others = cfg.plan.pools
    edges_h = interval_edges_s(cfg) / 3600.0
    out = pool_with_blocks(cfg, ref, staircase(heads, edges_h), shrinkage=0.0)
    for p in others:
        getattr(out.staffing, p).count = 0
        getattr(out.staffing, p).shifts = []
    return out


def meets(cfg: Config, lost: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """Per interval: lost rate at most the ceiling and (if set) 3-minute rate at least the
    floor. An interval without arrivals meets any target."""
    pl = cfg.plan
    ok = ~(lost > pl.max_lost_rate)  # NaN (no arrivals) counts as met
    if pl.min_rr_3min is not None:
        ok &= ~(rr < pl.min_rr_3min)
    return ok


def _step(cfg: Config, heads: float) -> int:
    return max(1, int(math.floor(cfg.plan.head_tolerance * max(heads, 0))))


def _fmt_interval(cfg: Config, i: int) -> str:
    a = i * cfg.interval_min
    b = min(a + cfg.interval_min, cfg.horizon_h * 60)
    return f"#{i} {int(a // 60):02d}:{int(a % 60):02d}-{int(b // 60):02d}:{int(b % 60):02d}"


def _changes(cfg: Config, old: np.ndarray, new: np.ndarray, limit: int = 10) -> str:
    idx = np.flatnonzero(old != new)
    parts = [f"{_fmt_interval(cfg, i)} {old[i]:,}->{new[i]:,}" for i in idx[:limit]]
    more = f" ... and {idx.size - limit} more" if idx.size > limit else ""
    return ", ".join(parts) + more


#: Two-sided confidence of the correction's decisions: a run moves a requirement only when the
#: interval's 99% CI lies wholly on one side of the target.
DECISION_LEVEL = 0.99


def misses(cfg: Config, batch: Batch, level: float = DECISION_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Per interval: (misses significantly, meets significantly) at two-sided ``level``: the
    whole CI of the lost rate above the ceiling (or of the 3-minute rate below the floor), or
    the whole CI on the right side of every target. Neither: within the resolution of this
    many replications. An interval with no arrivals is neither."""
    lost, lost_hw = batch.lost_rate(level)
    rr, rr_hw = batch.rr_3min(level)
    lost_hw, rr_hw = np.nan_to_num(lost_hw, nan=np.inf), np.nan_to_num(rr_hw, nan=np.inf)
    tau = cfg.plan.max_lost_rate
    with np.errstate(invalid="ignore"):
        miss = lost - lost_hw > tau
        meet = lost + lost_hw < tau
        if cfg.plan.min_rr_3min is not None:
            miss |= rr + rr_hw < cfg.plan.min_rr_3min
            meet &= rr - rr_hw > cfg.plan.min_rr_3min
    return miss & ~np.isnan(lost), meet & ~np.isnan(lost)


def sequential(
    cfg: Config, runner: Runner, specs: list[tuple[str, Config]], seed: int, undecided: Callable[[list[Batch]], np.ndarray],
    first: int, most: int,
) -> list[Batch]:
    """Run the rosters of ``specs`` on replications 0..first-1 of ``seed`` together, then double
    the replications of all of them while ``undecided(batches)`` flags any interval, up to
    ``most``. Replication r is the same customers in every roster (common random numbers)."""
    reps = min(first, most)
    batches: list[Batch | None] = [None] * len(specs)
    while True:
        batches = runner.extend([(label, c, seed, reps, b) for (label, c), b in zip(specs, batches)])
        if reps >= most or not undecided(batches).any():
            return batches  # type: ignore[return-value]
        reps = min(most, 2 * reps)


def correct(
    cfg: Config,
    model: QueueModel,
    start: np.ndarray,
    runner: Runner,
    say: Callable[[str], None] = lambda msg: None,
) -> Correction:
    """Simulation-corrected working heads of ``cfg.plan.pools[0]`` per interval, starting
    from ``start`` (e.g. :func:`~cssim.plan.requirements.starting_requirement`); see the module
    docstring for the rule."""
    if cfg.plan.objective == "profit":
        return correct_profit(cfg, model, start, runner, say)
    pl = cfg.plan
    tgt = targets(cfg, model)
    cap = caps(cfg, model, start)
    h = np.where(tgt, np.minimum(np.asarray(start, dtype=np.int64), cap), 0)
    n = model.n_intervals
    good = np.full(n, np.inf)  # fewest heads seen meeting the target beyond noise
    bad = np.full(n, -1.0)  # most heads seen missing it beyond noise
    best = np.full(n, np.inf)
    loads = np.full(n, np.nan)
    rows: list[dict] = []
    hist: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    converged = False
    it = 0
    lost = rr = resolution = np.full(n, np.nan)
    settled = ~tgt
    h_prev = np.full(n, -1, dtype=np.int64)
    reps_used = 0
    for it in range(1, pl.max_iterations + 1):
        probe = np.where(tgt, np.maximum(h - np.array([_step(cfg, x) for x in h]), 0), 0)
        has_probe = tgt & (h > 0)
        watch = tgt & (~settled | (h != h_prev))

        def undecided(bs: list[Batch]) -> np.ndarray:
            miss_h, meet_h = misses(cfg, bs[0])
            miss_p, meet_p = misses(cfg, bs[1])
            # At h: miss or not beyond noise; if not a miss, one step fewer: meets or not.
            # Only intervals still searching, or whose heads just moved, ask for more
            # replications; one settled at unchanged heads is re-read at the replications it gets.
            return watch & ((~miss_h & ~meet_h) | (~miss_h & has_probe & ~miss_p & ~meet_p))

        a, b = sequential(
            cfg, runner, [(f"correction {it}", staffed(cfg, h)), (f"correction {it}, one step fewer", staffed(cfg, probe))],
            cfg.seed, undecided, correction_replications(cfg), pl.max_replications,
        )
        reps_used = a.replications
        lost, lost_hw = a.lost_rate()
        rr, _ = a.rr_3min()
        _, resolution = a.lost_rate(DECISION_LEVEL)
        lost_p, _ = b.lost_rate()
        miss_h, _ = misses(cfg, a)
        miss_p, meet_p = misses(cfg, b)
        meet_p &= has_probe
        best = np.where(tgt & (lost < best), lost, best)
        best = np.where(tgt & has_probe & (lost_p < best), lost_p, best)
        nxt = h.copy()
        settled = ~tgt.copy()
        for i in np.flatnonzero(tgt):
            hi = int(h[i])
            hist[i].append((hi, float(lost[i])))
            if miss_h[i]:
                bad[i] = max(bad[i], hi)
                if hi >= cap[i]:
                    settled[i] = True  # even the cap misses: unreachable
                    continue
                up = _guess(cfg, model, i, hist[i], hi, float(lost[i]), int(cap[i]), loads)
                if up is None or up <= hi or not lost[i] > pl.max_lost_rate:  # the 3-minute rate misses, or no estimate
                    up = max(up or 0, int(math.ceil(hi * 1.15)) + 1)
                if len(hist[i]) >= 2 and hist[i][-2][0] < hi and hist[i][-2][0] <= bad[i]:
                    up = max(up, (hi + int(good[i])) // 2 if np.isfinite(good[i]) else 2 * hi + 1)  # missed twice running: bisect or double
                nxt[i] = min(up, int(good[i]) if np.isfinite(good[i]) else int(cap[i]), int(cap[i]))
                nxt[i] = max(nxt[i], hi + 1)
            elif meet_p[i]:
                # One step fewer meets beyond noise: trim, to where the Erlang-A fitted to the
                # probe's loss puts the target, never to heads seen missing.
                good[i] = min(good[i], int(probe[i]))
                down = None
                if lost_p[i] > 0:
                    load = model.fit_load(i, int(probe[i]), float(lost_p[i]))
                    if load is not None:
                        loads[i] = load
                        down = model.min_heads(i, pl.max_lost_rate, load, int(cap[i]))[0]
                    if lost[i] > 0 and lost_p[i] > lost[i] and pl.max_lost_rate > 0:
                        # The simulation's own curve through h and the probe (same customers),
                        # linear in log loss: where it reaches the ceiling; the bolder of the two.
                        slope = (math.log(lost_p[i]) - math.log(lost[i])) / (int(probe[i]) - hi)
                        sec = int(math.ceil(int(probe[i]) + (math.log(pl.max_lost_rate) - math.log(lost_p[i])) / slope))
                        down = sec if down is None else min(down, sec)
                halve = (int(bad[i]) + 1 + int(probe[i])) // 2 if bad[i] >= 0 else int(probe[i]) // 2
                if down is None or pl.min_rr_3min is not None or not lost_p[i] > pl.max_lost_rate / 3:
                    # No loss curve to read, or one step fewer is far below the ceiling (the
                    # bot answers, say): bisect towards what is known to miss (0 if nothing).
                    down = halve if down is None else min(down, halve)
                nxt[i] = max(min(down, int(probe[i])), int(bad[i]) + 1, 0)
            else:
                # h does not miss beyond noise and one step fewer does not meet beyond noise:
                # the requirement stays (for the Erlang-A start: the exact value stands).
                settled[i] = True
                if miss_p[i]:
                    bad[i] = max(bad[i], int(probe[i]))
        for i in range(n):
            rows.append(
                {
                    "iteration": it, "interval": i, "heads": int(h[i]), "replications": a.replications,
                    "lost_rate": lost[i], "lost_rate_ci95": lost_hw[i], "resolution": resolution[i],
                    "probe_heads": int(probe[i]), "probe_lost_rate": lost_p[i], "rr_3min": rr[i],
                    "misses": bool(miss_h[i]), "probe_meets": bool(meet_p[i]),
                    "known_good": good[i] if np.isfinite(good[i]) else np.nan,
                    "known_bad": bad[i] if bad[i] >= 0 else np.nan, "settled": bool(settled[i]), "fitted_load": loads[i],
                    "next_heads": int(nxt[i]),
                }
            )
        moving = np.flatnonzero(nxt != h)
        say(
            f"plan: correction iteration {it}/{pl.max_iterations} ({a.replications} replications): {int(miss_h[tgt].sum())} of {int(tgt.sum())} intervals miss "
            f"beyond noise, {int(meet_p[tgt].sum())} meet with a step fewer; {int(settled[tgt].sum())} settled; {h.sum():,} head-intervals"
        )
        if moving.size == 0:
            converged = bool(settled.all())
            break
        say(f"plan:   next heads: {_changes(cfg, h, nxt)}")
        h_prev, h = h, nxt
    # Out of reach: the cap itself missed beyond noise.
    reachable = ~(tgt & (bad >= cap))
    return Correction(
        required=np.asarray(h, dtype=np.int64),
        reachable=reachable,
        met=~miss_h | ~tgt,
        lost_rate=lost,
        rr_3min=rr,
        best_lost_rate=np.where(np.isfinite(best), best, np.nan),
        log=pd.DataFrame(rows),
        iterations=it,
        converged=converged,
        replications=reps_used,
        resolution=resolution,
    )


def _guess(cfg: Config, model: QueueModel, i: int, hist: list[tuple[int, float]], heads: int, lost: float, cap: int, loads: np.ndarray) -> int | None:
    """Where interval i's lost rate crosses the ceiling, estimated from what the runs saw.

    With runs on both sides of the ceiling (or two above it), the lost rate is interpolated
    (extrapolated) linearly in log between the nearest two: a secant step on the simulation's
    own curve. Otherwise the Erlang-A fitted to this run
    (:meth:`~cssim.plan.requirements.QueueModel.fit_load`). None when no run saw a loss.
    A ceiling of 0 is out of every finite staffing's reach in the model: the cap."""
    tau = cfg.plan.max_lost_rate
    if not tau > 0:
        return cap
    seen: dict[int, float] = {}
    for hh, ll in hist:
        if ll > 0 and np.isfinite(ll):
            seen[hh] = ll  # the latest run at a head count wins
    over = sorted((hh, ll) for hh, ll in seen.items() if ll > tau)
    under = sorted((hh, ll) for hh, ll in seen.items() if ll <= tau)
    pair = None
    if over and under and over[-1][0] < under[0][0]:
        pair = (over[-1], under[0])
    elif len(over) >= 2 and not under:
        pair = (over[-2], over[-1])
    if pair is not None:
        (h1, l1), (h2, l2) = pair
        slope = (math.log(l2) - math.log(l1)) / (h2 - h1)
        if slope < 0:
            return int(min(cap, max(0, math.ceil(h1 + (math.log(tau) - math.log(l1)) / slope - 1e-9))))
    if not lost > 0:
        return None
    load = model.fit_load(i, heads, lost)
    if load is None:
        return None
    loads[i] = load
    return model.min_heads(i, tau, load, cap)[0]


def working_head_cost(cfg: Config, model: QueueModel) -> np.ndarray:
    """CNY one *working* head of the reference pool costs per interval (paid heads are working
    heads / (1 - shrinkage))."""
    ref = getattr(cfg.staffing, cfg.plan.pools[0])
    return ref.cost_per_hour / 3600.0 / (1.0 - ref.shrinkage) * model.lengths_s


#: The profit search compares heads h with h + max(1, PROFIT_PROBE x h) in every interval.
PROFIT_PROBE = 0.1


def correct_profit(
    cfg: Config,
    model: QueueModel,
    start: np.ndarray,
    runner: Runner,
    say: Callable[[str], None] = lambda msg: None,
) -> Correction:
    """``objective=profit``: per interval, the working heads beyond which more heads cost more
    than the gross profit they bring (module docstring). Each iteration runs two rosters on
    the same seed: heads ``h`` and ``h + d`` (``d = max(1, 10% of h)``) in every interval; an
    interval's marginal profit is ``margin x (GMV(h + d) - GMV(h)) - d x cost`` for the
    inquiries arriving in it (paired over replications, so the customers are the same);
    replications are added (doubling) until every interval's marginal profit is positive or
    negative beyond its 99% CI, or ``plan.max_replications`` is reached: an interval still
    undecided there is *flat within noise* (reported), and the cheaper side is kept. Where it
    is positive beyond its 99% CI the optimum lies above ``h`` (``bad``), otherwise at or below
    (``good``): heads must show that they pay. The first heads where 10% more do not pay are
    the *reference*; below it, fewer heads are compared with the reference itself (not with 10%
    more), so the search returns the cheapest heads whose profit is not below the reference's
    beyond noise -- the cheapest on the flat -- and no chain of steps, each within noise, can
    walk off it. Above the reference, the
    next ``h`` is the secant root of the marginal profit through the last two runs, kept in the
    bracket (without one: double, halve, bisect), until ``good - bad <= max(d, head_tolerance x
    good)``. Adding heads everywhere at once also
    credits an interval with what the interval before it gained (less carried-over queue), a
    small bias towards more heads."""
    pl = cfg.plan
    tgt = targets(cfg, model)
    cap = caps(cfg, model, start)
    n = model.n_intervals
    h = np.where(tgt, np.minimum(np.asarray(start, dtype=np.int64), cap), 0)
    head_cost = working_head_cost(cfg, model)
    margin = cfg.economics.gross_margin
    reps = correction_replications(cfg)
    good = np.full(n, np.inf)
    bad = np.full(n, -1.0)
    hist: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    rows: list[dict] = []
    converged = False
    it = 0
    lost = rr = np.full(n, np.nan)
    settled = ~tgt
    reps_seen = 0
    top = np.full(n, -1, dtype=np.int64)  # the fewest heads seen where 10% more do not pay: the reference
    for it in range(1, pl.max_iterations + 1):
        step10 = np.maximum(1, np.ceil(PROFIT_PROBE * h)).astype(np.int64)
        # Below the reference, the probe *is* the reference: fewer heads are judged against it
        # directly, so no chain of steps each within noise can walk off the flat.
        d = np.where(tgt, np.where((top >= 0) & (h < top), top - h, np.minimum(step10, cap - h)), 0)

        def gains(bs: list[Batch]) -> np.ndarray:
            return margin * (bs[1].gmv - bs[0].gmv) - d * head_cost  # CNY per replication and interval

        def undecided(bs: list[Batch]) -> np.ndarray:
            g = gains(bs)
            return tgt & (d > 0) & ~(np.abs(g.mean(axis=0)) > np.nan_to_num(_t_halfwidth(g, DECISION_LEVEL), nan=np.inf))

        # Replications are added (doubling, common random numbers) until every interval's
        # marginal profit is positive or negative beyond its 99% CI, or plan.max_replications.
        a, b = sequential(
            cfg, runner, [(f"profit search {it}", staffed(cfg, h)), (f"profit search {it}, +10% heads", staffed(cfg, h + d))],
            cfg.seed, undecided, reps, pl.max_replications,
        )
        lost, _ = a.lost_rate()
        rr, _ = a.rr_3min()
        reps_seen = a.replications
        gain_k = gains([a, b])
        gain, gain_hw = gain_k.mean(axis=0), _t_halfwidth(gain_k, DECISION_LEVEL)
        flat = tgt & (d > 0) & ~(np.abs(gain) > np.nan_to_num(gain_hw, nan=np.inf))
        nxt = h.copy()
        for i in np.flatnonzero(tgt):
            hi = int(h[i])
            if d[i] > 0:
                hist[i].append((hi, gain[i] / d[i]))  # marginal profit per extra head (CNY)
            # More heads pay only if their marginal profit is positive beyond its 95% CI:
            # per-interval profit is noisy next to a few heads' cost, and a noisy "pays" would
            # ratchet heads up; heads have to earn their place.
            below = top[i] >= 0 and hi < top[i]
            if d[i] == 0 or not gain[i] - np.nan_to_num(gain_hw[i], nan=np.inf) > 0:
                good[i] = min(good[i], hi)  # more heads do not (demonstrably) pay, or the cap is reached
                if not below and top[i] < 0:
                    top[i] = hi
            else:
                bad[i] = max(bad[i], hi)
            g, lo = good[i], bad[i]
            if np.isfinite(g) and (g - lo <= max(int(np.ceil(PROFIT_PROBE * g)), _step(cfg, g)) or d[i] == 0 and gain[i] > 0):
                settled[i] = True
                nxt[i] = int(g)
                continue
            if top[i] >= 0:  # bracketed below the reference: bisect
                nxt[i] = max(int(lo) + 1, (int(g) + int(lo)) // 2 if lo >= 0 else int(g) // 2)
                continue
            # The next heads: the secant root of the marginal profit through the last two runs
            # (it falls as heads are added), kept inside the bracket and within 4x of now;
            # without a usable secant, double or halve until bracketed, then bisect.
            lo_ok, hi_ok = int(lo) + 1, (int(g) - 1 if np.isfinite(g) else int(cap[i]))
            guess = _secant_root(hist[i])
            if guess is not None:
                nxt[i] = min(max(guess, lo_ok, hi // 4), hi_ok, 4 * hi + int(d[i]))
            elif not np.isfinite(g):
                nxt[i] = min(hi_ok, max(hi + int(d[i]), 2 * hi))
            elif lo < 0:
                nxt[i] = max(lo_ok, hi // 2)
            else:
                nxt[i] = int((g + lo) // 2)
        for i in range(n):
            rows.append(
                {
                    "iteration": it, "interval": i, "heads": int(h[i]), "probe_heads": int(h[i] + d[i]), "reference_heads": int(top[i]),
                    "lost_rate": lost[i], "rr_3min": rr[i], "marginal_profit_cny": gain[i], "marginal_profit_ci99": gain_hw[i],
                    "known_good": good[i] if np.isfinite(good[i]) else np.nan, "known_bad": bad[i] if bad[i] >= 0 else np.nan,
                    "settled": bool(settled[i]), "next_heads": int(nxt[i]), "replications": a.replications, "flat": bool(flat[i]),
                }
            )
        pays = np.flatnonzero(tgt & (gain - np.nan_to_num(gain_hw, nan=np.inf) > 0) & (d > 0))
        say(
            f"plan: profit search iteration {it}/{pl.max_iterations} ({a.replications} replications): 10% more heads pay (beyond their 99% CI) in {pays.size} "
            f"of {int(tgt.sum())} intervals, flat within noise in {int(flat.sum())}; {int(settled[tgt].sum())} settled; {h.sum():,} head-intervals"
        )
        if settled[tgt].all() or np.array_equal(nxt, h):
            converged = bool(settled[tgt].all())
            h = nxt
            break
        say(f"plan:   next heads: {_changes(cfg, h, nxt)}")
        h = nxt
    else:
        h = np.where(np.isfinite(good), good, h).astype(np.int64)
    ref_heads = np.where(tgt & (top >= 0), np.maximum(top, h), h).astype(np.int64)
    h, day_rows = day_check(cfg, runner, h, ref_heads, cap, tgt, head_cost, margin, reps, say)
    # Flat within noise: the last look at an interval's final heads could not tell whether 10%
    # more pay, even at plan.max_replications: the cheaper side was kept.
    last = {}
    for r in rows:
        if r["heads"] == h[r["interval"]]:
            last[r["interval"]] = r["flat"]
    flat_final = np.array([bool(last.get(i, False)) for i in range(n)])
    log = pd.DataFrame(rows)
    return Correction(
        day_log=pd.DataFrame(day_rows),
        flat=flat_final,
        required=np.asarray(h, dtype=np.int64),
        reachable=np.ones(n, dtype=bool),
        met=np.ones(n, dtype=bool),
        lost_rate=lost,
        rr_3min=rr,
        best_lost_rate=np.full(n, np.nan),
        log=log,
        iterations=it,
        converged=converged,
        replications=reps_seen,
    )


#: Where the day-level check looks between the per-interval answer (0) and the reference (1):
#: the share of each interval's gap given back. And how many 10% steps it may take above the
#: reference.
DAY_GRID = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0)
DAY_STEPS_UP = 4
#: Halvings between the last grid point below the flat and the first on it.
DAY_REFINE = 2


def day_check(
    cfg: Config, runner: Runner, h: np.ndarray, ref: np.ndarray, cap: np.ndarray, tgt: np.ndarray,
    head_cost: np.ndarray, margin: float, first: int, say: Callable[[str], None] = lambda msg: None,
) -> tuple[np.ndarray, list[dict]]:
    """The profit search's whole-day test (docs/planning.md#the-profit-objective).

    Per interval, a few heads' marginal profit is small next to its sampling error, so an
    interval is often *flat within noise* and keeps the cheaper heads; over a whole day those
    small shortfalls add up to a loss no single interval could show. This check judges the day
    (the whole horizon: twelve days of the two-wave scenario are one "day" here):

    1. **Up.** The reference ``ref`` (per interval, the fewest heads where 10% more did not pay)
       is compared with 10% more heads in every interval, paired over replications of the same
       customers; while the day's profit of the richer roster is higher beyond its 99% CI, the
       reference moves up (at most ``DAY_STEPS_UP`` times).
    2. **Line.** Rosters between ``h`` (the per-interval answer, ``h <= ref``) and the reference
       (``DAY_GRID``: that share of every interval's gap given back) run on the same customers;
       the one with the highest day profit is the *best*. Then, cheapest first, each is compared
       with the best, paired, adding replications (doubling, from ``first``) until the 99% CI of
       the difference excludes 0 or ``plan.max_replications`` is reached. The first that is not
       below the best beyond noise is taken, and the gap to the grid point before it (below the
       flat) is halved ``DAY_REFINE`` times: the cheapest roster on the flat of this line, to
       a quarter of a grid step.

    A day's profit is ``margin x GMV`` less the working heads' paid cost, over the target
    intervals, the rule each interval uses. Returns the chosen heads and a log row per
    comparison."""
    pl = cfg.plan
    rows: list[dict] = []

    def day_profit(b: Batch, heads: np.ndarray, reps: int) -> np.ndarray:
        return margin * b.gmv[:reps][:, tgt].sum(axis=1) - float((heads * head_cost)[tgt].sum())  # CNY per replication

    def compare(label: str, lo: np.ndarray, hi: np.ndarray, lo_batch: Batch | None, hi_batch: Batch | None) -> tuple[float, float, Batch, Batch]:
        """Day profit of ``hi`` minus ``lo`` (CNY), its 99% CI half-width, and both batches."""
        reps = min(first, pl.max_replications)
        while True:
            lo_batch, hi_batch = runner.extend(
                [(f"{label}: fewer heads", staffed(cfg, lo), cfg.seed, reps, lo_batch), (f"{label}: more heads", staffed(cfg, hi), cfg.seed, reps, hi_batch)]
            )
            g = day_profit(hi_batch, hi, reps) - day_profit(lo_batch, lo, reps)
            mean = float(g.mean())
            hw = float(_t_halfwidth(g[:, None], DECISION_LEVEL)[0])
            rows.append(
                {
                    "comparison": label, "replications": reps, "fewer_heads": int(lo[tgt].sum()), "more_heads": int(hi[tgt].sum()),
                    "extra_cost_cny": float(((hi - lo) * head_cost)[tgt].sum()), "profit_difference_cny": mean, "ci99_cny": hw,
                }
            )
            if reps >= pl.max_replications or abs(mean) > np.nan_to_num(hw, nan=np.inf):
                return mean, hw, lo_batch, hi_batch
            reps = min(pl.max_replications, 2 * reps)

    def pays(mean: float, hw: float) -> bool:
        return bool(mean - np.nan_to_num(hw, nan=np.inf) > 0)

    ref = np.where(tgt, np.minimum(np.maximum(ref, h), cap), h).astype(np.int64)
    ref_batch: Batch | None = None
    for k in range(1, DAY_STEPS_UP + 1):
        up = np.where(tgt, np.minimum(cap, ref + np.maximum(1, np.ceil(PROFIT_PROBE * ref)).astype(np.int64)), ref)
        if np.array_equal(up, ref):
            break
        mean, hw, ref_batch, up_batch = compare(f"day check: reference +10% ({k})", ref, up, ref_batch, None)
        say(f"plan: profit day check: 10% more heads than the reference earn {mean:+,.0f} +- {hw:,.0f} CNY over the horizon (99% CI, {rows[-1]['replications']} replications)")
        if not pays(mean, hw):
            break
        ref, ref_batch = up, up_batch
    if np.array_equal(ref, h):
        return h, rows
    gap = ref - h
    line: list[np.ndarray] = []
    for f in DAY_GRID:
        c = h + np.ceil(f * gap).astype(np.int64)
        if not any(np.array_equal(c, x) for x in line):
            line.append(c)
    reps0 = min(first, pl.max_replications)
    have: list[Batch | None] = [ref_batch if np.array_equal(c, ref) else None for c in line]
    line_b = runner.extend([(f"day check: {int(c[tgt].sum()):,} head-intervals", staffed(cfg, c), cfg.seed, reps0, b) for c, b in zip(line, have)])
    means = [float(day_profit(b, c, reps0).mean()) for b, c in zip(line_b, line)]
    k_best = int(np.argmax(means))
    say(
        "plan: profit day check: day profit along the line to the reference (" + f"{reps0} replications): "
        + ", ".join(f"{int(c[tgt].sum()):,} head-intervals {m:,.0f} CNY" for c, m in zip(line, means))
    )
    best, best_b = line[k_best], line_b[k_best]

    def on_flat(c: np.ndarray, b: Batch | None) -> bool:
        nonlocal best_b
        mean, hw, _, best_b = compare(f"day check: {int(c[tgt].sum()):,} vs the best {int(best[tgt].sum()):,} head-intervals", c, best, b, best_b)
        ok = not pays(mean, hw)
        say(
            f"plan: profit day check: {int(c[tgt].sum()):,} head-intervals vs the best line point's {int(best[tgt].sum()):,}: the best earns {mean:+,.0f} +- {hw:,.0f} CNY over the horizon "
            f"more (99% CI, {rows[-1]['replications']} replications) -> {'on the flat' if ok else 'below the flat'}"
        )
        return ok

    k_ans = next((k for k in range(k_best) if on_flat(line[k], line_b[k])), k_best)
    if k_ans == 0:
        return line[0], rows
    # Between the last point below the flat and the first on it: DAY_REFINE halvings.
    lo, hi = line[k_ans - 1], line[k_ans]
    for _ in range(DAY_REFINE):
        mid = lo + np.ceil(0.5 * (hi - lo)).astype(np.int64)
        if np.array_equal(mid, hi) or np.array_equal(mid, lo):
            break
        if on_flat(mid, None):
            hi = mid
        else:
            lo = mid
    return hi, rows


def _secant_root(hist: list[tuple[int, float]]) -> int | None:
    """Heads where the line through the last two (heads, marginal profit) points crosses zero;
    None unless the points differ in heads and the marginal profit falls with heads."""
    if len(hist) < 2:
        return None
    (h1, m1), (h2, m2) = hist[-2], hist[-1]
    if h1 == h2 or not (m2 - m1) / (h2 - h1) < 0:
        return None
    return max(0, int(round(h2 - m2 * (h2 - h1) / (m2 - m1))))


def _t_halfwidth(x: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Student-t CI half-width of the column means of ``x`` [replication, interval]."""
    k = x.shape[0]
    if k < 2:
        return np.full(x.shape[1], np.nan)
    return stats.t.ppf(0.5 + level / 2, k - 1) * x.std(axis=0, ddof=1) / math.sqrt(k)
