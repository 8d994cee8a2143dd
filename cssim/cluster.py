"""Running cssim beyond one process: checks for the cluster launchers, and a one-machine Ray.

* :func:`launcher_problem`: what is missing for ``hydra/launcher=ray|slurm|submitit_*`` or
  ``runner.backend=ray`` (the ``cluster`` extra, a cluster address), as one line.
* :func:`prepare_ray_env`: a Ray on the loopback address needs Ray told so before it is
  imported (otherwise it swaps 127.0.0.1 for the machine's network address).
* :class:`LocalRayHead`: a Ray head for this machine only (every server on 127.0.0.1), started
  as ``ray start --head --block`` in its own process group and stopped by its process id. For
  trying the Ray launcher, the tests and the benchmarks; a real cluster is started by its
  administrator (``ray start --head`` on the head node, ``ray up``, KubeRay).

    python -m cssim.cluster            # start one, print its address, stop it on Ctrl-C or SIGTERM
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOPBACK = ("127.", "localhost", "::1", "[::1]")
REMOTE_LAUNCHERS = {
    "ray": "hydra_plugins.hydra_ray_launcher",
    "slurm": "hydra_plugins.hydra_submitit_launcher",
    "submitit_slurm": "hydra_plugins.hydra_submitit_launcher",
    "submitit_local": "hydra_plugins.hydra_submitit_launcher",
}
_EXTRA = "pip install 'cssim[cluster]'"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _arg(argv: list[str], key: str) -> str | None:
    for a in argv:
        k, eq, v = a.lstrip("+~").partition("=")
        if eq and k == key:
            return v
    return None


def launcher_problem(argv: list[str]) -> str | None:
    """The first thing the command line's launcher or runner backend lacks, as one line, or None."""
    launcher = _arg(argv, "hydra/launcher")
    if launcher in REMOTE_LAUNCHERS and not _installed(REMOTE_LAUNCHERS[launcher]):
        return f"hydra/launcher={launcher}: needs the cluster extra ({_EXTRA})"
    if launcher == "ray" and not (_arg(argv, "hydra.launcher.ray.init.address") or os.environ.get("RAY_ADDRESS")):
        return (
            "hydra/launcher=ray: which Ray cluster? add hydra.launcher.ray.init.address=HOST:PORT "
            "(or set RAY_ADDRESS); a Ray for this machine: python -m cssim.cluster"
        )
    if _arg(argv, "runner.backend") == "ray" and not _installed("ray"):
        return f"runner.backend=ray: Ray is not installed ({_EXTRA})"
    return None


def prepare_ray_env(address: str | None) -> None:
    """Before ``import ray``: when the cluster is this machine's loopback Ray (``address`` on
    127.0.0.1) or Ray will be started here (``address`` None), keep Ray on the loopback
    address. Ray reads this variable once, at import; it only changes how Ray resolves the
    local address (its name dates from a Windows/macOS switch)."""
    if address is None or address.removeprefix("ray://").startswith(LOOPBACK):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def prepare_cli_env(argv: list[str]) -> None:
    """What the command line needs before hydra starts a Ray launcher."""
    if _arg(argv, "hydra/launcher") == "ray":
        prepare_ray_env(_arg(argv, "hydra.launcher.ray.init.address") or os.environ.get("RAY_ADDRESS"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRayHead:
    """A Ray head on this machine, listening on 127.0.0.1 only.

    >>> with LocalRayHead(num_cpus=2) as address:     # doctest: +SKIP
    ...     subprocess.run(["cssim", "-m", "staffing.ft.count=2,4", "hydra/launcher=ray",
    ...                     f"hydra.launcher.ray.init.address={address}"])

    ``address`` is ``127.0.0.1:PORT``; processes that connect to it need
    :func:`prepare_ray_env` (the ``cssim`` command does it), or the variable in :attr:`env`.
    Stopping sends SIGTERM to ``ray start`` (which drains and stops its processes), then
    SIGKILL to whatever of its process group is left, and removes its temporary folder.
    """

    def __init__(self, num_cpus: int | None = None, port: int | None = None, log: Path | None = None):
        self.num_cpus = num_cpus
        self.port = port or _free_port()
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.temp_dir: str | None = None
        # Token authentication off, explicitly: Ray 2.x turns it on for a head when a token
        # file (~/.ray/auth_token, written by any earlier local ray.init) exists, and clients
        # then need that token. This head is reachable from this machine only.
        self.env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> str:
        """Start the head; return its address. Raises ``RuntimeError`` with the head's own
        output when it does not come up within ``timeout_s``."""
        ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
        if ray is None:
            raise RuntimeError(f"no ray executable ({_EXTRA})")
        # Short: Ray's unix sockets live under it and their paths must stay below 108 bytes.
        self.temp_dir = tempfile.mkdtemp(prefix="cssim-ray-", dir="/tmp")
        self.log = self.log or Path(self.temp_dir) / "head.log"
        cmd = [
            ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={self.port}",
            f"--ray-client-server-port={_free_port()}", f"--dashboard-agent-listen-port={_free_port()}",
            "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp_dir}",
        ]
        if self.num_cpus:
            cmd.append(f"--num-cpus={self.num_cpus}")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env}, start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "Ray runtime started" in text:
                return self.address
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"the Ray head did not start (exit {self.proc.returncode}); its output:\n{tail}")

    def stop(self, timeout_s: float = 45.0) -> None:
        """Stop the head and every process it started (by process id and group, never by name)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of its own group only
            except ProcessLookupError:
                pass
            if self.proc.poll() is None:
                self.proc.wait(10)
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    """``python -m cssim.cluster [NUM_CPUS]``: a Ray head for this machine until Ctrl-C or
    SIGTERM (a service manager's stop, CI's clean-up): either stops the head and every process
    of its group, then exits 130 or 143."""
    from cssim.commands import handle_term, stop_status

    handle_term()
    head = LocalRayHead(num_cpus=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    status = 0
    try:
        address = head.start()
        print(f"Ray head on {address} (127.0.0.1 only; ray start pid {head.proc.pid}). In another shell:")
        print(f"  cssim sweep staffing.temps.count=0,500,1000 hydra/launcher=ray hydra.launcher.ray.init.address={address}")
        print(f"  cssim runner.backend=ray runner.address={address} replications=8")
        print("Ctrl-C (or SIGTERM) stops it.", flush=True)
        while head.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt as e:
        status = stop_status(e)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping takes seconds: let it finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        head.stop()
    sys.exit(status)


if __name__ == "__main__":
    main()
