"""The faults a new user met on f8d00cc (issue 21), each reproduced with a real ``cssim`` process.

Specification (docs/outputs.md, "What you can rely on"): bad input is one line naming the key,
file or folder, exit status 2, no traceback and nothing half-written; no work is lost to a
folder that cannot be written; a folder named on the command line is claimed by one command at a
time; SIGTERM is handled like Ctrl-C, by every command and by the Ray helper. Every test here
failed on f8d00cc.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CSSIM = [sys.executable, "-m", "cssim.cli"]
ENV = {**os.environ, "HYDRA_FULL_ERROR": "0", "MPLBACKEND": "Agg"}
TINY = ["scenario=small_shop_618", "arrivals.total=300", "replications=2"]
LOG = ROOT / "tests" / "data" / "chats_small.csv"


def run(args: list[str], cwd: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=timeout, **kw)


def one_line(p: subprocess.CompletedProcess, status: int, *fragments: str) -> str:
    """The process exited with ``status`` and said one line on stderr holding every fragment."""
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == status, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    assert len(lines) == 1, p.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def start(args: list[str], cwd: Path, argv0: list[str] = CSSIM) -> subprocess.Popen:
    """A process in its own session (a terminal's Ctrl-C goes to its group; the test can stop
    everything it started by process group)."""
    from test_cli_faults import as_from_a_terminal  # Ctrl-C as a terminal's job has it, however pytest was started

    return subprocess.Popen(argv0 + args, cwd=cwd, env=ENV, text=True, start_new_session=True, preexec_fn=as_from_a_terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(cond, timeout: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := cond():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def finish(p: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


# --- 1. a mistyped head count -------------------------------------------------------------


def test_1_a_head_count_too_big_for_memory_is_refused_before_it_starts(tmp_path):
    """15,000,000 temps (3 slots each) need about 8 GB for their agents and slots alone: on a
    process allowed 3 GB it is refused at once, naming the key, instead of growing until it dies."""
    def cap():  # the test's "machine": an address-space limit of 3 GB
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    t0 = time.monotonic()
    p = run(["scenario=small_shop_618", "staffing.temps.count=15000000"], tmp_path, timeout=120, preexec_fn=cap)
    one_line(p, 2, "staffing.temps.count=15,000,000", "agents", "memory")
    assert time.monotonic() - t0 < 30
    assert list(tmp_path.iterdir()) == []


def test_1_the_memory_estimate_counts_agents_and_slots():
    import cssim
    from cssim.config import BYTES_PER_AGENT, BYTES_PER_SLOT, estimated_memory_bytes

    cfg = cssim.load_scenario("small_shop_618")
    base = estimated_memory_bytes(cfg)
    cfg.staffing.temps.count += 1000
    assert estimated_memory_bytes(cfg) - base == pytest.approx(1000 * (BYTES_PER_AGENT + BYTES_PER_SLOT * cfg.staffing.temps.concurrency))


# --- 2. two runs into one folder ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_2_two_commands_into_one_named_folder_exactly_one_wins(tmp_path, kind):
    """Started together into the same ``hydra.run.dir`` (or ``hydra.sweep.dir``): one exits 0,
    the other 2 with one line naming the folder, and the folder holds the winner's files only."""
    folder = tmp_path / "shared"
    key = "hydra.run.dir" if kind == "run" else "hydra.sweep.dir"
    sweep = ["-m", "staffing.ft.count=2,3"] if kind == "sweep" else []
    args = [*sweep, "scenario=small_shop_618", "arrivals.total=6000", "replications=3", f"{key}={folder}"]
    procs = [start([*args, f"seed={seed}"], tmp_path) for seed in (11, 22)]
    results = [finish(p, 300) for p in procs]
    statuses = sorted(r[0] for r in results)
    assert statuses == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    assert "Traceback" not in loser[2] and len(loser[2].strip().splitlines()) == 1, loser[2]
    assert f"{key}={folder}" in loser[2]
    winner_seed = 11 if results[0][0] == 0 else 22
    configs = [folder / ".hydra" / "config.yaml"] if kind == "run" else sorted(folder.glob("*/.hydra/config.yaml"))
    assert configs
    for c in configs:
        assert yaml.safe_load(c.read_text())["seed"] == winner_seed
    metrics = [folder / "metrics.json"] if kind == "run" else sorted(folder.glob("*/metrics.json"))
    for m in metrics:
        assert json.loads(m.read_text())["seed"] == winner_seed
    assert not (folder / ".cssim-claim").exists()


def test_2_a_folder_being_written_is_refused(tmp_path):
    """The claim itself: a folder whose marker is held is refused with the holder's process id."""
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / ".cssim-claim").write_text("4242\n")
    p = run([*TINY, f"hydra.run.dir={folder}"], tmp_path)
    one_line(p, 2, f"hydra.run.dir={folder}", "4242")
    assert sorted(x.name for x in folder.iterdir()) == [".cssim-claim"]


# --- 3. folders that cannot be written ----------------------------------------------------


def test_3_plan_refuses_an_unwritable_plans_folder_before_simulating(tmp_path):
    """``plans`` is a file here: ``cssim plan`` says so in one line at once (exit 1, the folder
    is not one the user named), instead of a traceback after the whole plan."""
    (tmp_path / "plans").write_text("not a folder\n")
    t0 = time.monotonic()
    p = run(["plan", "scenario=small_shop_618", "plan.pools=[ft]"], tmp_path)
    one_line(p, 1, "plans", "Not a directory")
    assert time.monotonic() - t0 < 20
    assert p.stdout == ""


def test_3_calibrate_refuses_an_unwritable_out_before_fitting(tmp_path):
    (tmp_path / "afile").write_text("x\n")
    p = run(["calibrate", str(LOG), "--base", "small_shop_618", "--out", "afile/shop.yaml"], tmp_path)
    one_line(p, 2, "--out=afile/shop.yaml", "Not a directory")
    assert p.stdout == ""


def test_3_report_on_a_folder_it_cannot_write_is_one_line(tmp_path):
    run([*TINY, "hydra.run.dir=r"], tmp_path, check=True)
    (tmp_path / "r" / "report.html").mkdir()  # the report's own name taken by a folder
    p = run(["report", "r"], tmp_path)
    one_line(p, 2, "report.html")


# --- 4. an empty scenario file ------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["scenario=empty.yaml"],
    ["-m", "scenario=empty.yaml", "seed=1,2"],
    ["plan", "scenario=empty.yaml"],
    ["calibrate", str(LOG), "--base", "empty.yaml", "--out", "x.yaml"],
], ids=["run", "sweep", "plan", "calibrate"])
def test_4_an_empty_scenario_file_is_one_line(tmp_path, args):
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    p = run(args, tmp_path)
    one_line(p, 2, "empty.yaml", "empty")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["empty.yaml"]


# --- 5. an unknown launcher ---------------------------------------------------------------


def test_5_an_unknown_launcher_is_one_line_and_writes_nothing(tmp_path):
    p = run(["-m", *TINY, "seed=1,2", "hydra/launcher=nope"], tmp_path)
    line = one_line(p, 2, "hydra/launcher=nope")
    assert "parallel" in line and "basic" in line  # the choices there are
    assert list(tmp_path.iterdir()) == []


# --- 6. calibrate without --out -----------------------------------------------------------


def test_6_calibrate_never_overwrites_silently_and_force_leaves_no_stale_files(tmp_path):
    first = run(["calibrate", str(LOG), "--base", "small_shop_618", "--backtest", "--replications", "2"], tmp_path)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert {"calibrated.yaml", "calibrated.fit.csv", "calibrated.backtest.csv", "calibrated.backtest.png"} <= set(before)

    again = run(["calibrate", str(LOG), "--base", "small_shop_618"], tmp_path)
    one_line(again, 2, "--out=calibrated.yaml", "already exists", "--force")
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before

    forced = run(["calibrate", str(LOG), "--base", "small_shop_618", "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert "calibrated.yaml" in names and "calibrated.backtest.csv" not in names and "calibrated.backtest.png" not in names


# --- 7. Ctrl-C and SIGTERM on a single run in a named folder ------------------------------


LONG = ["scenario=semir_double11_2016", "replications=50"]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
@pytest.mark.parametrize("existed", [False, True], ids=["new-folder", "user-folder"])
def test_7_a_stopped_run_leaves_nothing_in_its_named_folder(tmp_path, how, existed):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) or SIGTERM (to the process,
    as a service manager sends it) during a run into ``hydra.run.dir``: exit 130 or 143, one
    line, and what the run put in the folder (``.hydra/``, its log) is gone; a folder the run
    made is removed, a user's own files stay."""
    folder = tmp_path / "named"
    if existed:
        folder.mkdir()
        (folder / "notes.txt").write_text("mine\n")
    p = start([*LONG, f"hydra.run.dir={folder}"], tmp_path)
    wait_for(lambda: (folder / ".hydra" / "config.yaml").exists(), what=".hydra/config.yaml")
    time.sleep(1.0)  # inside the first replication
    if how == "ctrl-c":
        os.killpg(p.pid, signal.SIGINT)
    else:
        p.send_signal(signal.SIGTERM)
    status, out, err = finish(p, 60)
    # 130, or killed by SIGINT (-2, which a shell reports as 130 too): when the interrupt lands
    # inside an extension module's import, CPython re-sends SIGINT to itself at exit however the
    # KeyboardInterrupt was handled (seen under load, with strace).
    assert status in ((130, -signal.SIGINT) if how == "ctrl-c" else (143,)), (out, err)
    assert "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.startswith("cssim:")] == [
        f"cssim: {'interrupted' if how == 'ctrl-c' else 'terminated'}; no results written"], err
    if existed:
        assert sorted(x.name for x in folder.iterdir()) == ["notes.txt"]
    else:
        assert not folder.exists()


def test_7_sigterm_stops_a_sweep_like_ctrl_c(tmp_path):
    """SIGTERM to a sweep: the points that finished are aggregated, exit 143."""
    p = start(["-m", "scenario=small_shop_618", "replications=2,3,2000"], tmp_path)
    root = wait_for(lambda: next(iter((tmp_path / "multirun" / "small_shop_618").glob("*/1/metrics.json")), None)
                    if (tmp_path / "multirun" / "small_shop_618").exists() else None, what="two points")
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    status, _, err = finish(p, 120)
    assert status == 143, err
    assert "cssim: terminated: 2 of 3 sweep points finished" in err, err
    assert (root.parent.parent / "points.csv").exists()


# --- 8. the Ray helper --------------------------------------------------------------------


def _have_ray() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


@pytest.mark.skipif(not _have_ray(), reason="Ray not installed (pip install '.[cluster]')")
def test_8_sigterm_to_the_ray_helper_stops_its_head(tmp_path):
    """``python -m cssim.cluster`` started by a service manager and stopped with SIGTERM (to its
    own process only): the ``ray start`` it launched, in a process group of its own, is gone."""
    p = start(["1"], tmp_path, argv0=[sys.executable, "-m", "cssim.cluster"])
    try:
        line = wait_for(lambda: p.stdout.readline(), timeout=180, what="the head's address")
        assert line.startswith("Ray head on 127.0.0.1:"), line
        head = int(line.split("ray start pid ")[1].split(")")[0])
        os.kill(head, 0)  # it runs
        p.send_signal(signal.SIGTERM)
        assert p.wait(90) == 143
        def gone() -> bool:
            try:
                os.killpg(head, 0)  # the head's own process group (start_new_session)
            except ProcessLookupError:
                return True
            return False
        wait_for(gone, timeout=30, what="the Ray head's process group to end")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


# --- 9. the first screens -----------------------------------------------------------------


def test_9_help_lists_every_command_and_version_is_cssims(tmp_path):
    import cssim

    p = run(["--help"], tmp_path)
    assert p.returncode == 0
    for name in ("run", "sweep", "plan", "calibrate", "report", "aggregate"):
        assert f"\n  {name} " in p.stdout, name
    v = run(["--version"], tmp_path)
    assert v.returncode == 0 and v.stdout.strip() == f"cssim {cssim.__version__}"
    assert "Hydra" not in v.stdout


@pytest.mark.parametrize("command, shown", [
    ("run", ["staffing.temps.count: int = ", "replications: int = "]),
    ("sweep", ["staffing.temps.count: int = ", "hydra/launcher=parallel"]),
    ("plan", ["plan.max_lost_rate: float = 0.03", "plan.pools: list of str"]),
    ("calibrate", ["--interval-min MIN", "(default: 15.0)", "--out FILE", "(default: calibrated.yaml)", "--force"]),
    ("report", ["--max-lost-rate SHARE", "(default: 0.03)"]),
    ("aggregate", ["SWEEP_FOLDER"]),
])
def test_9_each_command_help_lists_its_keys_or_options_with_types_and_defaults(tmp_path, command, shown):
    p = run([command, "--help"], tmp_path)
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())
    for s in shown:
        assert " ".join(s.split()) in text, (s, p.stdout)
    assert list(tmp_path.iterdir()) == []


def test_9_every_command_refuses_in_one_style(tmp_path):
    for args in (["calibrate"], ["report"], ["aggregate"], ["plan", "--nope"], ["--nope"], ["report", ".", "--max-lost-rate", "7"]):
        p = run(args, tmp_path)
        assert p.stderr.startswith("cssim: error: "), (args, p.stderr)
        one_line(p, 2)


def test_9_a_tiny_lost_rate_known_to_a_tenth_of_a_point_is_not_too_noisy():
    """The default run's 0.07% lost rate +- 0.10% is precise enough to plan against a 3%
    target: no "too noisy ... ~725 replications" note; a 1% +- 3% one still gets it."""
    from cssim.runner import too_noisy

    assert not too_noisy(0.0007, 0.0010, share_of=1.0)
    assert not too_noisy(196, 305, share_of=300_298)
    assert too_noisy(0.01, 0.0318, share_of=1.0)
    assert too_noisy(100.0, 150.0)


def test_9_the_command_keeps_no_module_level_state():
    from cssim import cli

    assert not any(hasattr(cli, n) for n in ("_STATUS", "_RUN", "_WATCHING"))


def test_2_an_interpolated_folder_is_resolved_before_it_is_claimed(tmp_path):
    """``hydra.sweep.dir=sweeps/${name}``: cssim resolves it as hydra would (with the sweep's
    first point), claims the folder, and the sweep lands there with its tables."""
    p = run(["-m", *TINY, "seed=1,2", "hydra.sweep.dir=sweeps/${name}"], tmp_path)
    assert p.returncode == 0, p.stderr
    root = tmp_path / "sweeps" / "small_shop_618"
    assert (root / "points.csv").is_file() and not (root / ".cssim-claim").exists()
