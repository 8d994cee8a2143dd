"""The fused kernel (:mod:`cssim.kernel`) and the SimPy reference (:mod:`cssim.model`) are the
same model: on every scenario below, every customer's record is equal exactly (outcome, pool,
agent, every instant to the last bit), and so are the pools' busy seconds, the horizon's queue
and the instant the drain ends.

Exactness rests on two rules both engines follow (docs/model.md#order-of-events): events at one
instant run calendar first (in scheduling order), then follow-ups and nudges falling due
(follow-ups first), then arrivals; and each engine schedules a customer's next step in the step
that decides it, at the absolute instant computed (``ShopEnvironment.trigger_at``: ``now +
delay`` would round differently), so both calendars hold the same instants in the same
scheduling order. The second rule is what a first version of the reference broke: a customer
seated from the hand-over queue resumed one step later (through a SimPy ``Condition``), after a
task wake pushed in between, and when both fell on one float instant the task went first (one
customer in 160 random worlds). Each named scenario also checks that it exercises what it is
named for, so a change that makes it trivial fails here; the random small worlds cover
combinations nobody named (ties at constant think times included).
"""

from __future__ import annotations

import numpy as np
import pytest

import cssim
from cssim.config import Config
from cssim.kernel import Simulation
from cssim.model.records import FIELDS, LOST_HANDOVER, OPEN, UNPAID_NUDGED, Records
from cssim.model import Shop

# CI-sized Semir (the regression pins' scaling): volume and heads scaled together.
SEMIR_CI = ["arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=75", "staffing.bot.concurrency=400"]

SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "semir_ci": ("semir_double11_2016", SEMIR_CI),
    "small_shop_bot_first": ("small_shop_618", ["routing.policy=bot_first"]),
    "takeover_20s": ("semir_double11_2016", SEMIR_CI + ["routing.takeover_s=20"]),
    # a small bot, so hand-overs queue, in one FIFO with new inquiries
    "escalation_fifo": ("semir_double11_2016", SEMIR_CI[:3] + ["staffing.bot.concurrency=40",
                                                               "routing.escalation_priority=false"]),
    # nobody on between 02:00 and 09:00 and patient customers: a queue waits for the 09:00 shift
    "shift_change_queue": ("small_shop_618", ["routing.policy=humans_only",
                                              "customers.patience={dist: exponential, mean: 20000.0}"]),
    # an overloaded M/M/n+M cut at 1 h: customers queued at the horizon, chats drained after it
    "horizon_drain": ("erlang_a", ["horizon_h=1", "warmup_h=0", "staffing.ft.count=6",
                                   "customers.patience={dist: exponential, mean: 900.0}"]),
    "followups_nudges": ("small_shop_618", ["followup.include_drops=true", "staffing.ft.concurrency=3"]),
}


def _run_both(cfg: Config, seed: int) -> tuple[Records, Records]:
    return Simulation(cfg, seed).run(), Shop(cfg, seed).run()


def _assert_identical(a: Records, b: Records) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        differ = np.flatnonzero(x != y)
        assert differ.size == 0, f"{name}: customers {differ[:5].tolist()} differ: kernel {x[differ[:5]].tolist()}, simpy {y[differ[:5]].tolist()}"
        assert x.tobytes() == y.tobytes(), name  # bitwise (the sign of a zero included)
    assert np.array_equal(a.waiting_at_end, b.waiting_at_end)
    assert a.end_s == b.end_s
    for pool in a.busy_s:
        assert a.busy_s[pool] == b.busy_s[pool], pool
        assert (a.busy_w[pool], a.overtime_s[pool], a.overtime_w[pool]) == (b.busy_w[pool], b.overtime_s[pool], b.overtime_w[pool]), pool
    assert [(x.pool.name, x.id) for x in a.agents] == [(x.pool.name, x.id) for x in b.agents]


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_kernel_and_reference_records_identical(key: str) -> None:
    scenario, overrides = SCENARIOS[key]
    cfg = cssim.load_scenario(scenario, overrides=overrides)
    a, b = _run_both(cfg, cfg.seed)
    _assert_identical(a, b)
    # ... and the scenario exercises what it is named for
    if key == "small_shop_bot_first":
        assert a.escalated.sum() > 0 and (a.first_pool == 2).mean() > 0.5
    elif key == "escalation_fifo":
        assert a.escalated.sum() > 100 and (a.end == LOST_HANDOVER).sum() > 0 and np.isfinite(a.human_start).sum() > 0
    elif key == "shift_change_queue":
        nine = 9 * 3600.0
        assert ((a.customers.arrival < nine) & (a.assigned == nine)).sum() > 10  # seated at 09:00 sharp
    elif key == "horizon_drain":
        assert a.waiting_at_end.sum() > 0 and a.end_s > a.horizon_s and (a.end == OPEN).sum() > 0
    elif key == "followups_nudges":
        assert a.followup_done.sum() > 0 and (a.order == UNPAID_NUDGED).sum() > 0 and a.followup_order.sum() > 0


def test_identical_metrics() -> None:
    """The public metrics agree to the bit too (they are computed from the records)."""
    cfg = cssim.load_scenario("small_shop_618")
    k = cssim.simulate(cfg, seed=3).metrics
    s = cssim.simulate(cfg, seed=3, engine="simpy").metrics
    k.pop("events"), s.pop("events")
    assert k.keys() == s.keys()
    assert all(k[m] == s[m] or (k[m] != k[m] and s[m] != s[m]) for m in k), {m: (k[m], s[m]) for m in k if k[m] != s[m]}


def test_kernel_refuses_extend() -> None:
    cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0"])
    with pytest.raises(ValueError, match="^extend: .*engine='simpy'"):
        cssim.simulate(cfg, seed=1, extend=lambda env, shop: None)
    with pytest.raises(ValueError, match="^engine: "):
        cssim.simulate(cfg, seed=1, engine="ciw")


def test_reference_ledger_declares_every_field() -> None:
    """The reference writes every per-customer fact of the records (declared by name)."""
    from cssim.model.customer import Ledger

    ledger = Ledger(3, np.ones(3, dtype=np.int32))
    assert {k for k in FIELDS if getattr(ledger, k, None) is ledger.arrays[k]} == set(FIELDS)


def test_one_default_scenario_name() -> None:
    """The hydra default (configs/config.yaml) and the Python default are one name."""
    import yaml

    from cssim.paths import DEFAULT_SCENARIO, config_dir

    defaults = yaml.safe_load((config_dir() / "config.yaml").read_text())["defaults"]
    assert {"scenario": DEFAULT_SCENARIO} in defaults


def _random_worlds(n: int) -> list[list[str]]:
    """Small shops with settings drawn at random (fixed seed): policies, takeover, priorities,
    concurrency, shifts, silent shares, tasks, constant think times (ties at shared instants)."""
    import random

    rng = random.Random(20)
    worlds = []
    for _ in range(n):
        w = [
            f"routing.policy={rng.choice(['human_first', 'bot_first', 'humans_only'])}",
            f"routing.takeover_s={rng.choice([0, 5, 30, 'inf'])}",
            f"routing.escalation_priority={rng.choice(['true', 'false'])}",
            f"routing.bot_turns_before_escalation={rng.choice([1, 2, 3])}",
            f"staffing.ft.count={rng.randint(1, 5)}",
            f"staffing.ft.concurrency={rng.randint(1, 6)}",
            f"staffing.bot.concurrency={rng.choice([2, 10, 50])}",
            f"customers.silent_share={rng.choice([0.0, 0.7, 1.0])}",
            f"followup.enabled={rng.choice(['true', 'false'])}",
            f"followup.include_drops={rng.choice(['true', 'false'])}",
            f"nudge.enabled={rng.choice(['true', 'false'])}",
            f"arrivals.total={rng.choice([800, 1500, 3000])}",
        ]
        if rng.random() < 0.3:
            w.append("conversation.think_s={dist: constant, mean: 30.0}")
        if rng.random() < 0.3:
            w.append("staffing.temps.count=2")
            w.append("staffing.temps.shifts=[{start_h: 1, end_h: 9}, {start_h: 12, end_h: 18}]")
        worlds.append(w)
    return worlds


@pytest.mark.parametrize("overrides", _random_worlds(12), ids=[f"world{i}" for i in range(12)])
def test_identical_on_random_small_worlds(overrides: list[str]) -> None:
    cfg = cssim.load_scenario("small_shop_618", overrides=overrides)
    _assert_identical(*_run_both(cfg, 7))
