"""``cssim ... log=true`` and ``cssim calibrate`` on the command line, in subprocesses.

Specification (docs/calibration.md#the-chat-log): a run with ``log=true`` writes
``chats.parquet`` and ``chats.csv`` (one day per replication); ``cssim calibrate LOG`` reads
CSV or Parquet and writes a scenario YAML that cssim loads, a fit table and charts next to it,
and prints the fit report (with ``--backtest``, the KPI comparison); a bad log (missing column,
unparsable time, reply before arrival, negative duration, empty file) gets one line naming the
column and the first bad row, exit status 2, and nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cssim

CSSIM = [sys.executable, "-m", "cssim.cli"]
DATA = Path(__file__).resolve().parent / "data" / "chats_small.csv"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "MPLBACKEND": "Agg"}
    return subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_shipped_log_calibrates_to_a_loadable_scenario(tmp_path):
    """The shipped log (every column exercised) gives a scenario YAML that cssim loads and
    validates, whose fitted keys carry comments with CI and n, plus a fit table and 3 charts."""
    out = tmp_path / "cal" / "shop.yaml"
    p = run(["calibrate", str(DATA), "--base", "small_shop_618", "--out", str(out)], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Fit report" in p.stdout and "Kept from the base" in p.stdout
    cfg = cssim.load_scenario(str(out))
    assert cfg.name == "shop" and len(cfg.arrivals.weights) == 96
    text = out.read_text()
    assert "patience: {dist:" in text and "95% CI" in text and "n=405" in text
    fit = pd.read_csv(out.with_name("shop.fit.csv"))
    assert {"parameter", "estimate", "ci95", "n", "method"} <= set(fit.columns)
    assert {"customers.patience.mean", "customers.presale_share", "routing.bot_resolve_prob"} <= set(fit.parameter)
    for chart in ("arrivals", "patience", "reply_times"):
        assert (out.parent / f"shop.{chart}.png").stat().st_size > 10_000


def test_log_true_writes_a_multi_day_log_that_calibrates_and_backtests(tmp_path):
    """``log=true replications=2``: chats.parquet and chats.csv hold the same two days; the
    Parquet calibrates, and ``--backtest`` prints log vs simulated KPIs with a chart."""
    p = run(["scenario=small_shop_618", "arrivals.total=300", "replications=2", "log=true"], tmp_path)
    assert p.returncode == 0, p.stderr
    folder = next((tmp_path / "outputs" / "small_shop_618").iterdir())
    pq = pd.read_parquet(folder / "chats.parquet")
    csv = pd.read_csv(folder / "chats.csv")
    assert list(pq.columns) == list(csv.columns) == list(cssim.chatlog.COLUMNS)
    assert len(pq) == len(csv) and pq.arrival_ts.dt.date.nunique() == 2
    out = tmp_path / "bt.yaml"
    p = run(["calibrate", str(folder / "chats.parquet"), "--base", "small_shop_618", "--out", str(out), "--backtest", "--replications", "2"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Back-test" in p.stdout and "lost_rate" in p.stdout and "inquiry_conversion" in p.stdout
    assert (tmp_path / "bt.backtest.png").exists() and (tmp_path / "bt.backtest.csv").exists()


def _bad(df: pd.DataFrame, case: str) -> pd.DataFrame:
    df = df.copy()
    if case == "missing column":
        return df.drop(columns=["end_ts"])
    if case == "unparsable time":
        df.loc[4, "arrival_ts"] = "yesterday at noon"
    elif case == "reply before arrival":
        df.loc[6, "first_reply_ts"] = "2016-06-17T23:00:00+08:00"
    elif case == "negative duration":
        i = df.index[df.left_ts != ""][0]
        df.loc[i, "left_ts"] = "2016-06-17T23:59:00+08:00"
    return df


CASES = {
    "missing column": ("'end_ts'", "missing"),
    "unparsable time": ("'arrival_ts'", "row 5"),
    "reply before arrival": ("'first_reply_ts'", "row 7"),
    "negative duration": ("'left_ts'", "row "),
    "empty file": ("empty", ""),
    "header only": ("empty", ""),
}


def _calibrate_in_process(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """``cssim calibrate ...`` through the real entry point, in this process (no start-up cost)."""
    from cssim import cli

    monkeypatch.setattr(sys, "argv", ["cssim", "calibrate", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize("case", list(CASES))
def test_bad_log_one_line_exit_2_nothing_written(tmp_path, case, monkeypatch, capsys):
    """Each bad log: exit 2, one stderr line naming the column and the first bad row (the file
    for an empty one), no traceback, and the output folder stays empty. The first case runs as a
    real subprocess (the exit status the shell sees), the others through the same entry point
    in-process."""
    raw = pd.read_csv(DATA, dtype=str, keep_default_na=False)
    log = tmp_path / "bad.csv"
    if case == "empty file":
        log.write_text("")
    elif case == "header only":
        raw.iloc[:0].to_csv(log, index=False)
    else:
        _bad(raw, case).to_csv(log, index=False)
    out_dir = tmp_path / "out"
    args = [str(log), "--base", "small_shop_618", "--out", str(out_dir / "x.yaml")]
    if case == "missing column":
        p = run(["calibrate", *args], tmp_path)
        code, err = p.returncode, p.stderr
    else:
        code, err = _calibrate_in_process(args, monkeypatch, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    column, row = CASES[case]
    assert column in lines[0] and row in lines[0], lines[0]
    if case == "negative duration":
        i = raw.index[raw.left_ts != ""][0]
        assert f"row {i + 1}:" in lines[0]
    assert not out_dir.exists() or not any(out_dir.iterdir())
