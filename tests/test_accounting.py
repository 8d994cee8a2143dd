"""Accounting rules of MODEL.md (warm-up, shrinkage, the horizon drain, overtime, common random
numbers), each a fault found in review with the test that failed before its fix."""

from __future__ import annotations

import math

import numpy as np

import cssim
from cssim.config import Pool, Shift
from cssim.engine import OPEN, Simulation, draw_customers
from cssim.roster import head_seconds, pool_groups
from cssim.streams import make_streams


def test_warmup_off_an_interval_edge_costs_exactly_the_span_after_it():
    """MODEL.md Outputs: every metric, cost included, covers exactly the span after warmup_h.
    erlang_a: 10 agents at 50 CNY/h, 2 h horizon, warm-up 15 min, 60-minute intervals: 1.75 h
    x 10 x 50 = 875 CNY (it was 500: the whole first interval was dropped)."""
    cfg = cssim.load_scenario(
        "erlang_a", ["horizon_h=2", "warmup_h=0.25", "interval_min=60", "staffing.ft.cost_per_hour=50"]
    )
    m = cssim.simulate(cfg, seed=1).metrics
    assert math.isclose(m["cost_labor"], 1.75 * 10 * 50, rel_tol=1e-12)
    # Utilization over the same span: busy seconds after the warm-up over 1.75 h x 10 agents.
    assert 0.0 < m["utilization_ft"] <= 1.0


def test_shrinkage_is_rounded_once_per_pool_not_per_group():
    """MODEL.md step 9: five groups of 2 heads at 10% shrinkage work 9 heads (18 x 0.9 ... 10 x
    0.9 = 9), not 10 (each group of 2 rounding 1.8 up to 2)."""
    pool = Pool(count=10, shrinkage=0.1, shifts=[Shift(0, 8, 0.2) for _ in range(5)])
    groups = pool_groups("ft", pool, 8.0, np.arange(0, 8 * 3600 + 1, 900.0))
    working = head_seconds(groups, np.array([0.0, 8 * 3600.0]))[0] / (8 * 3600.0)
    assert working == 9
    assert sum(g.paid for g in groups) == 10  # breaks are paid
    cfg = cssim.load_scenario(
        "small_shop_618",
        ["staffing.ft.count=10", "staffing.ft.shrinkage=0.1", "horizon_h=8",
         "staffing.ft.shifts=[{start_h: 0, end_h: 8, share: 0.2}, {start_h: 0, end_h: 8, share: 0.2}, "
         "{start_h: 0, end_h: 8, share: 0.2}, {start_h: 0, end_h: 8, share: 0.2}, {start_h: 0, end_h: 8, share: 0.2}]"],
    )
    res = cssim.simulate(cfg, seed=1)
    assert (res.intervals["heads_ft"] == 9).all()


def _late_chats():
    cfg = cssim.load_scenario(
        "small_shop_618",
        ["arrivals.total=20000", "arrivals.profile=flat", "staffing.ft.count=60", "staffing.ft.shifts=[]",
         "routing.policy=humans_only", "horizon_h=6", "interval_min=15"],
    )
    sim = Simulation(cfg, seed=7)
    return cfg, sim, sim.run()


def test_chats_open_at_the_horizon_are_drained_and_convert():
    """MODEL.md step 10: the clock runs on until every chat that began before the horizon has
    ended, so the last interval's chats place orders like any other's. Presale customers who
    arrived in the last 15 minutes order as often as the others, within 4 binomial SE (they
    ordered far less when the clock stopped at the horizon)."""
    cfg, sim, rec = _late_chats()
    taken = [c for c in range(sim.n) if rec.assigned[c] < math.inf]
    assert all(rec.end[c] != OPEN for c in taken)  # nothing left open
    assert rec.end_s > rec.horizon_s
    arr = rec.customers.arrival
    presale = rec.customers.presale
    ordered = np.asarray(rec.order) != 0
    last = presale & (arr >= rec.horizon_s - 900)
    rest = presale & (arr < rec.horizon_s - 900)
    p = ordered[rest].mean()
    n = int(last.sum())
    assert n > 300
    assert abs(ordered[last].mean() - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_every_reply_of_a_drained_chat_is_counted():
    """avg_response_s is over all replies of the measured inquiries, the drain's included
    (README, metrics table): a chat that ended normally got one reply per turn, also when it
    arrived just before the horizon."""
    cfg, sim, rec = _late_chats()
    from cssim.engine import DONE

    late_done = [c for c in range(sim.n) if rec.end[c] == DONE and rec.customers.arrival[c] >= rec.horizon_s - 900]
    assert len(late_done) > 300
    assert all(rec.resp_n[c] == sim.turns[c] for c in late_done)
    m = cssim.simulate(cfg, seed=7).metrics
    assert math.isclose(m["avg_response_s"], sum(rec.resp_sum) / sum(rec.resp_n), rel_tol=1e-12)


def test_overtime_is_paid_and_reported():
    """MODEL.md step 9: an agent leaving its shift finishes its chats; that time is overtime,
    paid at the pool's hourly cost and reported apart: cost_total = labor + overtime + bot."""
    cfg = cssim.load_scenario(
        "small_shop_618", ["staffing.ft.cost_per_hour=30", "arrivals.total=4000"]
    )
    m = cssim.simulate(cfg, seed=2).metrics
    assert m["overtime_h_ft"] > 0
    assert math.isclose(m["cost_overtime"], m["overtime_h_ft"] * 30 + m["overtime_h_temps"] * cfg.staffing.temps.cost_per_hour)
    assert math.isclose(m["cost_total"], m["cost_labor"] + m["cost_overtime"] + m["cost_bot"])


def _chat_draws(cfg, seed=5):
    from cssim.model.customers import BLOCK, ChatDraws

    cust = draw_customers(cfg, make_streams(seed, 0))
    d = ChatDraws(cfg, seed, 0, cust.turns)
    return cust, [d.block(b) for b in range((cust.n + BLOCK - 1) // BLOCK)], BLOCK


def test_customers_do_not_depend_on_when_the_bot_escalates():
    """Common random numbers (MODEL.md Randomness): sweeping
    routing.bot_turns_before_escalation must not move any customer's think times, mid-chat
    patience or reply times: gap k (and the reply to message k) of customer c is the same draw
    whatever the setting."""
    draws = {}
    for e in (1, 2, 4):
        cfg = cssim.load_scenario(
            "small_shop_618", [f"routing.bot_turns_before_escalation={e}",
                               "conversation.turns_dist=geometric", "conversation.turns=3"]
        )
        draws[e] = _chat_draws(cfg)
    base, base_blocks, B = draws[1]
    compared = 0
    for e, (c, blocks, _) in draws.items():
        assert np.array_equal(c.turns, base.turns)
        for cid in range(0, base.n, 7):
            x, y = base_blocks[cid // B], blocks[cid // B]
            i = cid % B
            k = max(int(base.turns[cid]) - 1, 1)  # the gaps both settings have (turns are the same draws)
            for name in ("think", "midpat"):
                a = getattr(x, name)[x.gap[i]: x.gap[i] + k]
                b = getattr(y, name)[y.gap[i]: y.gap[i] + k]
                assert a.tolist() == b.tolist(), (e, cid, name)
            for p in range(3):
                a = x.reply[p][x.rep[i]: x.rep[i] + k + 1]
                b = y.reply[p][y.rep[i]: y.rep[i] + k + 1]
                assert a.tolist() == b.tolist(), (e, cid, p)
            compared += 1
    assert compared > 300


def test_chat_draws_do_not_depend_on_staffing():
    """Common random numbers across a head-count sweep, and results independent of event order:
    every (customer, turn) value, including each pool's reply time, is drawn from a stream that
    depends only on the seed, the replication and the customer's block, never on who is staffed."""
    cfgs = [
        cssim.load_scenario("small_shop_618", over)
        for over in ([], ["staffing.temps.count=0", "staffing.bot.count=0"], ["staffing.ft.count=40"])
    ]
    (c0, b0, _), *rest = [_chat_draws(cfg) for cfg in cfgs]
    for c, blocks, _ in rest:
        assert np.array_equal(c.arrival, c0.arrival) and np.array_equal(c.task_reply, c0.task_reply)
        for x, y in zip(b0, blocks):
            assert x.gap == y.gap and x.rep == y.rep
            assert x.think.tolist() == y.think.tolist() and x.midpat.tolist() == y.midpat.tolist()
            assert all(x.reply[p].tolist() == y.reply[p].tolist() for p in range(3))
