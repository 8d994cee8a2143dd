"""Conservation laws and bounds on every run (MODEL.md "Outputs"), property-based over random
valid configs: whatever the routing, staffing, shifts, turns, patience and tasks,

* inquiries = lost before a first reply + lost after a hand-over + responded + still waiting at
  the end, for a first reply or for a human after a hand-over (the last read from the engine's
  queues, not from the arrays the others are computed from);
* every order is paid or unpaid; paid = paid at once + paid later;
* every rate is in [0, 1], utilization included; counts are non-negative;
* the bot has no share when it is not used; nobody is nudged twice or when returning.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cssim
from cssim.config import Config, validate

DISTS = st.sampled_from(["exponential", "lognormal", "gamma", "constant"])
RATES = (
    "lost_rate", "response_rate", "sl_30s", "rr_3min", "bot_share", "payment_rate", "inquiry_conversion",
    "utilization_ft", "utilization_temps", "utilization_bot",
)


@st.composite
def configs(draw) -> Config:
    horizon = draw(st.sampled_from([1.0, 2.0, 3.0]))
    ov = [
        f"horizon_h={horizon}",
        f"warmup_h={draw(st.sampled_from([0.0, 0.25]))}",
        f"interval_min={draw(st.sampled_from([10.0, 15.0, 60.0]))}",
        f"arrivals.total={draw(st.integers(0, 600))}",
        f"arrivals.profile={draw(st.sampled_from(['flat', 'double11_2016', '618']))}",
        f"arrivals.forecast_cv={draw(st.sampled_from([0.0, 0.3]))}",
        f"customers.patience.dist={draw(DISTS)}",
        f"customers.patience.mean={draw(st.floats(5, 300))}",
        f"customers.patience.cv={draw(st.floats(0.2, 2.0))}",
        f"customers.silent_share={draw(st.floats(0, 1))}",
        f"customers.handover_patience={{dist: {draw(DISTS)}, mean: {draw(st.floats(5, 300))}, cv: 0.8}}",
        f"customers.midchat_patience.mean={draw(st.floats(5, 300))}",
        f"conversation.turns={draw(st.integers(1, 5))}",
        f"conversation.turns_dist={draw(st.sampled_from(['constant', 'geometric', 'poisson']))}",
        f"routing.policy={draw(st.sampled_from(['human_first', 'bot_first', 'humans_only']))}",
        f"routing.bot_resolve_prob={draw(st.floats(0, 1))}",
        f"routing.bot_turns_before_escalation={draw(st.integers(1, 3))}",
        f"routing.escalation_priority={draw(st.booleans())}",
        f"followup.enabled={draw(st.booleans())}",
        f"followup.include_drops={draw(st.booleans())}",
        f"nudge.enabled={draw(st.booleans())}",
        f"nudge.after_min={draw(st.sampled_from([1.0, 20.0]))}",
        f"funnel.delay_effect.kind={draw(st.sampled_from(['none', 'exponential', 'linear']))}",
    ]
    for pool in ("ft", "temps", "bot"):
        ov += [
            f"staffing.{pool}.count={draw(st.integers(0 if pool != 'ft' else 1, 6))}",
            f"staffing.{pool}.concurrency={draw(st.integers(1, 4))}",
            f"staffing.{pool}.speed={draw(st.sampled_from([0.5, 1.0, 10.0]))}",
            f"staffing.{pool}.shrinkage={draw(st.sampled_from([0.0, 0.2]))}",
        ]
        if draw(st.booleans()):
            a = draw(st.floats(0, horizon - 0.1))
            b = draw(st.floats(a + 0.05, horizon))
            ov.append(f"staffing.{pool}.shifts=[{{start_h: {a}, end_h: {b}, share: 1.0}}]")
        else:
            ov.append(f"staffing.{pool}.shifts=[]")
    return cssim.load_scenario("semir_double11_2016", overrides=ov)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(), seed=st.integers(0, 2**31))
def test_conservation_and_bounds(cfg: Config, seed: int):
    validate(cfg)
    m = cssim.simulate(cfg, seed=seed).metrics
    assert m["lost_inquiries"] == m["lost_before_reply"] + m["lost_after_handover"]
    assert m["inquiries"] == m["lost_before_reply"] + m["lost_after_handover"] + m["responded"] + m["waiting_at_end"]
    assert m["lost_after_handover"] <= m["escalated"]
    assert m["orders"] == m["paid_orders"] + m["unpaid_orders"]
    assert m["paid_orders"] >= m["paid_at_once"] + m["nudged_paid"]
    assert m["nudged_paid"] <= m["nudges_done"] <= m["orders"] - m["paid_at_once"]
    assert m["followup_orders"] <= m["followups_done"]
    # every hand-over is served by a human, lost, or still waiting at the end
    assert m["bot_resolved"] + m["escalated"] <= m["responded"] + m["lost_after_handover"] + m["waiting_at_end"]
    for k in RATES:
        assert math.isnan(m[k]) or 0.0 <= m[k] <= 1.0 + 1e-12, (k, m[k])
    for k in cssim.METRICS:
        if k != "profit":
            assert math.isnan(m[k]) or m[k] >= 0, (k, m[k])
    if cfg.routing.policy == "humans_only" or cfg.staffing.bot.count == 0:
        assert m["bot_share"] in (0.0,) or math.isnan(m["bot_share"])
        assert m["bot_resolved"] == m["escalated"] == m["lost_after_handover"] == 0
    if not cfg.nudge.enabled:
        assert m["nudges_done"] == 0
    if not cfg.followup.enabled:
        assert m["followups_done"] == 0


def test_no_nudge_for_returning_customers():
    """MODEL.md step 8: never nudge a returning customer."""
    cfg = cssim.load_scenario(
        "small_shop_618", ["customers.returning_share=1.0", "nudge.enabled=true", "arrivals.total=3000"]
    )
    m = cssim.simulate(cfg, seed=3).metrics
    assert m["orders"] - m["paid_at_once"] > 100
    assert m["nudges_done"] == 0
