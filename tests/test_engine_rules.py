"""Engine rules from docs/model.md that whole-run metrics would hide, checked on the engine's own
per-customer records and agent state."""

from __future__ import annotations

from collections import Counter

import cssim
from cssim.kernel import Simulation
from cssim.model.records import LOST_HANDOVER, OPEN


class _Logged(Simulation):
    """Logs every assignment: (instant, agent, the starts of all on-shift humans with a free slot)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.log = []

    def _assign(self, agent, ch):
        now = self.now
        free = {a: (max(a.busy_until, now), a.open) for a in self.agents if a.on_shift and a.open < a.pool.concurrency}
        self.log.append((now, agent, free))
        super()._assign(agent, ch)


class _Escalations(Simulation):
    """Keeps every escalated chat (the open-chat object) to look at after the run."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.escalations = []

    def _escalate(self, ch):
        self.escalations.append(ch)
        super()._escalate(ch)


def test_agents_coming_on_shift_take_the_queue_by_the_routing_pick():
    """docs/model.md#routing: customers waiting when six agents come on shift at 09:00 go, one by one,
    to the agent who can start a reply soonest (ties: fewer open chats). So the first six go
    to six different (idle) agents, and every later one to an agent with the earliest start."""
    cfg = cssim.load_scenario(
        "small_shop_618",
        [
            "routing.policy=humans_only", "staffing.ft.count=6", "staffing.ft.concurrency=5", "arrivals.total=40",
            "staffing.ft.shifts=[{start_h: 0, end_h: 2}, {start_h: 9, end_h: 9.0005}]",
            "customers.patience={dist: constant, mean: 40000}", "customers.silent_share=0",
            "horizon_h=9.0005",  # arrivals stop two seconds after the shift starts
        ],
    )
    sim = _Logged(cfg, seed=1)
    sim.run()
    at_nine = [(agent, free) for t, agent, free in sim.log if t == 9 * 3600]
    assert 12 <= len(at_nine) < 30  # fewer waiting than slots
    assert len({id(a) for a, _ in at_nine[:6]}) == 6
    for agent, free in at_nine:
        best = min(free.values())
        assert free[agent] == best, (free[agent], best)
    assert Counter(id(a) for a, _ in at_nine).most_common(1)[0][1] < 5  # nobody got a full hand


def test_escalated_customer_leaves_at_its_deadline_even_if_no_human_comes():
    """Hand-over patience while waiting for a human after the bot: a customer whose deadline
    has passed has left by then (no human on shift at night), a lost inquiry (docs/model.md#abandonment)."""
    cfg = cssim.load_scenario(
        "small_shop_618",
        ["routing.policy=bot_first", "routing.bot_resolve_prob=0.3", "followup.include_drops=true",
         "staffing.ft.shifts=[{start_h: 0, end_h: 2}, {start_h: 9, end_h: 20}]"],
    )
    sim = _Escalations(cfg, seed=1)
    rec = sim.run()
    assert len(sim.escalations) > 50
    waiting_past_deadline = [
        ch.cid for ch in sim.escalations
        if rec.end[ch.cid] == OPEN and ch.agent is None and ch.deadline <= rec.horizon_s
    ]
    assert waiting_past_deadline == []
    assert sum(1 for c in range(sim.n) if rec.escalated[c] and rec.end[c] == LOST_HANDOVER) > 50


def test_a_human_reception_needs_a_human_reply():
    """An escalated chat counts as a human reception only once a human has replied to it."""
    cfg = cssim.load_scenario("small_shop_618", ["routing.policy=bot_first", "routing.bot_resolve_prob=0.3"])
    sim = Simulation(cfg, seed=2)
    rec = sim.run()
    bot_turns = cfg.routing.bot_turns_before_escalation
    for c in range(sim.n):
        if rec.human_pool[c] >= 0:
            assert rec.escalated[c] and rec.resp_n[c] > bot_turns
