"""Planning step 4: the plan holds on fresh seeds (cssim.plan.verify), and the estimator behind
every per-interval CI.

Specification:

* The per-interval lost rate is a ratio of sums over replications; its 95% CI (delta method,
  Student t) covers the true rate in about 95% of experiments (checked by Monte Carlo against
  a binomial band).
* A plan meets its per-interval target on seeds it never saw, within CI: simulated again with
  fresh replications, no interval's lost rate lies significantly above the target. With m
  intervals checked at once the CIs are Bonferroni-corrected (two-sided level 1 - 0.05/m), so a
  plan that truly meets every target fails this check with probability below 2.5%; the runs
  are seeded, so a given commit passes or fails reproducibly.
* An unreachable target (a cap on heads below what an interval needs) names the intervals and
  the best lost rate reached there, and a plan is still returned.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cssim
from cssim.plan.replicate import Runner, ratio_ci

SEMIR_CI = [  # Semir 2016 at 1/20 of the volume, heads and bot slots scaled alike
    "arrivals.total=15000", "staffing.ft.count=4", "staffing.temps.count=75", "staffing.bot.concurrency=400",
]


def test_ratio_ci_covers_the_true_rate_95_percent_of_the_time():
    """4 replications of Poisson(400) arrivals with binomial(3%) losses, 4,000 experiments:
    the CI's coverage lies in the 99.9% binomial band around 0.95."""
    rng = np.random.default_rng(20161111)
    trials, reps, p = 4000, 4, 0.03
    den = rng.poisson(400, size=(reps, trials))
    num = rng.binomial(den, p)
    r, hw = ratio_ci(num, den)
    coverage = np.mean(np.abs(r - p) <= hw)
    band = stats.norm.ppf(0.9995) * np.sqrt(0.95 * 0.05 / trials)
    assert abs(coverage - 0.95) < band + 0.01, coverage  # + the t/delta-method approximation's 1%


def test_interval_gmv_adds_up_to_the_gmv_metric():
    """The profit search reads GMV per arrival interval; it must be the metric's GMV split
    by interval (same paid-order rule), to the cent."""
    from cssim.plan.replicate import replicate

    cfg = cssim.load_scenario("small_shop_618")
    out = replicate(cfg, seed=3, replication=1)
    assert out["gmv"].sum() == pytest.approx(out["metrics"]["gmv"], rel=1e-12)
    assert out["gmv"].min() >= 0 and (out["gmv"] > 0).sum() > 48


def holds_on_fresh_seeds(plan: cssim.Plan, seed: int, reps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate the planned scenario on ``seed`` (never used by the planner) and return the
    lost rate, its Bonferroni half-width and the intervals with a target."""
    assert seed not in plan.summary["seeds"].values() and seed != plan.summary["seeds"]["correction"] + 1
    batch = Runner(workers=2, quiet=True).batch("fresh", plan.config, seed, reps)
    has_target = plan.requirements["has_target"].to_numpy()
    m = int(has_target.sum())
    lost, hw = ratio_ci(batch.lost, batch.arrivals, level=1 - 0.05 / m)
    return lost, np.nan_to_num(hw), has_target


@pytest.mark.parametrize(
    "scenario, overrides",
    [
        ("small_shop_618", ["plan.replications=8", "plan.correction_replications=8"]),
        ("small_shop_618", ["plan.pools=[ft]", "routing.policy=humans_only", "plan.replications=8", "plan.correction_replications=8", "plan.max_iterations=10"]),
        ("semir_double11_2016", [*SEMIR_CI, "plan.replications=4", "plan.correction_replications=2", "plan.max_replications=8", "plan.max_iterations=6"]),
    ],
    ids=["small_shop_618", "small_shop_618_bot_off", "semir_ci_scale"],
)
def test_plan_meets_every_interval_target_on_fresh_seeds(scenario, overrides):
    """The plan's lost rate, per interval, on 8 fresh replications: no interval significantly
    above 3% (Bonferroni over the intervals). small_shop_618 as shipped (temps planned next to
    its bot), the same shop with the bot off (its own agents planned, humans only), and Semir
    at a twentieth of its volume."""
    cfg = cssim.load_scenario(scenario, overrides)
    plan = cssim.plan(cfg, quiet=True)
    # The planner's own last round confirmed no miss (a miss within noise there is reported as
    # not a pass, exit 1); whether the plan holds is what the fresh seeds below decide.
    assert plan.summary["intervals"]["miss_confirmed_plan"] == 0 and not plan.summary["unreachable"]
    lost, hw, has_target = holds_on_fresh_seeds(plan, seed=cfg.seed + 1000, reps=8)
    bad = np.flatnonzero(has_target & (lost - hw > cfg.plan.max_lost_rate))
    assert bad.size == 0, [(i, lost[i], hw[i]) for i in bad]
    if scenario == "small_shop_618":  # (cheap here) the scenario it wrote, with its seed, is the verification
        again = Runner(workers=1, quiet=True).batch("again", plan.config, plan.config.seed, plan.config.replications)
        np.testing.assert_array_equal(again.lost_rate()[0], plan.verification["lost_rate"].to_numpy())


def test_unreachable_target_names_intervals_and_still_returns_a_plan():
    """small_shop_618 with the bot off and at most 4 working agents: the midnight rush (it
    needs about twice that) cannot reach 3%; those intervals are named with the best lost rate
    reached, the night lull (one or two agents) is not, and the best plan is returned."""
    cfg = cssim.load_scenario("small_shop_618", ["plan.pools=[ft]", "routing.policy=humans_only", "plan.max_heads=4", "plan.replications=4", "plan.max_iterations=4"])
    plan = cssim.plan(cfg, quiet=True)
    rows = plan.summary["unreachable"]
    named = {r["interval"] for r in rows}
    assert 0 in named and not named & set(range(16, 28))
    assert all(r["best_lost_rate"] > 0.03 and r["heads_cap"] == 4 for r in rows)
    assert any("unreachable" in m and "#0 00:00-00:15" in m for m in plan.messages)
    assert len(plan.roster) > 0 and plan.requirements["required"].max() == 4
    assert not plan.requirements.loc[0, "reachable"]


def test_a_miss_within_noise_gets_its_one_step_once_and_a_confirmed_miss_its_fitted_heads():
    """cssim.plan.verify.raised_need: a point miss the one-sided test cannot confirm at
    plan.max_replications gets one step (head_tolerance x heads, at least 1) the first time,
    and nothing once it had its step (``stepped``): fresh seeds each round show other
    intervals within noise, and stepping the same ones again would creep the roster up. A
    confirmed miss gets at least where the Erlang-A fitted to its verified loss meets the
    target (here 2.5x the target's loss: more than one step), whatever ``stepped`` says."""
    import pandas as pd

    from cssim.plan.requirements import queue_model
    from cssim.plan.verify import raised_need
    from test_plan_requirements import stepped_erlang_a

    cfg = stepped_erlang_a()
    model = queue_model(cfg)
    n = model.n_intervals
    need = np.array([10, 10, 15, 20, 12, 9])
    covered = need.astype(float)
    table = pd.DataFrame(
        {
            "lost_rate": [0.02, 0.031, 0.031, 0.075, 0.031, 0.02],
            "miss_confirmed": [False, False, False, True, False, False],
            "miss_unresolved": [False, True, True, False, True, False],
        }
    )
    cap = np.full(n, 100)
    stepped = np.array([False, False, True, True, False, False])
    out = raised_need(cfg, model, need, covered, table, cap, stepped)
    assert out[0] == 10 and out[5] == 9  # meets: unchanged
    assert out[1] == 11 and out[4] == 13  # within noise, first time: one step
    assert out[2] == 15  # within noise, had its step: left
    assert out[3] > 21  # confirmed: the fitted heads, beyond one step
    first = raised_need(cfg, model, need, covered, table, cap)  # nothing stepped yet: all three within noise step
    assert list(first[[1, 2, 4]]) == [11, 16, 13]


def test_rounds_go_on_only_for_a_confirmed_miss(monkeypatch):
    """The planner's cover-verify rounds (cssim.plan.planner): a round whose only misses are
    within noise ends the rounds, and names them; the plan is not verified (a miss whose CI
    straddles the target is not a pass: exit 1); a confirmed miss starts another round, in
    which each miss within noise of that round gets its one step.

    The verification tables are the real ones (stepped M/M/n+M, fresh seeds) with misses
    planted: interval 2 within noise in every round, interval 4 confirmed in round 1 only.
    Under the rule this replaces (every miss within noise starts a round) the first plan would
    run all plan.max_iterations rounds."""
    import cssim.plan.planner as planner
    from test_plan_requirements import stepped_erlang_a

    real = planner.verify

    def planted(confirmed_in_first: bool):
        calls = []

        def verify(cfg, runner, label, roster_cfg, seed, tgt, heads=None):
            batch, table = real(cfg, runner, label, roster_cfg, seed, tgt, heads)
            calls.append(seed)
            table.loc[2, ["lost_rate", "meets", "miss_unresolved", "miss_confirmed"]] = [cfg.plan.max_lost_rate + 0.002, False, True, False]
            if confirmed_in_first and len(calls) == 1:
                table.loc[4, ["lost_rate", "meets", "miss_unresolved", "miss_confirmed"]] = [3 * cfg.plan.max_lost_rate, False, False, True]
            return batch, table

        return verify, calls

    extra = ["plan.shift_lengths_h=[4]", "plan.start_step_h=4", "plan.replications=4", "plan.correction_replications=8", "plan.max_replications=8"]
    verify, calls = planted(False)
    monkeypatch.setattr(planner, "verify", verify)
    p = cssim.plan(stepped_erlang_a(extra=extra), workers=1, quiet=True)
    assert len(calls) == 1 and p.summary["verification_rounds"] == 1
    assert not p.summary["verified"] and p.summary["intervals"]["miss_unresolved_plan"] == 1
    assert p.summary["intervals"]["miss_confirmed_plan"] == 0 and not p.summary["unreachable"]
    assert p.summary["intervals"]["stepped_for_noise"] == []
    assert any("not a pass" in m and "within the resolution" in m and "#2 08:00-12:00" in m for m in p.messages)

    verify, calls = planted(True)
    monkeypatch.setattr(planner, "verify", verify)
    q = cssim.plan(stepped_erlang_a(extra=extra), workers=1, quiet=True)
    assert len(calls) == 2 and not q.summary["verified"] and q.summary["intervals"]["miss_confirmed_plan"] == 0
    assert q.summary["intervals"]["stepped_for_noise"] == [2]  # stepped once, in the round the confirmed miss started
    assert (q.requirements["required"] - p.requirements["required"]).to_list()[2] >= 1


def test_a_miss_confirmed_rounds_running_doubles_its_step():
    """cssim.plan.verify.raised_need with ``streak``: a miss confirmed k rounds running asks
    for at least 2^(k-1) steps above what the roster gave it (a backlog-driven miss the fitted
    Erlang-A under-reads would otherwise take a round per step); one confirmed for the first
    time, at least one step."""
    import pandas as pd

    from cssim.plan.requirements import queue_model
    from cssim.plan.verify import raised_need
    from test_plan_requirements import stepped_erlang_a

    cfg = stepped_erlang_a(extra=["plan.head_tolerance=0.1"])
    model = queue_model(cfg)
    need = np.array([30, 30, 30, 30, 30, 30])
    table = pd.DataFrame(
        {"lost_rate": [0.031] * 6, "miss_confirmed": [True, True, True, False, False, False], "miss_unresolved": [False] * 6}
    )
    cap = np.full(6, 1000)
    out = raised_need(cfg, model, need, need.astype(float), table, cap, streak=np.array([1, 2, 4, 0, 0, 0]))
    assert out[0] >= 33 and out[1] >= 36 and out[2] >= 30 + 3 * 8
    assert list(out[3:]) == [30, 30, 30]
    assert out[2] > raised_need(cfg, model, need, need.astype(float), table, cap)[2]  # without the streak: less
