"""Replications for the planner: whole-horizon runs, per-interval counts, on ``runner.backend``.

Every step of planning reads simulations the same way: R replications of one roster, and per
planning interval the arrivals, the lost inquiries, the inquiries answered within 3 minutes
(``rr_3min``'s rule, :func:`cssim.metrics.answered_within`) and the GMV their paid orders
brought (:func:`cssim.metrics.paid_mask`). One run gives every interval at once, so a
correction iteration costs R runs whatever the number of intervals. Runs go where every
command's replications go (:func:`cssim.backends.map_replications`: ``serial``, ``loky`` or
``ray``); each is a pure function of (config, seed, replication), so the numbers do not depend
on the backend, the number of workers or their order.
"""

from __future__ import annotations

import copy
import functools
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
from scipy import stats

from cssim.config import Config, validate
from cssim.metrics import answered_within, compute, paid_mask
from cssim.kernel import Simulation


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
    out = {
        "arrivals": iv["arrivals"].to_numpy(np.int64),
        "lost": iv["lost"].to_numpy(np.int64),
        "fast": np.bincount(b, weights=answered_within(rec), minlength=nb).astype(np.int64),
        "gmv": np.bincount(b, weights=rec.customers.order_value * paid_mask(cfg, rec), minlength=nb),
        "metrics": metrics,
        "wall_s": time.perf_counter() - t0,
    }
    for p in ("ft", "temps", "bot"):
        out[f"heads_{p}"] = iv[f"heads_{p}"].to_numpy(float)
    return out


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

    def concat(self, more: "Batch") -> "Batch":
        """This batch followed by ``more`` (later replications of the same roster and seed)."""
        return Batch(
            label=self.label,
            seed=self.seed,
            arrivals=np.concatenate([self.arrivals, more.arrivals]),
            lost=np.concatenate([self.lost, more.lost]),
            fast=np.concatenate([self.fast, more.fast]),
            gmv=np.concatenate([self.gmv, more.gmv]),
            heads={p: np.concatenate([self.heads[p], more.heads[p]]) for p in self.heads},
            metrics=self.metrics + more.metrics,
            wall_s=self.wall_s + more.wall_s,
        )

    def lost_rate(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: lost / arrivals pooled over replications, and its CI half-width."""
        return ratio_ci(self.lost, self.arrivals, level)

    def rr_3min(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: share answered within 3 minutes, and its CI half-width."""
        return ratio_ci(self.fast, self.arrivals, level)


class Runner:
    """Runs batches of replications on a :mod:`cssim.backends` backend and says so on stderr.

    ``backend``, ``workers``, ``address``: as ``runner.*`` (:class:`cssim.config.Runner`).
    ``runs`` counts every replication simulated, for the benchmark and the summary."""

    def __init__(
        self, workers: int | None = None, quiet: bool = False, say: Callable[[str], None] | None = None,
        backend: str | None = None, address: str | None = None,
    ):
        if backend is None:  # Runner(workers=N): N local processes, 1 = in this process
            backend = "loky" if (workers or 1) > 1 else "serial"
        self.backend = backend
        self.workers = int(workers or 0)
        self.address = address
        self.quiet = quiet
        self.say = say or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.runs = 0
        self.sim_s = 0.0

    @classmethod
    def for_config(cls, cfg: Config, workers: int | None = None, **kw) -> "Runner":
        """The runner ``cfg`` asks for: ``runner.backend`` / ``runner.workers`` /
        ``runner.address``, or with ``workers`` (or ``plan.workers``) set, that many local
        processes (1: in this process)."""
        w = workers if workers is not None else cfg.plan.workers
        if w is not None:
            return cls(w, **kw)
        rn = cfg.runner
        return cls(rn.workers, backend=rn.backend, address=rn.address, **kw)

    def describe(self) -> str:
        if self.backend == "serial":
            return "serial (this process)"
        return f"{self.backend}, {self.workers or 'all'} worker(s)" + (f" at {self.address}" if self.address else "")

    def run(self, jobs: Sequence[tuple[str, Config, int, int]]) -> list[dict]:
        """``jobs``: (label, config, seed, replication). Results in the order of ``jobs``."""
        from cssim.backends import map_replications

        for _, cfg, _, _ in jobs:
            validate(cfg)
        if not jobs:
            return []
        done = [0]
        t0 = time.perf_counter()

        def report(k: int, res: dict) -> None:
            label, _, seed, rep = jobs[k]
            done[0] += 1
            self.runs += 1
            self.sim_s += res["wall_s"]
            if not self.quiet:
                lost = int(res["lost"].sum())
                arr = int(res["arrivals"].sum())
                self.say(
                    f"plan: {label}: replication {rep + 1} (seed {seed}) done in {res['wall_s']:.1f} s, "
                    f"lost {100 * lost / max(arr, 1):.1f}% of {arr:,}  [{done[0]}/{len(jobs)}, {time.perf_counter() - t0:.0f} s]"
                )

        # The backend maps "replications" 0..n-1 of one config; here job k is replication k, and
        # the config handed over only says where to run (the jobs travel with the function).
        host = copy.copy(jobs[0][1])
        host.runner = replace(host.runner, backend=self.backend, workers=self.workers, address=self.address)
        payload = tuple((cfg, seed, rep) for _, cfg, seed, rep in jobs)
        return map_replications(host, range(len(jobs)), on_done=report, fn=functools.partial(_job, payload))

    def batches(self, specs: Sequence[tuple[str, Config, int, int]]) -> list[Batch]:
        """Several batches at once (so every worker stays busy): ``specs`` are (label, config,
        seed, replications); each batch runs replications 0..R-1 of its seed."""
        return self.extend([(label, cfg, seed, reps, None) for label, cfg, seed, reps in specs])

    def extend(self, specs: Sequence[tuple[str, Config, int, int, "Batch | None"]]) -> list[Batch]:
        """Grow batches: ``specs`` are (label, config, seed, replications, batch so far or
        None); each batch comes back with replications 0..R-1 of its seed, the ones it had
        kept (common random numbers: replication r is the same customers whenever it runs)."""
        jobs, spans = [], []
        for label, cfg, seed, reps, have in specs:
            r0 = 0 if have is None else have.replications
            spans.append((len(jobs), r0))
            jobs.extend((label, cfg, seed, r) for r in range(r0, reps))
        res = self.run(jobs)
        out = []
        for (label, _, seed, reps, have), (k, r0) in zip(specs, spans):
            part = res[k : k + reps - r0]
            new = Batch(
                label=label,
                seed=seed,
                arrivals=np.stack([r["arrivals"] for r in part]) if part else np.zeros((0, 0), np.int64),
                lost=np.stack([r["lost"] for r in part]) if part else np.zeros((0, 0), np.int64),
                fast=np.stack([r["fast"] for r in part]) if part else np.zeros((0, 0), np.int64),
                gmv=np.stack([r["gmv"] for r in part]) if part else np.zeros((0, 0)),
                heads={p: np.stack([r[f"heads_{p}"] for r in part]) for p in ("ft", "temps", "bot")} if part else {},
                metrics=[r["metrics"] for r in part],
                wall_s=[r["wall_s"] for r in part],
            )
            out.append(new if have is None else (have if not part else have.concat(new)))
        return out

    def batch(self, label: str, cfg: Config, seed: int, reps: int) -> Batch:
        return self.batches([(label, cfg, seed, reps)])[0]


def _job(payload: tuple, _host: Config, k: int) -> dict:
    cfg, seed, rep = payload[k]
    return replicate(cfg, seed, rep)
