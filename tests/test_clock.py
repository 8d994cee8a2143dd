"""The clock (cssim.model.clock.Clock) processes events in exactly SimPy's order — by instant,
then priority, then scheduling order — and runs SimPy processes as SimPy's own environment
does. Exact comparisons: both are deterministic."""

from __future__ import annotations

import random

import pytest
import simpy
from simpy.events import NORMAL, URGENT

from cssim.model.clock import Clock


class Mark:
    """An event that records when and in which order it was processed."""

    _ok = True

    def __init__(self, name, log, env, spawn=()):
        self.name, self.log, self.env, self.spawn = name, log, env, spawn
        self.callbacks = [self.fire]

    def fire(self, ev):
        self.log.append((self.env.now, self.name))
        for delay, priority, name in self.spawn:  # events scheduled while this one is processed
            self.env.schedule(Mark(name, self.log, self.env), priority, delay)


def _plan(seed: int, n: int = 400):
    rng = random.Random(seed)
    # few distinct instants, so that many events share one; some spawn more at the same instant
    plan = []
    for i in range(n):
        t = float(rng.randrange(12)) / 4
        pri = rng.choice((NORMAL, NORMAL, NORMAL, URGENT, -1))
        spawn = [(rng.choice((0.0, 0.0, 0.25)), rng.choice((NORMAL, URGENT)), f"{i}.{j}") for j in range(rng.randrange(3))]
        plan.append((t, pri, f"{i}", spawn))
    return plan


def _trace(env, plan):
    log = []
    for t, pri, name, spawn in plan:
        env.schedule(Mark(name, log, env, spawn), pri, t)
    env.run()
    return log


@pytest.mark.parametrize("seed", range(6))
def test_same_order_as_simpy_with_shared_instants_and_priorities(seed):
    plan = _plan(seed)
    expected = _trace(simpy.Environment(), plan)
    got = _trace(Clock(), plan)
    assert len(got) == len(expected) > 400
    assert got == expected


def test_runs_simpy_processes_as_simpy_does():
    """An M/M/2 queue written with SimPy processes, a Resource and timeouts."""

    def trace(env):
        rng = random.Random(7)
        desk = simpy.Resource(env, capacity=2)
        log = []

        def customer(i):
            with desk.request() as req:
                yield req
                log.append((i, "start", env.now))
                yield env.timeout(rng.expovariate(1.0))
            log.append((i, "end", env.now))

        def source():
            for i in range(300):
                yield env.timeout(rng.expovariate(1.8))
                env.process(customer(i))

        env.process(source())
        env.run(until=500)
        return log

    assert trace(Clock()) == trace(simpy.Environment())


def test_peek_pending_and_an_empty_calendar():
    env = Clock()
    assert env.peek() == float("inf") and env.pending() == 0
    log = []
    env.schedule(Mark("a", log, env), NORMAL, 2.0)
    env.schedule(Mark("b", log, env), NORMAL, 2.0)
    env.schedule(Mark("c", log, env), URGENT, 2.0)
    assert env.peek() == 2.0 and env.pending() == 3
    env.run()
    assert log == [(2.0, "c"), (2.0, "a"), (2.0, "b")]
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()
