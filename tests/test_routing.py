"""Routing as docs/model.md#routing states it, checked decision by decision against brute force.

The engine finds "the on-shift human with a free slot who can start a reply soonest" through
idle buckets and a lazily keyed heap (no scan over agents). Here every assignment of new
inquiries is re-derived by scanning all agents, and must agree:

* a human assignment goes to a human with a free slot whose start (max(typing queue end, now))
  is the minimum over all such humans; among several idle ones, one with the fewest open chats,
  full-time before temps;
* under ``human_first`` the bot gets a new inquiry only when no human with a free slot could
  start within ``routing.takeover_s`` seconds; a human gets it while the bot had a free slot
  only when that human could start within ``takeover_s``;
* nobody waits in the shop queue while an agent it could go to has a free slot.
"""

from __future__ import annotations

import math

import pytest

import cssim
from cssim.kernel import Simulation
from cssim.model.records import INF


class Checked(Simulation):
    """A simulation that checks every routing decision of a new inquiry against brute force."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.checked = {"human": 0, "bot": 0, "bot_while_human_free": 0, "queued": 0}
        self.got = {}  # customer -> the agent its chat was assigned to

    def _assign(self, agent, ch):
        self.got.setdefault(ch.cid, agent)
        super()._assign(agent, ch)

    def _brute(self):
        now = self.now
        free = [
            a for a in self.agents
            if a.pool.human and a.on_shift and a.open < a.pool.concurrency
        ]
        if not free:
            return {}, INF
        start = min(max(a.busy_until, now) for a in free)
        return {a: a.open for a in free if max(a.busy_until, now) == start}, start

    def _arrive(self, cid: int) -> None:
        best, start = self._brute()
        bot = self._free_bot()
        assert cid not in self.got
        super()._arrive(cid)
        agent = self.got.get(cid)
        takeover = self.cfg.routing.takeover_s
        if agent is None:
            assert not best and bot is None, "queued while a slot was free"
            self.checked["queued"] += 1
        elif agent.pool.human:
            assert agent in best, (agent.busy_until, start, self.now)
            fewest = min(best.values())
            assert best[agent] == fewest
            ft_ties = [a for a, k in best.items() if k == fewest and a.pool.name == "ft"]
            assert agent.pool.name == "ft" or not ft_ties
            if bot is not None and self.policy == "human_first":
                assert start - self.now <= takeover
            self.checked["human"] += 1
        else:
            self.checked["bot"] += 1
            if self.policy == "human_first":
                assert not best or start - self.now > takeover
                if best:
                    self.checked["bot_while_human_free"] += 1


BASE = [
    "arrivals.total=6000", "arrivals.profile=double11_2016", "staffing.ft.count=6", "staffing.temps.count=40",
    "staffing.bot.concurrency=60", "staffing.temps.shifts=[{start_h: 0, end_h: 3}, {start_h: 9, end_h: 24, share: 0.5}]",
]


@pytest.mark.parametrize("takeover", [0.0, 20.0, math.inf])
def test_every_routing_decision_matches_brute_force(takeover):
    cfg = cssim.load_scenario("semir_double11_2016", BASE + [f"routing.takeover_s={takeover}"])
    sim = Checked(cfg, seed=3)
    sim.run()
    c = sim.checked
    assert c["human"] > 1000 and c["bot"] > 100, c
    if takeover == math.inf:
        assert c["bot_while_human_free"] == 0
    else:
        assert c["bot_while_human_free"] > 50, c  # the takeover rule did act


def test_humans_only_and_bot_first_pick_the_soonest_human_too():
    for policy in ("humans_only", "bot_first"):
        cfg = cssim.load_scenario("semir_double11_2016", BASE + [f"routing.policy={policy}"])
        sim = Checked(cfg, seed=4)
        sim.run()
        assert sim.checked["human"] > 100, (policy, sim.checked)
