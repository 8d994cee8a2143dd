"""The kernel's fused step (a customer's next message inline in ``Conversation._steps``) is its
readable method ``Conversation._next_message``: with the fused copy switched off, every record
is the same, bit for bit (and the reference model agrees with both: test_engine_identity.py)."""

from __future__ import annotations

import pytest

import cssim
from cssim.kernel import Simulation
from cssim.model.records import FIELDS


class Unfused(Simulation):
    fused = False


@pytest.mark.parametrize("scenario,overrides", [
    ("semir_double11_2016", ["arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=75",
                             "staffing.bot.concurrency=400", "warmup_h=0.5"]),
    ("small_shop_618", ["staffing.ft.concurrency=3"]),  # mid-chat drops, shifts, tasks
])
def test_fused_next_message_equals_the_readable_method(scenario, overrides):
    cfg = cssim.load_scenario(scenario, overrides=overrides)
    fused, plain = Simulation(cfg, 5).run(), Unfused(cfg, 5).run()
    for name in FIELDS:
        assert getattr(fused, name).tobytes() == getattr(plain, name).tobytes(), name
    assert fused.busy_s == plain.busy_s and fused.busy_w == plain.busy_w
    assert fused.overtime_s == plain.overtime_s and fused.end_s == plain.end_s
    assert fused.events == plain.events
