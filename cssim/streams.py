"""Random streams: one numpy Generator per purpose, all children of one ``SeedSequence``.

Customers (arrival times and every attribute: type, patience, turns, think times, funnel draws)
come from streams that staffing never touches, so two sweep points run with the same seed and
replication see exactly the same customers (common random numbers). Agents' reply times come
from one stream per pool and are drawn in blocks.
"""

from __future__ import annotations

import math

import numpy as np

from cssim.config import Dist

# The order is part of the reproducibility contract: append new purposes, never reorder.
PURPOSES = (
    "forecast",
    "arrivals",
    "attributes",
    "patience",
    "turns",
    "think",
    "midchat",
    "funnel",
    "reply_ft",
    "reply_temps",
    "reply_bot",
    "think_extra",
    "midchat_extra",
)


def make_streams(seed: int, replication: int = 0) -> dict[str, np.random.Generator]:
    """Independent generators for every purpose of replication ``replication`` of ``seed``."""
    root = np.random.SeedSequence(entropy=seed, spawn_key=(replication,))
    return {p: np.random.Generator(np.random.PCG64(s)) for p, s in zip(PURPOSES, root.spawn(len(PURPOSES)))}


def draw(d: Dist, rng: np.random.Generator, size: int, scale: float = 1.0) -> np.ndarray:
    """``size`` draws of ``d`` (times ``scale``) as float64. Lognormal and gamma are
    parametrised by mean and coefficient of variation."""
    mean = d.mean * scale
    if d.dist == "constant":
        return np.full(size, mean, dtype=float)
    if d.dist == "exponential":
        return rng.exponential(mean, size)
    if d.dist == "lognormal":
        sigma2 = math.log1p(d.cv**2)
        return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)
    if d.dist == "gamma":
        shape = 1.0 / d.cv**2
        return rng.gamma(shape, mean / shape, size)
    if d.dist == "empirical":
        return rng.choice(np.asarray(d.values, dtype=float) * scale, size)
    raise ValueError(f"dist={d.dist!r}: unknown distribution")


class BlockSampler:
    """Draws of one distribution handed out one python float at a time from numpy blocks
    (a numpy call per draw would cost more than the simulation step that uses it)."""

    __slots__ = ("_dist", "_rng", "_scale", "_block", "_buf")

    def __init__(self, d: Dist, rng: np.random.Generator, scale: float = 1.0, block: int = 16384):
        self._dist, self._rng, self._scale, self._block = d, rng, scale, block
        self._buf: list[float] = []

    def next(self) -> float:
        try:
            return self._buf.pop()
        except IndexError:
            self._buf = draw(self._dist, self._rng, self._block, self._scale).tolist()
            return self._buf.pop()
