"""The seed facts (docs/model.md#seed-facts) reproduced in controlled settings, and reproducibility.

Tolerances are sampling error: a share estimated from k Bernoulli trials is compared with its
source value within 4 binomial standard errors (a false alarm about 1 in 16,000); a mean of n
i.i.d. draws within 4 standard errors of the mean.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np

import cssim
from cssim.kernel import Simulation

AMPLE = [  # so many agents that nobody ever waits: the mechanisms show without queueing noise
    "staffing.ft.count=400",
    "staffing.ft.shifts=[]",
    "staffing.temps.count=0",
    "arrivals.total=40000",
    "arrivals.profile=flat",
]


def within_binomial(successes: int, trials: int, p: float, z: float = 4.0) -> bool:
    return abs(successes / trials - p) <= z * math.sqrt(p * (1 - p) / trials)


def test_nudged_orders_pay_at_035_and_unnudged_at_025():
    """One shop's test: 35 of 100 nudged unpaid orders paid, 25 of 100 without a nudge."""
    cfg = cssim.load_scenario(
        "semir_double11_2016", AMPLE + ["customers.returning_share=0.5", "routing.policy=humans_only"]
    )
    m = cssim.simulate(cfg, seed=11).metrics
    unpaid_at_first = m["orders"] - m["paid_at_once"]
    nudged = m["nudges_done"]
    unnudged = unpaid_at_first - nudged
    unnudged_paid = m["paid_orders"] - m["paid_at_once"] - m["nudged_paid"]
    assert nudged > 1000 and unnudged > 1000
    assert within_binomial(m["nudged_paid"], nudged, 0.35)
    assert within_binomial(unnudged_paid, unnudged, 0.25)


def test_bot_with_speed_10_replies_ten_times_faster():
    """A pool's reply time is its base reply time divided by its speed: with nobody waiting,
    the bot's mean response is a tenth of a human's on the same base distribution."""
    # Concurrency 1 and no follow-ups or nudges: a human is idle whenever its customer writes,
    # so every response time is exactly one reply time.
    base = AMPLE + [
        "arrivals.total=20000", "staffing.ft.concurrency=1", "followup.enabled=false", "nudge.enabled=false",
        "staffing.bot.concurrency=100000", "staffing.bot.speed=10",
    ]
    human = cssim.simulate(cssim.load_scenario("semir_double11_2016", base + ["routing.policy=humans_only"]), seed=5)
    bot = cssim.simulate(
        cssim.load_scenario("semir_double11_2016", base + ["routing.policy=bot_first", "routing.bot_resolve_prob=1.0"]),
        seed=5,
    )
    assert bot.metrics["bot_share"] == 1.0 and human.metrics["bot_share"] == 0.0
    # Lognormal reply, mean 12 s, cv 0.8; about 10 replies a chat: n ~ 2e5 replies each.
    mean, cv = 12.0, 0.8
    n_h = human.metrics["responded"] * 9  # lower bound on replies: keeps the bound conservative
    tol_h = 4 * cv * mean / math.sqrt(n_h)
    assert human.metrics["lost_inquiries"] == 0
    assert abs(human.metrics["avg_response_s"] - mean) <= tol_h
    assert abs(bot.metrics["avg_response_s"] - mean / 10) <= 4 * cv * (mean / 10) / math.sqrt(bot.metrics["responded"] * 9)


def test_human_first_bot_share_rises_as_humans_saturate():
    """human_first: the bot only takes a chat when no human slot is free. With ample humans it
    has no share at all; as heads shrink (same customers: common random numbers) its share of
    receptions rises."""
    shares = []
    for heads in (400, 60, 30, 15, 8):
        cfg = cssim.load_scenario(
            "semir_double11_2016",
            AMPLE + [f"staffing.ft.count={heads}", "arrivals.total=20000", "routing.policy=human_first"],
        )
        shares.append(cssim.simulate(cfg, seed=2).metrics["bot_share"])
    assert shares[0] == 0.0
    assert all(b > a for a, b in zip(shares[1:], shares[2:])), shares
    assert shares[-1] > 0.3


def test_common_random_numbers_same_customers_at_every_staffing_level():
    """Arrivals and customer attributes come from streams staffing never touches."""
    a = Simulation(cssim.load_scenario("semir_double11_2016", ["staffing.temps.count=0"]), seed=4)
    b = Simulation(cssim.load_scenario("semir_double11_2016", ["staffing.temps.count=1500", "routing.policy=bot_first"]), seed=4)
    for field in ("arrival", "patience", "turns", "u_order", "order_value", "presale", "silent", "task_reply"):
        assert np.array_equal(getattr(a.cust, field), getattr(b.cust, field)), field
    for blk in (0, 7, 100):  # per-turn draws: think, mid-chat patience, every pool's replies
        x, y = a.draws.block(blk), b.draws.block(blk)
        assert x.think.tolist() == y.think.tolist() and x.midpat.tolist() == y.midpat.tolist()
        assert [r.tolist() for r in x.reply] == [r.tolist() for r in y.reply]
    c = Simulation(cssim.load_scenario("semir_double11_2016"), seed=4, replication=1)
    assert not np.array_equal(a.cust.arrival[:100], c.cust.arrival[:100])


_RUN = """
import json, cssim
cfg = cssim.load_scenario("small_shop_618", ["arrivals.total=4000"])
print(json.dumps(cssim.simulate(cfg, seed=9).metrics, sort_keys=True))
"""


def test_same_config_and_seed_give_identical_numbers_across_processes():
    """Bit-for-bit reproducibility, also across interpreter processes with different hash
    seeds (nothing may depend on set or dict order of objects hashed by address)."""
    outs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        outs.append(subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True, env=env, check=True).stdout)
    assert outs[0] == outs[1]
    cfg = cssim.load_scenario("small_shop_618", ["arrivals.total=4000"])
    here = cssim.simulate(cfg, seed=9).metrics
    assert json.dumps(here, sort_keys=True) == outs[0].strip()
