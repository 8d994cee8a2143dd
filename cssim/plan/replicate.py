"""Replications for the planner: whole-horizon runs, per-interval counts, in parallel processes.

Every step of planning reads simulations the same way: R replications of one roster, and per
planning interval the arrivals, the lost inquiries and the inquiries answered within 3 minutes
(first reply sent within 180 s of arrival; Taobao's rule, docs/model.md#outputs ``rr_3min``) and the GMV
their orders paid. One run gives
every interval at once, so a correction iteration costs R runs whatever the number of intervals.
Runs go to ``workers`` loky processes (joblib); each is a pure function of (config, seed,
replication), so the numbers do not depend on the number of workers or on their order.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import stats

from cssim.config import Config, validate
from cssim.kernel import Simulation
from cssim.model.records import NO_ORDER, PAID_NOW, UNPAID_NUDGED
from cssim.metrics import compute

#: First replies sent within this many seconds count towards ``rr_3min``.
RR_S = 180.0


def replicate(cfg: Config, seed: int, replication: int) -> dict:
    """One replication: per-interval ``arrivals``, ``lost``, ``fast`` (answered within 3 min),
    ``gmv`` (CNY paid for orders of the inquiries arriving in the interval) and
    ``heads_<pool>``, the run's public ``metrics`` and its ``wall_s``."""
    t0 = time.perf_counter()
    rec = Simulation(cfg, seed, replication).run()
    metrics, iv = compute(cfg, rec)
    arr = rec.customers.arrival
    nb = len(iv)
    b = np.minimum((arr // (cfg.interval_min * 60.0)).astype(np.int64), nb - 1)
    sent = np.asarray(rec.first_sent, dtype=float)
    started = np.isfinite(np.asarray(rec.first_start, dtype=float))
    fast = np.bincount(b, weights=started & (sent - arr <= RR_S), minlength=nb).astype(np.int64)
    out = {
        "arrivals": iv["arrivals"].to_numpy(np.int64),
        "lost": iv["lost"].to_numpy(np.int64),
        "fast": fast,
        "gmv": np.bincount(b, weights=rec.customers.order_value * _paid(cfg, rec), minlength=nb),
        "metrics": metrics,
        "wall_s": time.perf_counter() - t0,
    }
    for p in ("ft", "temps", "bot"):
        out[f"heads_{p}"] = iv[f"heads_{p}"].to_numpy(float)
    return out


def _paid(cfg: Config, rec) -> np.ndarray:
    """Which customers paid for an order: the same rule as :func:`cssim.metrics.compute`
    (paid at once, or later with the nudged / un-nudged probability); a test checks that the
    per-interval GMV adds up to the metric."""
    order = np.asarray(rec.order, dtype=np.int64)
    unpaid = (order != NO_ORDER) & (order != PAID_NOW)
    prob = np.where(order == UNPAID_NUDGED, cfg.nudge.nudged_pay_prob, cfg.nudge.unnudged_pay_prob)
    return (order == PAID_NOW) | (unpaid & (rec.customers.u_pay_later < prob))


def ratio_ci(num: np.ndarray, den: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Ratio of sums over replications (rows) per column, and its CI half-width.

    ``sum(num) / sum(den)`` estimates a long-run rate such as lost / arrivals of one interval
    over many days. Its standard error is the ratio estimator's (delta method over the i.i.d.
    replications): ``sqrt(sum((num_k - r den_k)^2) / (n (n - 1))) / mean(den)``, times the
    Student t quantile with n - 1 degrees of freedom. NaN where no replication has a
    denominator (no arrivals), half-width NaN with one replication.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    n = num.shape[0]
    tot = den.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(tot > 0, num.sum(axis=0) / tot, np.nan)
        if n < 2:
            return r, np.full_like(r, np.nan)
        resid = num - r * den
        se = np.sqrt((resid**2).sum(axis=0) / (n * (n - 1))) / (tot / n)
    return r, stats.t.ppf(0.5 + level / 2, n - 1) * se


@dataclass
class Batch:
    """R replications of one roster: counts are arrays [replication, interval]."""

    label: str
    seed: int
    arrivals: np.ndarray
    lost: np.ndarray
    fast: np.ndarray
    gmv: np.ndarray
    heads: dict[str, np.ndarray]
    metrics: list[dict] = field(repr=False)
    wall_s: list[float]

    @property
    def replications(self) -> int:
        return int(self.arrivals.shape[0])

    def lost_rate(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: lost / arrivals pooled over replications, and its CI half-width."""
        return ratio_ci(self.lost, self.arrivals, level)

    def rr_3min(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: share answered within 3 minutes, and its CI half-width."""
        return ratio_ci(self.fast, self.arrivals, level)


class Runner:
    """Runs batches of replications on ``workers`` processes and says so on stderr.

    ``runs`` counts every replication simulated, for the benchmark and the summary."""

    def __init__(self, workers: int = 2, quiet: bool = False, say: Callable[[str], None] | None = None):
        self.workers = max(1, int(workers))
        self.quiet = quiet
        self.say = say or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.runs = 0
        self.sim_s = 0.0

    def run(self, jobs: Sequence[tuple[str, Config, int, int]]) -> list[dict]:
        """``jobs``: (label, config, seed, replication). Results in the order of ``jobs``."""
        for _, cfg, _, _ in jobs:
            validate(cfg)
        out: list[dict | None] = [None] * len(jobs)
        t0 = time.perf_counter()

        def report(k: int, res: dict) -> None:
            label, _, seed, rep = jobs[k]
            out[k] = res
            self.runs += 1
            self.sim_s += res["wall_s"]
            if not self.quiet:
                done = sum(r is not None for r in out)
                lost = int(res["lost"].sum())
                arr = int(res["arrivals"].sum())
                self.say(
                    f"plan: {label}: replication {rep + 1} (seed {seed}) done in {res['wall_s']:.1f} s, "
                    f"lost {100 * lost / max(arr, 1):.1f}% of {arr:,}  [{done}/{len(jobs)}, {time.perf_counter() - t0:.0f} s]"
                )

        if self.workers == 1 or len(jobs) == 1:
            for k, (_, cfg, seed, rep) in enumerate(jobs):
                report(k, replicate(cfg, seed, rep))
        else:
            from joblib import Parallel, delayed

            par = Parallel(n_jobs=min(self.workers, len(jobs)), backend="loky", return_as="generator_unordered")
            for k, res in par(delayed(_indexed)(k, cfg, seed, rep) for k, (_, cfg, seed, rep) in enumerate(jobs)):
                report(k, res)
        return out  # type: ignore[return-value]

    def batches(self, specs: Sequence[tuple[str, Config, int, int]]) -> list[Batch]:
        """Several batches at once (so both workers stay busy): ``specs`` are (label, config,
        seed, replications); each batch runs replications 0..R-1 of its seed."""
        jobs = [(label, cfg, seed, r) for label, cfg, seed, reps in specs for r in range(reps)]
        res = self.run(jobs)
        out, k = [], 0
        for label, _, seed, reps in specs:
            part = res[k : k + reps]
            k += reps
            out.append(
                Batch(
                    label=label,
                    seed=seed,
                    arrivals=np.stack([r["arrivals"] for r in part]),
                    lost=np.stack([r["lost"] for r in part]),
                    fast=np.stack([r["fast"] for r in part]),
                    gmv=np.stack([r["gmv"] for r in part]),
                    heads={p: np.stack([r[f"heads_{p}"] for r in part]) for p in ("ft", "temps", "bot")},
                    metrics=[r["metrics"] for r in part],
                    wall_s=[r["wall_s"] for r in part],
                )
            )
        return out

    def batch(self, label: str, cfg: Config, seed: int, reps: int) -> Batch:
        return self.batches([(label, cfg, seed, reps)])[0]


def _indexed(k: int, cfg: Config, seed: int, rep: int) -> tuple[int, dict]:
    return k, replicate(cfg, seed, rep)

