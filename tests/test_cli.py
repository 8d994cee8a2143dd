"""The planner's command line, end to end, in subprocesses inside a temporary folder.

Specification: ``cssim`` runs the default scenario and writes a run folder; ``cssim -m`` sweeps
write tables and charts at the sweep root, with identical numbers whatever launcher ran the
jobs; ``cssim aggregate`` rebuilds them from the files; bad input exits 2 with one line naming
the key and the value, no traceback, and nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

CSSIM = [sys.executable, "-m", "cssim.cli"]
SMALL = ["scenario=small_shop_618", "arrivals.total=600", "replications=2"]


def run(args: list[str], cwd: Path, check_status: int | None = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    p = subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    if check_status is not None:
        assert p.returncode == check_status, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def only_dir(parent: Path) -> Path:
    dirs = [d for d in parent.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_default_run_prints_kpis_and_writes_run_folder(tmp_path):
    """``cssim`` alone: the default scenario (semir_double11_2016), a KPI table with units,
    metrics.json (per replication and mean with CI) and intervals.csv in outputs/."""
    p = run([], tmp_path)
    assert "semir_double11_2016" in p.stdout
    for label in ("Lost rate", "Inquiry conversion", "Profit", "CNY", " s "):
        assert label in p.stdout
    folder = only_dir(only_dir(tmp_path / "outputs"))
    data = json.loads((folder / "metrics.json").read_text())
    assert data["scenario"] == "semir_double11_2016"
    assert len(data["replications"]) >= 1
    assert set(data["summary"]["lost_rate"]) == {"mean", "ci95", "n", "unit"}
    iv = pd.read_csv(folder / "intervals.csv")
    assert len(iv) == 96 * len(data["replications"])
    assert "replication" in iv.columns and {"waiting_queue", "waiting_agent", "lost_rate"} <= set(iv.columns)


def sweep(tmp_path: Path, launcher: list[str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    run(["-m", *SMALL, "staffing.ft.count=2,4", "routing.policy=human_first,humans_only", *launcher], tmp_path)
    return only_dir(tmp_path / "multirun" / "small_shop_618")


def test_two_key_sweep_same_numbers_with_basic_and_joblib_launchers(tmp_path):
    """A 2x2 grid: points.csv has four points with mean and CI per metric, runs.csv every
    replication, three charts; the joblib launcher (2 processes) gives the same numbers."""
    basic = sweep(tmp_path / "a", [])
    joblib = sweep(tmp_path / "b", ["hydra/launcher=parallel"])
    for root in (basic, joblib):
        pts = pd.read_csv(root / "points.csv")
        assert len(pts) == 4 and {"staffing.ft.count", "routing.policy", "lost_rate_mean", "lost_rate_ci95"} <= set(pts.columns)
        assert len(pd.read_csv(root / "runs.csv")) == 8
        for chart in ("lost_and_conversion.png", "cost_and_profit.png", "intraday.png"):
            assert (root / "charts" / chart).stat().st_size > 10_000
    a = pd.read_csv(basic / "points.csv")
    b = pd.read_csv(joblib / "points.csv")
    pd.testing.assert_frame_equal(a, b)


def test_reaggregate_existing_sweep_and_report_failed_point(tmp_path):
    """``cssim aggregate DIR`` rebuilds the tables and charts from the job folders alone; a
    point without results is reported (exit 1) and the others are kept."""
    root = sweep(tmp_path, [])
    before = (root / "points.csv").read_text()
    (root / "points.csv").unlink()
    shutil.rmtree(root / "charts")
    run(["aggregate", str(root)], tmp_path)
    assert (root / "points.csv").read_text() == before
    assert (root / "charts" / "intraday.png").is_file()

    (root / "1" / "metrics.json").unlink()
    p = run(["aggregate", str(root)], tmp_path, check_status=1)
    assert "sweep point 1 failed" in p.stderr
    assert len(pd.read_csv(root / "points.csv")) == 3
    assert list(pd.read_csv(root / "failed_points.csv")["point"]) == [1]


BAD_INPUTS = [
    (["staffing.temps.count=-5"], "staffing.temps.count=-5"),
    (["funnel.order_prob=1.2"], "funnel.order_prob=1.2"),
    (["customers.patience.dist=weibull"], "customers.patience.dist='weibull'"),
    (["scenario=no_such_scenario"], "scenario=no_such_scenario"),
    (["staffing.ft.shifts=[{start_h: 20, end_h: 30}]"], "staffing.ft.shifts[0]"),
    (["staffing.ft.concurrency=0"], "staffing.ft.concurrency=0"),
    (["staffing.ft.count=many"], "staffing.ft.count=many"),
    (["staffing.ft.countt=3"], "staffing.ft.countt=3"),
    (["routing.policy=random"], "routing.policy='random'"),
    (["nudge.enabled=maybe"], "nudge.enabled=maybe"),
    (["arrivals.rate_per_min=-1"], "arrivals.rate_per_min=-1"),
    (["horizon_h=0"], "horizon_h=0"),
    (["staffing.ft.speed=0"], "staffing.ft.speed=0"),
    (["customers.silent_share=-0.1"], "customers.silent_share=-0.1"),
    (["replications=0"], "replications=0"),
    (["temps=500"], "temps=500"),
    (["-m", "staffing.temps.count=0,500,-1"], "staffing.temps.count=-1"),
]


@pytest.mark.parametrize("args,names", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, args, names):
    p = run(args, tmp_path, check_status=2)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("cssim: error: ") and names in lines[0], lines[0]
    assert "Traceback" not in p.stderr + p.stdout
    assert list(tmp_path.iterdir()) == []


def test_bad_scenario_file_through_api():
    import cssim

    with pytest.raises(ValueError, match="no such scenario file"):
        cssim.load_scenario("/nonexistent/dir/world.yaml")


def test_configs_are_packaged_for_a_plain_install(tmp_path):
    """A non-editable ``pip install .`` carries configs/ and scenarios/: the API and the app
    work from the installed copy, outside the checkout."""
    repo = Path(__file__).resolve().parents[1]
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(repo)],
        check=True, capture_output=True, timeout=600,
    )
    assert (target / "cssim" / "configs" / "config.yaml").is_file()
    assert (target / "cssim" / "scenarios" / "semir_double11_2016.yaml").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import cssim, sys; c = cssim.load_scenario('erlang_a'); print(cssim.__file__, c.staffing.ft.count)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.startswith(str(target)) and out.stdout.strip().endswith(" 10")
    app = subprocess.run(
        [sys.executable, "-m", "cssim.cli", "scenario=erlang_a", "horizon_h=2", "warmup_h=0"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert app.returncode == 0, app.stderr
    assert "erlang_a" in app.stdout
