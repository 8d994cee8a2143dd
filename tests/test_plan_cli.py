"""``cssim plan`` end to end, in subprocesses inside a temporary folder.

Specification: the command takes the same scenario and overrides as ``cssim``; it writes
``plans/<scenario>/<time>/`` with plan.yaml (a complete scenario that loads and runs),
requirements.csv, roster.csv, verification.csv, summary.json and two charts; bad input exits 2
with one line naming the key and the value and writes nothing; two folders made in the same
second never collide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

import cssim

CSSIM = [sys.executable, "-m", "cssim.cli"]
SMALL = ["scenario=small_shop_618", "plan.pools=[ft]", "routing.policy=humans_only", "plan.replications=4", "plan.max_iterations=6", "plan.workers=1"]


def run(args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_plan_command_writes_folder_with_runnable_scenario(tmp_path):
    """Two plans started at the same instant get a folder each; the folder holds every file;
    plan.yaml runs with ``cssim scenario=<path>`` and reproduces the verification."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    procs = [subprocess.Popen(CSSIM + ["plan", *SMALL], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [pr.communicate(timeout=600) for pr in procs]
    for pr, (out, err) in zip(procs, outs):
        assert pr.returncode in (0, 1), err
    folders = sorted((tmp_path / "plans" / "small_shop_618").iterdir())
    assert len(folders) == 2
    p = subprocess.CompletedProcess([], procs[0].returncode, *outs[0])
    # Progress on stderr: iterations, intervals, replications.
    assert "correction iteration 1/" in p.stderr and "replication 1" in p.stderr and "#" in p.stderr
    folder = next(f for f in folders if f.name in p.stdout)
    names = {f.name for f in folder.iterdir()}
    assert {"plan.yaml", "requirements.csv", "roster.csv", "verification.csv", "summary.json", "charts"} <= names
    for chart in ("required_vs_planned.png", "loss_vs_target.png"):
        assert (folder / "charts" / chart).stat().st_size > 10_000
    assert not [f for f in folder.rglob(".*")]  # no temporary files left behind
    req = pd.read_csv(folder / "requirements.csv")
    assert len(req) == 96 and {"erlang_a_start", "corrected", "required", "planned_working_ft", "planned_paid_ft"} <= set(req.columns)
    roster = pd.read_csv(folder / "roster.csv")
    assert {"pool", "start_h", "end_h", "length_h", "heads", "cost_cny"} <= set(roster.columns)
    ver = pd.read_csv(folder / "verification.csv")
    assert {"lost_rate", "lost_rate_ci95", "target_lost_rate", "rr_3min", "own_lost_rate"} <= set(ver.columns)
    summary = json.loads((folder / "summary.json").read_text())
    for side in ("plan", "own_roster", "difference_plan_minus_own"):
        for m in ("cost_total", "profit", "lost_rate", "inquiry_conversion"):
            assert set(summary[side][m]) == {"mean", "ci95", "n", "unit"}
    assert summary["roster_cost_cny"] == roster["cost_cny"].sum()
    assert "Roster" in p.stdout and "plan folder" in p.stdout
    # plan.yaml is a complete scenario: it loads, keeps the planned roster, and its seed and
    # replications reproduce the verification's numbers.
    cfg = cssim.load_scenario(str(folder / "plan.yaml"))
    assert cfg.staffing.ft.count == roster["heads"].sum()
    res = [cssim.simulate(cfg, seed=cfg.seed, replication=r) for r in range(cfg.replications)]
    lost = sum(r.intervals["lost"] for r in res) / sum(r.intervals["arrivals"] for r in res)
    pd.testing.assert_series_equal(lost.reset_index(drop=True), ver["lost_rate"], check_names=False, rtol=1e-12)
    # ... and so does the command line, given the file's path.
    again = run([f"scenario={folder / 'plan.yaml'}"], tmp_path)
    assert again.returncode == 0, again.stderr
    metrics = json.loads(next((tmp_path / "outputs").rglob("metrics.json")).read_text())
    assert metrics["summary"]["lost_rate"]["mean"] == summary["plan"]["lost_rate"]["mean"]


BAD = [
    ("plan.max_lost_rate=1.5", "plan.max_lost_rate=1.5"),
    ("plan.pools=[bot]", "plan.pools"),
    ("plan.objective=revenue", "plan.objective='revenue'"),
    ("plan.exclude_intervals=[96]", "plan.exclude_intervals"),
    ("plan.start_step_h=7", "plan.start_step_h=7"),
    ("staffing.temps.count=-1", "staffing.temps.count=-1"),
    ("plan.nokey=1", "plan.nokey"),
    ("scenario=nope", "scenario=nope"),
    ("scenario=missing/plan.yaml", "missing/plan.yaml"),
]


def test_bad_input_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys):
    """Each bad argument: status 2, one stderr line naming the key and the value, no plans/."""
    from cssim.plan.command import main

    monkeypatch.chdir(tmp_path)
    for arg, named in BAD:
        args = [arg] if arg.startswith("scenario") else ["scenario=small_shop_618", arg]
        assert main(args) == 2, arg
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("cssim: error: ") and named in err[0], (arg, err)
    # The real command: same status and line, no traceback.
    p = run(["plan", "scenario=small_shop_618", "plan.max_lost_rate=-0.1"], tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "plan.max_lost_rate=-0.1" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "plans").exists()
