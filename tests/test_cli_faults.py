"""The faults a new user hit (issue 9), each reproduced with a real ``cssim`` process.

Specification: two runs never share a folder; a user's own scenario runs from the command line
(by path, or by ``hydra.searchpath``) and an error inside it names the file, the key or line and
the problem; ``kill -9`` of a parallel sweep leaves no worker behind; Ctrl-C stops a sweep,
aggregates what finished and exits 130 with one line, and a single run leaves nothing
half-written; a run too big for the machine is refused before it starts; file-system errors are
one line naming the path; a zero-inquiry run and ``.inf`` are handled; ``--help`` shows types.
Each process is small (a few hundred inquiries, or a long run that the test interrupts).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

CSSIM = [sys.executable, "-m", "cssim.cli"]
ENV = {**os.environ, "HYDRA_FULL_ERROR": "0"}
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TINY = ["scenario=small_shop_618", "arrivals.total=300", "replications=2"]


def run(args: list[str], cwd: Path, status: int | None = 0, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=timeout)
    if status is not None:
        assert p.returncode == status, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def as_from_a_terminal() -> None:
    """In the child before exec: Ctrl-C as a terminal's foreground job has it. A test run
    started in the background without job control (``nohup pytest &``, some CI runners)
    inherits an ignored SIGINT, which exec keeps and Python then honours: the Ctrl-C tests
    would see a process that rightly ignores Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], cwd: Path, argv0: list[str] = CSSIM) -> subprocess.Popen:
    """A cssim process in its own session (so Ctrl-C can go to its whole process group, as a
    terminal sends it, and the test can clean up everything it started)."""
    return subprocess.Popen(
        argv0 + args, cwd=cwd, env=ENV, text=True, start_new_session=True, preexec_fn=as_from_a_terminal,
        stdout=open(cwd / "stdout.txt", "w"), stderr=open(cwd / "stderr.txt", "w"),
    )


def wait_for(cond, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stopped(p: subprocess.Popen, timeout: float) -> int:
    try:
        return p.wait(timeout=timeout)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def cssim_lines(stderr: str) -> list[str]:
    """stderr without the progress lines (per replication, and per sweep point off a terminal)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and ": replication " not in ln and not ln.startswith("sweep: point ")]


def one_error_line(p: subprocess.CompletedProcess) -> str:
    lines = cssim_lines(p.stderr)
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    return lines[0]


@pytest.fixture
def cssim_here(tmp_path, monkeypatch, capsys):
    """``cssim ARGS`` through its real entry point, in this process, from ``tmp_path``: for the
    checks that stop before hydra starts (a second faster than a new process). Returns (exit
    status, stdout, the one stderr line)."""
    from cssim import cli

    monkeypatch.chdir(tmp_path)

    def call(args: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["cssim", *args])
        with pytest.raises(SystemExit) as e:
            cli.main()
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        lines = [ln for ln in out.err.splitlines() if ln.strip()]
        assert len(lines) <= 1, out.err
        return e.value.code, out.out, lines[0] if lines else ""

    return call


def stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    f = stat_fields(pid)
    return f is not None and f[0] != "Z"


def descendants(pid: int) -> list[int]:
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (f := stat_fields(int(d.name))) is not None:
            parent[int(d.name)] = int(f[1])
    out, frontier = [], [pid]
    while frontier:
        kids = [c for c, p in parent.items() if p in frontier]
        out += kids
        frontier = kids
    return out


# --- 1. Two runs started in the same second ------------------------------------------------


def test_runs_never_reuse_a_folder(tmp_path):
    """Two runs started together get two folders, each with its own numbers; a folder that
    already exists is never written into (here: one for every second of the next minute, in
    the old to-the-second naming, each holding a result that must survive)."""
    base = tmp_path / "outputs" / "small_shop_618"
    now = datetime.now()
    taken = [base / (now + timedelta(seconds=s)).strftime("%Y-%m-%d_%H-%M-%S") for s in range(-2, 60)]
    for d in taken:
        d.mkdir(parents=True)
        (d / "metrics.json").write_text("an earlier run's results\n")
    args = {3: [*TINY, "staffing.ft.count=3"], 5: [*TINY, "staffing.ft.count=5"]}
    procs = {k: subprocess.Popen(CSSIM + a, cwd=tmp_path, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for k, a in args.items()}
    folders = {}
    for k, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        line = next(ln for ln in out.splitlines() if ln.startswith("results: "))
        folders[k] = Path(line.split()[1].rstrip(",")).parent
    assert folders[3] != folders[5]
    for k, folder in folders.items():
        assert folder.parent == base and folder not in taken
        assert f"staffing.ft.count={k}" in json.loads((folder / "metrics.json").read_text())["overrides"]
    assert all((d / "metrics.json").read_text() == "an earlier run's results\n" for d in taken)


# --- 2. A user's own scenario --------------------------------------------------------------


def own_scenario(folder: Path, text_edit=lambda t: t) -> Path:
    """small_shop_618 as a user's file ``myshop`` (no ``@package`` header, no ``name``)."""
    text = (SCENARIOS / "small_shop_618.yaml").read_text()
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("name:"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "myshop.yaml"
    path.write_text(text_edit(text))
    return path


def test_own_scenario_by_searchpath(tmp_path):
    """The documented way (docs/scenarios.md): ``hydra.searchpath=[file:///DIR] scenario=NAME`` with DIR/scenario/NAME.yaml."""
    own_scenario(tmp_path / "mine" / "scenario")
    p = run([f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "scenario=myshop", "arrivals.total=300", "replications=2"], tmp_path)
    assert p.stdout.startswith("myshop: ")
    assert (tmp_path / "outputs" / "myshop").is_dir()


def test_own_scenario_by_path(tmp_path):
    path = own_scenario(tmp_path / "mine")
    p = run([f"scenario={path}", "arrivals.total=300", "replications=2", "staffing.ft.count=4"], tmp_path)
    assert p.stdout.startswith("myshop: ")
    folder = next((tmp_path / "outputs" / "myshop").iterdir())
    assert json.loads((folder / "metrics.json").read_text())["scenario"] == "myshop"


@pytest.mark.parametrize("how", ["path", "searchpath"])
def test_error_inside_own_scenario_names_file_line_and_key(tmp_path, how, cssim_here):
    """A misspelt key inside the user's file: one line naming the file, the line, the key and
    the problem (not "no such scenario"); exit 2; nothing written."""
    def typo(text):
        return text.replace("    concurrency: 6 ", "    concurency: 6 ")

    if how == "path":
        path = own_scenario(tmp_path / "mine", typo)
        args = [f"scenario={path}"]
    else:
        path = own_scenario(tmp_path / "mine" / "scenario", typo)
        args = [f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "scenario=myshop"]
    line_no = 1 + path.read_text().splitlines().index(next(ln for ln in path.read_text().splitlines() if "concurency" in ln))
    status, _, line = cssim_here(args)
    assert status == 2
    assert str(path) in line and f"line {line_no}" in line and "staffing.ft.concurency" in line and "unknown key" in line, line
    assert sorted(x.name for x in tmp_path.iterdir()) == ["mine"]


# --- 3. kill -9 of a parallel sweep ---------------------------------------------------------


def test_kill_9_of_parallel_sweep_leaves_no_process(tmp_path):
    """``kill -9`` of the cssim process while both joblib workers are busy: within a few
    seconds no process it started is still running."""
    p = start(["-m", "scenario=erlang_a", "replications=300", "staffing.ft.count=10,11", "hydra/launcher=parallel"], tmp_path)
    kids: list[int] = []
    try:
        err = tmp_path / "stderr.txt"
        wait_for(lambda: all(f"#{j} " in err.read_text() for j in (0, 1)), 60, "both sweep points to run")
        kids = descendants(p.pid)
        assert len(kids) >= 2, kids
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [k for k in kids if alive(k)] == [], Path(f"/proc/{kids[0]}/cmdline").read_text() if alive(kids[0]) else ""
    finally:
        for k in kids:
            if alive(k):
                os.kill(k, signal.SIGKILL)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


# --- 4. Ctrl-C ------------------------------------------------------------------------------


def interrupted_sweep(tmp_path: Path, extra: list[str]) -> tuple[int, str, Path]:
    """A 3-point sweep whose first point is quick and the others long, Ctrl-C'd (SIGINT to
    the process group, as a terminal sends it) once the first has finished."""
    p = start(["-m", "scenario=erlang_a", "replications=1,400,401", *extra], tmp_path)
    try:
        root = wait_for(lambda: next(iter((tmp_path / "multirun" / "erlang_a").glob("*/0/metrics.json")), None), 60, "point 0").parents[1]
        err = tmp_path / "stderr.txt"
        wait_for(lambda: "replication 1/400 done" in err.read_text(), 60, "point 1 to run")
        os.killpg(p.pid, signal.SIGINT)
        t0 = time.monotonic()
        status = stopped(p, 30)
        assert time.monotonic() - t0 < 15, "Ctrl-C did not stop the sweep promptly"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    return status, err.read_text(), root


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=parallel"]], ids=["basic", "parallel"])
def test_ctrl_c_sweep_aggregates_finished_points(tmp_path, launcher):
    import pandas as pd

    status, stderr, root = interrupted_sweep(tmp_path, launcher)
    assert status == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    lines = [ln for ln in cssim_lines(stderr) if not ln.startswith("[")]  # joblib's own log lines aside
    assert len(lines) == 1 and f"cssim aggregate {root}" in lines[0] and "1 of 3" in lines[0], stderr
    assert list(pd.read_csv(root / "points.csv")["replications"]) == [1]
    failed = pd.read_csv(root / "failed_points.csv")
    assert list(failed["point"]) == [1, 2] and set(failed["status"]) == {"not run"}
    assert not list(root.rglob(".*.csv.*")) and not list(root.rglob(".*.json.*"))  # no temporary files


def test_ctrl_c_single_run_leaves_nothing(tmp_path):
    p = start(["scenario=erlang_a", "replications=400"], tmp_path)
    try:
        wait_for(lambda: "replication 1/400 done" in (tmp_path / "stderr.txt").read_text(), 60, "the run to start")
        os.killpg(p.pid, signal.SIGINT)
        status = stopped(p, 15)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    stderr = (tmp_path / "stderr.txt").read_text()
    assert status == 130, stderr
    lines = cssim_lines(stderr)
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in stderr, stderr
    assert list((tmp_path / "outputs" / "erlang_a").iterdir()) == []


# --- 5. A run too big for the machine -------------------------------------------------------


def test_run_too_big_for_memory_refused_before_start(tmp_path, cssim_here):
    status, _, line = cssim_here(["arrivals.total=1e12"])
    assert status == 2
    assert line.startswith("cssim: error: arrivals.total=1e+12: ") and "memory" in line and "GB" in line, line
    assert list(tmp_path.iterdir()) == []


# --- 6. File-system errors ------------------------------------------------------------------


def test_output_folder_cannot_be_made(tmp_path, cssim_here):
    """``outputs`` is a file: one line naming the folder and the OS error, exit 1."""
    (tmp_path / "outputs").write_text("not a folder\n")
    status, _, line = cssim_here(TINY)
    assert status == 1
    assert str(Path("outputs") / "small_shop_618") in line and "Not a directory" in line, line


def test_user_given_run_folder_cannot_be_made(tmp_path, cssim_here):
    """A folder the user named (``hydra.run.dir``) that cannot be made: exit 2."""
    (tmp_path / "here").write_text("not a folder\n")
    status, _, line = cssim_here([*TINY, f"hydra.run.dir={tmp_path / 'here' / 'run'}"])
    assert status == 2
    assert str(tmp_path / "here") in line and "Not a directory" in line, line


FULL_DISK = {
    # The disk fills while cssim writes intervals.csv (half of it is on disk) ...
    "intervals.csv": (
        "import pandas as pd\n"
        "def full(self, path, **kw):\n"
        "    open(path, 'w').write('replication,int')\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device', str(path))\n"
        "pd.DataFrame.to_csv = full\n"
    ),
    # ... or while hydra writes the run's .hydra/config.yaml, before the job starts.
    ".hydra/config.yaml": (
        "import hydra.core.utils as hu\n"
        "def full(cfg, filename, output_dir):\n"
        "    output_dir.mkdir(parents=True, exist_ok=True)\n"
        "    (output_dir / filename).write_text('name: ')\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device', str(output_dir / filename))\n"
        "hu._save_config = full\n"
    ),
}


@pytest.mark.parametrize("where", FULL_DISK)
def test_disk_full_while_writing(tmp_path, where):
    """A full disk (a mocked write failing with ENOSPC after writing part of its file): one
    line naming that file and the error, exit 1, and no run folder left behind."""
    code = "import errno, sys\n" + FULL_DISK[where] + f"sys.argv = ['cssim', *{TINY!r}]\nfrom cssim.cli import main\nmain()\n"
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 1, p.stderr
    line = one_error_line(p)
    assert f"{where}: No space left on device (ENOSPC)" in line and "/.intervals" not in line, line
    assert list((tmp_path / "outputs" / "small_shop_618").iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only tmpfs (root ignores file modes, not a read-only mount)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_run_in_read_only_folder(read_only_folder, cssim_here):
    status, _, line = cssim_here(TINY, cwd=read_only_folder)
    assert status == 1
    assert "outputs" in line and "Read-only file system" in line, line


# --- 10. Small things -----------------------------------------------------------------------


def test_zero_inquiries_and_dot_inf(tmp_path):
    """``.inf`` (YAML's spelling, as scenarios/erlang_a.yaml suggests) works like ``inf``; a run
    with no inquiries prints "n/a (no inquiries)", never "nan"."""
    p = run(["scenario=erlang_a", "arrivals.rate_per_min=0", "customers.patience.dist=constant",
             "customers.patience.mean=.inf", "horizon_h=1", "warmup_h=0", "replications=2"], tmp_path)
    assert "n/a (no inquiries)" in p.stderr and "nan" not in (p.stdout + p.stderr).lower(), p.stderr
    folder = next((tmp_path / "outputs" / "erlang_a").iterdir())
    assert "customers.patience.mean=inf" in json.loads((folder / "metrics.json").read_text())["overrides"]


def test_help_shows_types_and_scenarios(tmp_path, cssim_here):
    status, stdout, _ = cssim_here(["scenario=erlang_a", "--help"])
    assert status == 0
    for text in ("staffing.temps.count: int = 0", "customers.patience.mean: float = 120.0",
                 "arrivals.rate_per_min: float or null = 9.5", "routing.policy: str = humans_only",
                 "small_shop_618", "semir_double11_2016"):
        assert text in stdout, text
    assert list(tmp_path.iterdir()) == []
