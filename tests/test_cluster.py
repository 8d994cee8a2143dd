"""Beyond one process: replications on every runner backend, sweeps on Ray and SLURM launchers.

Specification: replication r draws from streams (seed, r) wherever it runs, so the serial, loky
and Ray backends give identical metrics and interval tables, and a sweep through the Ray
launcher or submitit writes a points.csv identical to the basic launcher's. The Ray tests run
against a real Ray head on this machine (127.0.0.1 only), started here and stopped by its
process id; they skip with a reason when the ``cluster`` extra is not installed (CI installs it).
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from test_cli import CSSIM, SMALL, only_dir

HAVE_RAY = importlib.util.find_spec("ray") is not None and importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
HAVE_SUBMITIT = importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="Ray / hydra-ray-launcher not installed (pip install '.[cluster]')")
needs_submitit = pytest.mark.skipif(not HAVE_SUBMITIT, reason="hydra-submitit-launcher not installed (pip install '.[cluster]')")

GRID = ["staffing.ft.count=2,4"]


def run(args: list[str], cwd: Path, check_status: int | None = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    """The cssim command in a subprocess; a wrong exit status shows its whole output."""
    env = {**(env if env is not None else os.environ), "HYDRA_FULL_ERROR": "0"}
    p = subprocess.run(CSSIM + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    if check_status is not None:
        assert p.returncode == check_status, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head on 127.0.0.1 for this module; its output is printed if it fails to start."""
    from cssim.cluster import LocalRayHead

    head = LocalRayHead(num_cpus=2, log=tmp_path_factory.mktemp("ray") / "head.log")
    try:
        address = head.start()
    except RuntimeError as e:
        pytest.fail(f"could not start a local Ray head: {e}")
    yield head, address
    try:
        import ray

        ray.shutdown()  # this process may have connected as a driver
    finally:
        head.stop()
        assert head.proc.poll() is not None, "the Ray head is still running"


def _listening_sockets_of(pgid: int) -> list[str]:
    """The listening TCP sockets of the processes in process group ``pgid`` (via ss)."""
    pids = {p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(p) == pgid}
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout.splitlines()
    return [ln for ln in out if any(f"pid={pid}," in ln for pid in pids)]


def _pgid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


@needs_ray
def test_ray_head_listens_on_loopback_only(ray_head):
    """Every server the local head started listens on 127.0.0.1, never on all interfaces."""
    head, _ = ray_head
    if subprocess.run(["which", "ss"], capture_output=True).returncode != 0:
        pytest.skip("no ss command to list sockets")
    lines = _listening_sockets_of(head.proc.pid)
    assert lines, "found no listening socket of the Ray head"
    bad = [ln for ln in lines if "127.0.0.1" not in ln]
    assert not bad, "Ray listens beyond the loopback address:\n" + "\n".join(bad)


@needs_ray
def test_runner_backends_give_identical_results(ray_head):
    """serial, loky (2 processes) and Ray (the local head) run the same replications and
    return identical metrics and interval tables, in replication order."""
    import cssim

    _, address = ray_head
    base = ["scenario=small_shop_618", "arrivals.total=400", "replications=3"]
    results = {}
    for backend in (["runner.backend=serial"], ["runner.backend=loky", "runner.workers=2"],
                    ["runner.backend=ray", f"runner.address={address}"]):
        cfg = cssim.load_scenario("small_shop_618", overrides=base[1:] + backend)
        results[backend[0]] = cssim.simulate_many(cfg)
    serial = results["runner.backend=serial"]
    assert [r.replication for r in serial] == [0, 1, 2]
    for name, res in results.items():
        assert [r.replication for r in res] == [0, 1, 2], name
        for a, b in zip(serial, res):
            assert a.metrics.keys() == b.metrics.keys()
            differ = {k: (a.metrics[k], b.metrics[k]) for k in a.metrics if not _same(a.metrics[k], b.metrics[k])}
            assert not differ, f"{name}: replication {a.replication} differs: {differ}"
            pd.testing.assert_frame_equal(a.intervals, b.intervals)


def _same(x, y) -> bool:
    """Equal, bit for bit, with NaN equal to NaN (an undefined rate is NaN on every backend)."""
    return x == y or (x != x and y != y)


def sweep(tmp_path: Path, launcher: list[str], env: dict | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    run(["-m", *SMALL, *GRID, *launcher], tmp_path, env=env)
    return only_dir(tmp_path / "multirun" / "small_shop_618")


@pytest.fixture(scope="module")
def basic_points(tmp_path_factory) -> pd.DataFrame:
    return pd.read_csv(sweep(tmp_path_factory.mktemp("basic"), []) / "points.csv")


@needs_ray
def test_ray_launcher_sweep_matches_basic_launcher(ray_head, basic_points, tmp_path):
    """hydra/launcher=ray against the running head: every point ran as a Ray task and wrote
    its folder under the (absolute) sweep folder; points.csv equals the basic launcher's."""
    head, address = ray_head
    root = sweep(tmp_path, ["hydra/launcher=ray", f"hydra.launcher.ray.init.address={address}"])
    try:
        pd.testing.assert_frame_equal(basic_points, pd.read_csv(root / "points.csv"))
    except AssertionError:
        print(head.log.read_text()[-3000:])
        raise
    assert (root / "points.parquet").is_file() and (root / "charts" / "intraday.png").is_file()


def test_ray_launcher_without_address_or_extra_is_one_line(tmp_path):
    """No cluster address (or no cluster extra): exit 2, one line saying what to add."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    p = run(["-m", *SMALL, *GRID, "hydra/launcher=ray"], tmp_path, check_status=2, env=env)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cssim: error: hydra/launcher=ray"), p.stderr
    assert ("hydra.launcher.ray.init.address" in lines[0]) == HAVE_RAY
    assert list(tmp_path.iterdir()) == []


def test_unknown_runner_backend_is_one_line(tmp_path):
    p = run([*SMALL, "runner.backend=dask"], tmp_path, check_status=2)
    assert p.stderr.strip() == "cssim: error: runner.backend='dask': unknown backend (one of serial, loky, ray)"


@needs_submitit
def test_submitit_local_sweep_matches_basic_launcher(basic_points, tmp_path):
    """hydra/launcher=submitit_local (submitit's local executor, the same code path as SLURM
    without the queue): points.csv equals the basic launcher's."""
    root = sweep(tmp_path, ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"])
    pd.testing.assert_frame_equal(basic_points, pd.read_csv(root / "points.csv"))


FAKE_SBATCH = """#!{python}
# Records what submitit hands to SLURM, then refuses it (no queue here).
import sys, pathlib
script = pathlib.Path(sys.argv[-1]).read_text()
pathlib.Path({out!r}).write_text(" ".join(sys.argv[1:]) + "\\n" + script)
print("sbatch: error: fake SLURM for the test, nothing is queued", file=sys.stderr)
sys.exit(1)
"""


@needs_submitit
def test_slurm_preset_reaches_sbatch(tmp_path):
    """hydra/launcher=slurm builds one job array for the sweep (at most its 2 points at once)
    with the preset's resources, and runs each point with submitit in the same Python: the
    sbatch script a real cluster would get (a stand-in sbatch records it)."""
    bin_dir, captured = tmp_path / "bin", tmp_path / "sbatch.txt"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH.format(python=sys.executable, out=str(captured))),
                       ("srun", "#!/bin/sh\nexit 1\n")):  # submitit checks that srun exists
        fake = bin_dir / name
        fake.write_text(text)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    work = tmp_path / "work"
    work.mkdir()
    p = run(["-m", *SMALL, *GRID, "hydra/launcher=slurm", "hydra.launcher.partition=peak"], work, check_status=None, env=env)
    assert captured.is_file(), f"sbatch was not called\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    script = captured.read_text()
    for line in ("#SBATCH --partition=peak", "#SBATCH --cpus-per-task=1", "#SBATCH --mem=2GB",
                 "#SBATCH --time=120", "#SBATCH --array=0-1%2", "-m submitit.core._submit"):
        assert line in script, f"{line!r} not in the sbatch script:\n{script}"
    assert sys.executable in script
