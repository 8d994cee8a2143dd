"""The planner's replications run where every command's do (``runner.backend``).

Specification: a batch of planning replications is a pure function of (config, seed,
replication), so the serial, loky and (when installed) Ray backends give the same numbers bit
for bit; ``cssim.plan`` reads ``runner.backend`` / ``runner.workers`` from the config (or
``plan.workers`` / ``workers=`` as a shorthand for local processes).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import cssim
from cssim.plan.replicate import Runner

CFG = ["arrivals.total=500"]  # a small day: the numbers matter, not the size


def _batch(runner: Runner):
    cfg = cssim.load_scenario("small_shop_618", CFG)
    return runner.batches([("a", cfg, 7, 3), ("b", cfg, 8, 2)])


@pytest.mark.parametrize(
    "backend",
    ["loky", pytest.param("ray", marks=pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (cssim[cluster])"))],
)
def test_backends_give_the_serial_numbers(backend):
    serial = _batch(Runner(backend="serial", quiet=True))
    other = _batch(Runner(2, backend=backend, quiet=True))
    for s, o in zip(serial, other):
        for k in ("arrivals", "lost", "fast", "gmv"):
            np.testing.assert_array_equal(getattr(s, k), getattr(o, k))
        assert [m["lost_rate"] for m in s.metrics] == [m["lost_rate"] for m in o.metrics]


def test_extending_a_batch_keeps_its_replications():
    """Sequential replications: growing a batch from 2 to 4 gives replications 0-3 of the
    seed, the first two untouched (common random numbers)."""
    cfg = cssim.load_scenario("small_shop_618", CFG)
    r = Runner(backend="serial", quiet=True)
    two = r.batch("x", cfg, 5, 2)
    four = r.extend([("x", cfg, 5, 4, two)])[0]
    whole = r.batch("x", cfg, 5, 4)
    np.testing.assert_array_equal(four.lost, whole.lost)
    np.testing.assert_array_equal(four.arrivals[:2], two.arrivals)


def test_planner_reads_runner_backend():
    cfg = cssim.load_scenario("small_shop_618", ["runner.backend=loky", "runner.workers=2"])
    r = Runner.for_config(cfg)
    assert (r.backend, r.workers) == ("loky", 2)
    assert Runner.for_config(cfg, workers=1).backend == "serial"
    cfg = cssim.load_scenario("small_shop_618", ["plan.workers=3"])
    assert (Runner.for_config(cfg).backend, Runner.for_config(cfg).workers) == ("loky", 3)
    assert Runner.for_config(cssim.load_scenario("small_shop_618")).backend == "serial"
