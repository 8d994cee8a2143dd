"""The output layer and the argument checks in-process (issue 9): unique folders, atomic files
with the usual permissions, errors inside a user's scenario file, unknown keys however spelt,
runs too big for the machine, enough replications for a CI, and the intraday chart."""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cssim
from cssim import cli, io
from cssim.config import Arrivals, Config, validate
from cssim.metrics import DIAGNOSTICS
from cssim.runner import kpi_table, run_replications, write_run
from cssim.schema import scenario_names

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# --- 1. unique folders ----------------------------------------------------------------------


def test_unique_run_dir_never_hands_out_a_folder_twice(tmp_path):
    """Sixty-four folders asked for at the same instant, from eight threads: all distinct,
    all new and empty, named by the time so they sort in creation order."""
    now = datetime(2026, 11, 11, 0, 0, 0, 123456)
    made: list[Path] = []

    def make():
        for _ in range(8):
            made.append(io.unique_run_dir(tmp_path / "outputs" / "x", now=now))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 64 and all(d.is_dir() and not any(d.iterdir()) for d in made)
    assert all(d.name.startswith("2026-11-11_00-00-00.123-") for d in made)


# --- 6 and 7. atomic files: permissions, and a full disk ----------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_result_files_get_usual_permissions(tmp_path, umask):
    """metrics.json, CSVs and PNGs are 0666 less the umask (mkstemp's 0600 is not kept)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    old = os.umask(umask)
    try:
        io.write_json(tmp_path / "metrics.json", {"a": 1})
        io.write_csv(tmp_path / "t.csv", pd.DataFrame({"a": [1]}))
        fig = plt.figure()
        io.write_png(tmp_path / "c.png", fig)
        plt.close(fig)
    finally:
        os.umask(old)
    for name in ("metrics.json", "t.csv", "c.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_full_disk_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "points.csv"
    target.write_text("old\n")

    def half_then_full(p: Path):
        p.write_text("new, half")
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    with pytest.raises(OSError) as e:
        io.write_atomic(target, half_then_full)
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(target)
    assert io.os_error_line(e.value) == f"{target}: No space left on device (ENOSPC)"
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["points.csv"]


def fake_sweep(root: Path) -> Path:
    cfg = cssim.load_scenario("small_shop_618", ["arrivals.total=100", "replications=2"])
    for j, ft in enumerate((2, 3)):
        results = run_replications(cssim.load_scenario("small_shop_618", ["arrivals.total=100", "replications=2", f"staffing.ft.count={ft}"]), quiet=True)
        (root / str(j) / ".hydra").mkdir(parents=True)
        (root / str(j) / ".hydra" / "overrides.yaml").write_text(f"- staffing.ft.count={ft}\n")
        write_run(root / str(j), cfg, results, [f"staffing.ft.count={ft}"])
    return root


def test_aggregate_read_only_sweep_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """``cssim aggregate DIR`` where DIR cannot be written: one line naming the file and the
    OS error, exit 2 (the user named the folder), nothing written."""
    root = fake_sweep(tmp_path / "sweep")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))

    def read_only(*args, **kw):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(io.tempfile, "mkstemp", read_only)
    monkeypatch.setattr("sys.argv", ["cssim", "aggregate", str(root)])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"cssim: error: {root / 'runs.csv'}: Read-only file system (EROFS)", err
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


# --- 2. a user's own scenario file --------------------------------------------------------


def user_file(tmp_path: Path, edit) -> Path:
    path = tmp_path / "my shop.yaml"
    path.write_text(edit((SCENARIOS / "small_shop_618.yaml").read_text()))
    return path


def line_of(path: Path, text: str) -> int:
    return 1 + next(i for i, ln in enumerate(path.read_text().splitlines()) if text in ln)


@pytest.mark.parametrize(
    "edit,needle,key,problem",
    [
        (lambda t: t.replace("  ft:\n    count: 3", "  ft:\n    count: 3\n   speed: [1"), "speed: [1", None, "YAML"),
        (lambda t: t.replace("    count: 3 ", "    cuont: 3 "), "cuont: 3", "staffing.ft.cuont", "unknown key"),
        (lambda t: t.replace("    count: 3 ", "    count: three "), "count: three", "staffing.ft.count", "Integer"),
        (lambda t: t.replace("    count: 3 ", "    count: -3 "), "count: -3", "staffing.ft.count=-3", "head count"),
    ],
    ids=["yaml-syntax", "misspelt-key", "wrong-type", "bad-value"],
)
def test_error_inside_scenario_file_names_file_line_key(tmp_path, edit, needle, key, problem):
    path = user_file(tmp_path, edit)
    with pytest.raises(ValueError) as e:
        cssim.load_scenario(str(path))
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and problem in msg, msg
    if key:
        assert key in msg and f"line {line_of(path, needle)}" in msg, msg
    else:  # a syntax error: the line the parser stopped at, near the bad one
        assert "line " in msg, msg


def test_bad_value_overridden_on_the_command_line_is_not_blamed_on_the_file(tmp_path):
    path = user_file(tmp_path, lambda t: t.replace("    count: 3 ", "    count: -3 "))
    assert cssim.load_scenario(str(path), ["staffing.ft.count=4"]).staffing.ft.count == 4
    with pytest.raises(ValueError, match=r"^staffing.ft.count=-7: must be"):
        cssim.load_scenario(str(path), ["staffing.ft.count=-7"])


def test_file_without_name_is_named_after_the_file(tmp_path):
    path = user_file(tmp_path, lambda t: t.replace("name: small_shop_618\n", ""))
    assert cssim.load_scenario(str(path)).name == "my shop"


# --- 8. unknown keys, however spelt --------------------------------------------------------

UNKNOWN = ["+foo=1", "++foo=1", "~foo", "+staffing.temps.cuont=5", "++staffing.temps.cuont=5", "~staffing.temps.cuont"]


@pytest.mark.parametrize("override", UNKNOWN)
def test_unknown_keys_refused_however_spelt(override):
    with pytest.raises(ValueError) as e:
        cssim.load_scenario("small_shop_618", [override])
    assert str(e.value).startswith(override + ": ") and "unknown key" in str(e.value), str(e.value)
    assert cli.check_arguments([override]).startswith(override + ": ")


# --- 5. a run too big for the machine -------------------------------------------------------


def test_memory_estimate_matches_the_measured_semir_day():
    """Peak RSS of a Semir day (~300k inquiries) was measured at 276 MiB by
    benchmarks/memory.py: the estimate never undercuts that and overstates it by less than half."""
    from cssim.config import estimated_memory_bytes

    peak = 276 * 2**20
    assert peak <= estimated_memory_bytes(cssim.load_scenario("semir_double11_2016")) <= 1.5 * peak


@pytest.mark.parametrize(
    "arrivals,key",
    [(Arrivals(total=1e12), "arrivals.total=1e+12"), (Arrivals(rate_per_min=1e9), "arrivals.rate_per_min=1e+09"),
     (Arrivals(total=1e9, forecast_cv=5.0), "arrivals.total=1e+09")],
)
def test_too_big_for_memory_refused_by_validation(arrivals, key):
    cfg = Config(arrivals=arrivals)
    with pytest.raises(ValueError, match=rf"^{re.escape(key)}: .*memory.*GB"):
        validate(cfg)
    with pytest.raises(ValueError, match="memory"):
        cssim.simulate(cfg)


# --- 9. enough replications for a CI --------------------------------------------------------


def test_every_shipped_scenario_reports_a_ci():
    for name in scenario_names():
        assert cssim.load_scenario(name).replications >= 3, name


@pytest.mark.parametrize("name", ["small_shop_618", "erlang_a"])
def test_small_scenarios_as_shipped_give_useful_cis(name):
    """As shipped, no KPI of the quick scenarios is flagged too noisy (a CI wider than the
    estimate)."""
    cfg = cssim.load_scenario(name)
    table = kpi_table(cfg, run_replications(cfg, quiet=True))
    assert "no CI" not in table and "too noisy" not in table, table


def test_kpi_table_flags_a_ci_wider_than_its_estimate():
    """lost rate 1% +- 2% over 4 replications: +-10% needs about 4 x (2 / 0.1)^2 = 1,600."""
    cfg = cssim.load_scenario("small_shop_618")
    losses = [0.0, 0.0, 0.0, 0.04]  # mean 0.01, half-width 3.182 * 0.02 / 2 = 0.0318
    results = []
    for i, lost in enumerate(losses):
        m = {k: 1.0 for k in cssim.METRICS}
        m.update(lost_rate=lost, lost_inquiries=1000 * lost)
        results.append(cssim.Result({**m, **{k: 0.0 for k in DIAGNOSTICS}}, pd.DataFrame(), replication=i))
    table = kpi_table(cfg, results)
    line = next(ln for ln in table.splitlines() if "Lost rate" in ln)
    hw = 3.182446305284263 * np.std(losses, ddof=1) / 2
    need = math.ceil(4 * (hw / (0.1 * 0.01)) ** 2)
    assert "too noisy" in line and f"~{need:,} replications for +-10%" in line, line
    assert "too noisy" not in next(ln for ln in table.splitlines() if "GMV" in ln)


# --- 10. small things -----------------------------------------------------------------------


def test_dot_inf_accepted_like_inf():
    for spelt in (".inf", "inf", ".Inf", "+.inf"):
        cfg = cssim.load_scenario("erlang_a", ["customers.patience.dist=constant", f"customers.patience.mean={spelt}"])
        assert cfg.customers.patience.mean == math.inf, spelt
    cfg = cssim.load_scenario("erlang_a", ["customers.patience={dist: constant, mean: .inf}"])
    assert cfg.customers.patience.mean == math.inf


def test_intraday_chart_says_mean_and_legend_clears_the_queue_line():
    import matplotlib

    matplotlib.use("Agg")
    from cssim.sweep import intraday_chart

    cfg = cssim.load_scenario("small_shop_618", ["replications=2"])
    iv = pd.concat([r.intervals.reset_index().assign(replication=r.replication) for r in run_replications(cfg, quiet=True)])
    fig = intraday_chart(iv, "small shop")
    fig.canvas.draw()
    ax = fig.axes[1]
    assert "mean over 2 replications" in fig.axes[0].get_title()
    queue = next(ln for ln in ax.get_lines() if "queue" in ln.get_label())
    points = ax.transData.transform(np.column_stack(queue.get_data()))
    for a in fig.axes:
        legend = a.get_legend()
        if legend is not None:
            box = legend.get_window_extent()
            inside = [(x, y) for x, y in points if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1]
            assert inside == [], f"a legend covers the queue line at {inside}"
