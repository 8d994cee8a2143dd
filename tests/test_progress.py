"""Progress on stderr (tqdm): a bar on a terminal, the same plain line per replication
elsewhere (logs, CI, the tests that read it)."""

from __future__ import annotations

import io

import cssim
from cssim.progress import ReplicationProgress
from cssim.runner import run_replications


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _result():
    cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0"])
    return cssim.simulate(cfg, seed=1)


def test_plain_lines_when_not_a_terminal():
    out, res = io.StringIO(), _result()
    prog = ReplicationProgress("cssim", 2, stream=out)
    prog.update(0.5)
    prog.finished(0, res, count=1)
    prog.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cssim: replication 1/2 done in ")
    assert "\r" not in out.getvalue()


def test_bar_and_lines_on_a_terminal():
    out, res = Terminal(), _result()
    prog = ReplicationProgress("cssim", 2, stream=out)
    prog.update(0.5)
    prog.finished(0, res, count=1)
    prog.close()
    text = out.getvalue()
    assert "cssim: replication 1/2 done in " in text
    assert "\r" in text and "replications" in text  # the bar, redrawn in place


def test_run_replications_prints_a_line_per_replication(capsys):
    cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0", "replications=3"])
    run_replications(cfg, label="erlang")
    err = capsys.readouterr().err.splitlines()
    assert [ln.split(" done")[0] for ln in err] == [f"erlang: replication {i}/3" for i in (1, 2, 3)]
