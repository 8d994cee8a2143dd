"""What a planner forwards: Parquet tables beside the CSVs, and ``cssim report DIR``.

Specification: intervals, runs and points are written as CSV and Parquet with the same
columns and dtypes; ``cssim report`` writes one self-contained report.html for a run, a sweep
or a plan folder (scenario, KPIs with CIs and units, charts as embedded PNG; a sweep's
recommended point under the stated rule; a plan's roster), and the page renders in a real
headless browser with every chart decoded and non-blank. The browser test skips when no
Chromium is installed (CI installs Debian's).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from test_cli import SMALL, only_dir, run

from cssim.report import build_report, recommend


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory) -> Path:
    """A 2x2 sweep with a numeric and a text key (so both kinds of column are checked)."""
    tmp = tmp_path_factory.mktemp("sweep")
    run(["-m", *SMALL, "staffing.ft.count=2,4", "routing.policy=human_first,humans_only"], tmp)
    return only_dir(tmp / "multirun" / "small_shop_618")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("run")
    run(SMALL, tmp)
    return only_dir(only_dir(tmp / "outputs"))


def test_parquet_tables_equal_csv(sweep_root, run_folder):
    """points, runs and every job's intervals: Parquet and CSV read back to equal frames,
    same columns, same dtypes (text, integers and floats with NaN), same values."""
    # Values to 1e-12: before pandas 3, read_csv's default float parser can miss the last bit of
    # a number the file holds exactly (Parquet keeps the bits).
    same = {"check_exact": False, "rtol": 1e-12, "atol": 0.0}
    tables = ["points", "runs", "0/intervals", "3/intervals"]
    for name in tables:
        csv, pq = pd.read_csv(sweep_root / f"{name}.csv"), pd.read_parquet(sweep_root / f"{name}.parquet")
        pd.testing.assert_frame_equal(csv, pq, **same)
    pts = pd.read_parquet(sweep_root / "points.parquet")
    assert pts["routing.policy"].dtype == pd.read_csv(sweep_root / "points.csv")["routing.policy"].dtype
    assert pd.api.types.is_integer_dtype(pts["staffing.ft.count"])
    pd.testing.assert_frame_equal(pd.read_csv(run_folder / "intervals.csv"), pd.read_parquet(run_folder / "intervals.parquet"), **same)
    assert not list(sweep_root.glob(".*.parquet.*")), "a temporary file was left behind"


def test_recommended_point_rule():
    """Cheapest point whose lost rate is within target at the top of its CI; else the most
    profitable, with its CI."""
    pts = pd.DataFrame({
        "point": [0, 1, 2, 3], "temps": [0, 100, 200, 300], "replications": [5] * 4,
        "lost_rate_mean": [0.10, 0.028, 0.02, 0.01], "lost_rate_ci95": [0.01, 0.005, 0.004, 0.002],
        "cost_total_mean": [100.0, 200.0, 300.0, 400.0], "cost_total_ci95": [0.0] * 4,
        "profit_mean": [50.0, 80.0, 70.0, 60.0], "profit_ci95": [5.0] * 4,
    })
    rule, row, why = recommend(pts, ["temps"], 0.03)
    assert "cheapest" in rule and "3%" in rule
    assert row["temps"] == 200  # 100 is within 3% on average but not at the top of its CI
    rule, row, why = recommend(pts, ["temps"], 0.005)
    assert row["temps"] == 100 and "80.00 ± 5.00" in why and "no point" in why


def _self_contained(text: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text), "the page loads something from outside"


def test_run_report(run_folder):
    out = build_report(run_folder)
    text = out.read_text()
    _self_contained(text)
    for s in ("small_shop_618", "Lost rate", "Inquiry conversion", "±", "CNY", "%", "data:image/png;base64,"):
        assert s in text, s
    assert text.count("<img") == 1


def test_sweep_report_through_the_command_line(sweep_root):
    p = run(["report", str(sweep_root), "--max-lost-rate", "0.05"], sweep_root)
    assert p.stdout.strip() == f"report: {sweep_root / 'report.html'}"
    text = (sweep_root / "report.html").read_text()
    _self_contained(text)
    assert "Recommended point" in text and "within 5%" in text
    assert text.count("<img") == 3 and "routing.policy" in text


def test_report_of_a_folder_that_is_not_a_result(tmp_path):
    p = run(["report", str(tmp_path)], tmp_path, check_status=2)
    assert p.stderr.startswith("cssim: error: report: ") and len(p.stderr.strip().splitlines()) == 1


def chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.mark.skipif(chromium() is None, reason="no Chromium binary (CI installs Debian's chromium package)")
@pytest.mark.parametrize("kind", ["run", "sweep"])  # a plan's page: tests/test_plan_report.py
def test_report_renders_in_headless_chromium(kind, run_folder, sweep_root, tmp_path):
    """The page loads in Chromium without errors; every chart decodes (the page's own check,
    read from the DOM after load) and the screenshot is not blank where the charts are. The
    screenshot is kept beside the report as report.png."""
    folder = {"run": run_folder, "sweep": sweep_root}[kind]
    page = build_report(folder)
    expected = int(re.search(r"data-charts='(\d+)'", page.read_text()).group(1))
    assert expected >= 1
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2000"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, f"no page body in Chromium's DOM:\n{dom.stdout[:500]}\n{dom.stderr[-2000:]}"
    assert f'data-charts-loaded="{expected}"' in body.group(0), body.group(0)
    assert 'class="broken"' not in dom.stdout

    shot = folder / "report.png"
    s = subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert s.returncode == 0 and shot.is_file(), s.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 1000 and img.shape[1] >= 1000
    assert img.std() > 0.05, "the screenshot is blank"
    # Colour (the charts' lines and bands; the text is black on white): some pixels are far from grey.
    chroma = img.max(axis=2) - img.min(axis=2)
    assert (chroma > 0.2).mean() > 0.001, "no chart colours on the page"
