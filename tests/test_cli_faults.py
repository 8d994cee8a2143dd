"""The faults a new user hit (issue 9), each reproduced with a real ``cssim`` process.

Specification: two runs never share a folder; a user's own scenario runs from the command line
(by path, or by ``hydra.searchpath``) and an error inside it names the file, the key or line and
the problem; a run too big for the machine is refused before it starts; file-system errors are
one line naming the path; a zero-inquiry run and ``.inf`` are handled; ``--help`` shows types.
Each process is small (a few hundred inquiries, or a long run that the test interrupts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def cssim_lines(stderr: str) -> list[str]:
    """stderr without the per-replication progress lines."""
    return [ln for ln in stderr.splitlines() if ln.strip() and ": replication " not in ln]


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
        monkeypatch.setattr(cli, "_RUN", {"folder": None, "created": False, "user_given": False})
        monkeypatch.setattr(cli, "_STATUS", {"failed": False, "status": 1, "done": False})
        with pytest.raises(SystemExit) as e:
            cli.main()
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        lines = [ln for ln in out.err.splitlines() if ln.strip()]
        assert len(lines) <= 1, out.err
        return e.value.code, out.out, lines[0] if lines else ""

    return call


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
    """The README's way: ``hydra.searchpath=[file:///DIR] scenario=NAME`` with DIR/scenario/NAME.yaml."""
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
