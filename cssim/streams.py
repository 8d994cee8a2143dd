"""Random streams: one numpy Generator per purpose, all children of one ``SeedSequence``.

Customers (arrival times and every attribute: type, patience, turns, think times, funnel draws)
come from streams that staffing never touches, so two sweep points run with the same seed and
replication see exactly the same customers (common random numbers). So do reply times: each
(customer, turn) has its own draw for every pool, made by blocks of customers from a generator
that depends only on the seed, the replication and the block (:func:`block_stream`).
"""

from __future__ import annotations

import math

import numpy as np

from cssim.config import Dist

# The order is part of the reproducibility contract: append new purposes, never reorder.
# (think, midchat, reply_* and *_extra are no longer drawn from: per-turn values come from the
# per-block "chats" streams since issue 11. They stay so that later purposes keep their streams.)
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
    "chats",  # parent of the per-block chat draws (cssim.model.customers.ChatDraws)
    "tasks",  # follow-up and nudge replies, one per customer, kind and human pool
    "handover",  # hand-over patience, one per customer (drawn whether or not the bot hands over)
)


def make_streams(seed: int, replication: int = 0) -> dict[str, np.random.Generator]:
    """Independent generators for every purpose of replication ``replication`` of ``seed``."""
    root = np.random.SeedSequence(entropy=seed, spawn_key=(replication,))
    return {p: np.random.Generator(np.random.PCG64(s)) for p, s in zip(PURPOSES, root.spawn(len(PURPOSES)))}


def block_stream(seed: int, replication: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` of replication ``replication``'s chat draws: a child of
    the ``chats`` purpose's seed sequence, so it depends on nothing but the three numbers."""
    key = (replication, PURPOSES.index("chats"), block)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=key)))


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
