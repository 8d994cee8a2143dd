"""The extension example of docs/extending.md, run as written: a bot outage from 00:05 to 00:20
sends every inquiry to humans, and a supervisor calls in 50 temps once the shop queue has held
over 200 customers for 5 minutes. The checks read the records."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cssim.model.pools import BOT

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def test_extending_example_runs_and_does_what_it_says() -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    ns: dict = {}
    exec(compile(code, str(DOC), "exec"), ns)
    plain, extended, calls = ns["plain"], ns["extended"], ns["calls"]
    # the supervisor called in once, with over 200 waiting, no sooner than 5 minutes into the
    # outage (the queue only builds once the bot is out) plus 5 minutes held
    assert len(calls) == 1 and calls[0][1] > 200 and calls[0][0] >= 10 * 60
    # the call-in's 50 temps x 4 h are paid like a rostered group
    extra_cost = extended.metrics["cost_labor"] - plain.metrics["cost_labor"]
    assert abs(extra_cost - 50 * 4 * ns["cfg"].staffing.temps.cost_per_hour) < 1e-6 * extra_cost
    assert extended.metrics["bot_share"] > 0


def test_bot_outage_sends_every_inquiry_to_humans() -> None:
    import cssim
    from cssim.model import Shop

    cfg = cssim.load_scenario("semir_double11_2016", overrides=[
        "arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=75", "staffing.bot.concurrency=400"])

    def outage(env, shop):
        def run():
            yield env.timeout(300)
            shop.router.close_bot()
            yield env.timeout(900)
            shop.router.open_bot()
        env.process(run())

    shop = Shop(cfg, 1)
    rec = shop.run(outage)
    seated = rec.assigned
    during = (seated >= 300) & (seated < 1200)
    assert during.sum() > 100
    assert not np.any(rec.first_pool[during] == BOT)
    assert np.any(rec.first_pool[seated < 300] == BOT) and np.any(rec.first_pool[seated >= 1200] == BOT)
