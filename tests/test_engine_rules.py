"""Engine rules from MODEL.md that whole-run metrics would hide, checked on the engine's own
per-customer records and agent state."""

from __future__ import annotations

from collections import Counter

import cssim
from cssim.engine import DROPPED, OPEN, Simulation


def test_agents_coming_on_shift_take_the_queue_least_loaded_first():
    """MODEL.md step 2: among humans, the least-loaded agent. Six agents join at 09:00 to a
    queue built up overnight; each gets its share, not the first ones all five slots."""
    cfg = cssim.load_scenario(
        "small_shop_618",
        [
            "routing.policy=humans_only", "staffing.ft.count=6", "staffing.ft.concurrency=5", "arrivals.total=40",
            "staffing.ft.shifts=[{start_h: 0, end_h: 2}, {start_h: 9, end_h: 9.0005}]",
            "customers.patience={dist: constant, mean: 40000}", "customers.silent_share=0",
            "horizon_h=9.0005",  # stop two seconds after the shift starts
        ],
    )
    sim = Simulation(cfg, seed=1)
    sim.run()
    day = [a for a in sim.agent_of if a is not None and a.off_s > 9 * 3600]
    load = Counter(id(a) for a in day)
    assert len(load) == 6 and 12 <= sum(load.values()) < 30  # fewer waiting than slots
    assert max(load.values()) - min(load.values()) <= 1, sorted(load.values())


def test_escalated_customer_leaves_at_its_deadline_even_if_no_human_comes():
    """Mid-chat patience while waiting for a human after the bot: a customer whose deadline
    has passed has dropped by then (no human on shift at night)."""
    cfg = cssim.load_scenario(
        "small_shop_618",
        ["routing.policy=bot_first", "routing.bot_resolve_prob=0.3", "followup.include_drops=true",
         "staffing.ft.shifts=[{start_h: 0, end_h: 2}, {start_h: 9, end_h: 20}]"],
    )
    sim = Simulation(cfg, seed=1)
    rec = sim.run()
    waiting_past_deadline = [
        c for c in range(sim.n)
        if rec.escalated[c] and rec.end[c] == OPEN and sim.agent_of[c] is None and sim.deadline[c] <= rec.horizon_s
    ]
    assert waiting_past_deadline == []
    assert sum(1 for c in range(sim.n) if rec.escalated[c] and rec.end[c] == DROPPED) > 50


def test_a_human_reception_needs_a_human_reply():
    """An escalated chat counts as a human reception only once a human has replied to it."""
    cfg = cssim.load_scenario("small_shop_618", ["routing.policy=bot_first", "routing.bot_resolve_prob=0.3"])
    sim = Simulation(cfg, seed=2)
    rec = sim.run()
    bot_turns = cfg.routing.bot_turns_before_escalation
    for c in range(sim.n):
        if rec.human_pool[c] >= 0:
            assert rec.escalated[c] and rec.resp_n[c] > bot_turns
