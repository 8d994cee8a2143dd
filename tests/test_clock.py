"""The clock (cssim.kernel.clock.Clock) processes events in exactly SimPy's order — by instant,
then priority, then scheduling order — and runs SimPy processes as SimPy's own environment
does. Exact comparisons: both are deterministic."""

from __future__ import annotations

import random

import numpy as np
import pytest
import simpy
from simpy.events import NORMAL, URGENT

from cssim.kernel.clock import Clock


class Mark:
    """An event that records when and in which order it was processed."""

    _ok = ok = True
    value = None

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
        pri = rng.choice((NORMAL, NORMAL, NORMAL, URGENT, -1, 2))
        spawn = [(rng.choice((0.0, 0.0, 0.25)), rng.choice((NORMAL, URGENT)), f"{i}.{j}") for j in range(rng.randrange(3))]
        plan.append((t, pri, f"{i}", spawn))
    return plan


def _trace(env, plan, stops=()):
    log = []
    for t, pri, name, spawn in plan:
        env.schedule(Mark(name, log, env, spawn), pri, t)
    for until in stops:  # stop and resume: SimPy reschedules the stop event most urgent
        env.run(until=until)
        log.append(("stopped", env.now))
    env.run()
    return log


@pytest.mark.parametrize("seed", range(6))
def test_same_order_as_simpy_with_shared_instants_and_priorities(seed):
    plan = _plan(seed)
    expected = _trace(simpy.Environment(), plan)
    got = _trace(Clock(), plan)
    assert len(got) == len(expected) > 400
    assert got == expected


@pytest.mark.parametrize("seed", range(3))
def test_same_order_as_simpy_when_a_run_stops_and_resumes(seed):
    plan = _plan(100 + seed)
    stops = (0.5, 1.25, 2.0)  # instants where events are pending
    assert _trace(Clock(), plan, stops) == _trace(simpy.Environment(), plan, stops)


def test_a_stopped_event_finishes_its_callbacks_first_when_the_run_resumes():
    """SimPy puts an event whose callback stopped the run back on the calendar, most urgent, with
    the callbacks it had left: they run first when the run resumes."""

    def trace(env):
        log = []
        for name in "abc":
            env.schedule(Mark(name, log, env), NORMAL, 1.0)
        ev = Mark("stopper", log, env)
        ev.callbacks = [ev.fire, simpy.core.StopSimulation.callback, lambda e: log.append((env.now, "rest"))]
        env.schedule(ev, NORMAL, 1.0)
        for name in "de":
            env.schedule(Mark(name, log, env), NORMAL, 1.0)
        env.run()  # stops at the stopper
        log.append(("stopped", env.now))
        env.run()
        return log

    expected = trace(simpy.Environment())
    assert expected.index((1.0, "rest")) == expected.index(("stopped", 1.0)) + 1
    assert trace(Clock()) == expected


def test_the_simulation_counts_every_event_it_scheduled():
    """``events`` = steps scheduled on the clock + tasks falling due. In Erlang-A (one turn, no
    bot, no tasks) each customer who got an agent has exactly one step (its chat's end, or its
    leaving), and the rest are the roster's head-count changes, all on the clock before the run."""
    import cssim
    from cssim.kernel.simulation import Simulation

    class Counted(Simulation):
        def _staff(self):
            super()._staff()
            self.roster_steps = self.env.pending()

    cfg = cssim.load_scenario("erlang_a", ["horizon_h=3"])
    sim = Counted(cfg, seed=3)
    rec = sim.run()
    assert sim.roster_steps > 0 and sim.dues == 0
    assert rec.events == sim.roster_steps + int(np.isfinite(rec.assigned).sum())


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
