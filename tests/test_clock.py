"""The kernel's calendar (cssim.kernel.clock.Clock) processes steps by instant, then in the order
they were scheduled, including steps scheduled at the current instant while it is processed
(docs/model.md#order-of-events), and the kernel counts every step it scheduled. Exact
comparisons with a plain heap of ``(instant, scheduling number)``: both are deterministic."""

from __future__ import annotations

import heapq
import random
from itertools import count

import numpy as np
import pytest

from cssim.kernel.clock import Clock


def _plan(seed: int, n: int = 400):
    rng = random.Random(seed)
    # few distinct instants, so that many steps share one; some schedule more while processed
    return [(float(rng.randrange(12)) / 4, f"{i}", [(rng.choice((0.0, 0.0, 0.25)), f"{i}.{j}") for j in range(rng.randrange(3))])
            for i in range(n)]


def _run_clock(plan):
    clock, log = Clock(), []
    spawns = {name: spawn for _, name, spawn in plan}
    for t, name, _ in plan:
        clock.push(t, name)
    while clock.times:
        t = clock.times[0]
        name = clock.pop_first(t)
        log.append((t, name))
        for delay, child in spawns.get(name, ()):
            clock.push(t + delay, child)
    return log, clock.pending()


def _run_heap(plan):
    heap, seq, log = [], count(), []
    spawns = {name: spawn for _, name, spawn in plan}
    for t, name, _ in plan:
        heapq.heappush(heap, (t, next(seq), name))
    while heap:
        t, _, name = heapq.heappop(heap)
        log.append((t, name))
        for delay, child in spawns.get(name, ()):
            heapq.heappush(heap, (t + delay, next(seq), child))
    return log


@pytest.mark.parametrize("seed", range(6))
def test_by_instant_then_scheduling_order(seed):
    plan = _plan(seed)
    got, left = _run_clock(plan)
    assert got == _run_heap(plan) and len(got) > 400 and left == 0


def test_the_simulation_counts_every_event_it_scheduled():
    """``events`` = steps scheduled on the clock + tasks falling due. In Erlang-A (one turn, no
    bot, no tasks) each customer who got an agent has exactly one step (its chat's end, or its
    leaving), and the rest are the roster's head-count changes, all on the clock before the run."""
    import cssim
    from cssim.kernel.simulation import Simulation

    class Counted(Simulation):
        def _staff(self):
            super()._staff()
            self.roster_steps = self.clock.pending()

    cfg = cssim.load_scenario("erlang_a", ["horizon_h=3"])
    sim = Counted(cfg, seed=3)
    rec = sim.run()
    assert sim.roster_steps > 0 and sim.dues == 0
    assert rec.events == sim.roster_steps + int(np.isfinite(rec.assigned).sum())
