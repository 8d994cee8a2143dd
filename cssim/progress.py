"""Progress on stderr, with tqdm: bars on a terminal, plain lines otherwise (logs, CI, workers).

* :class:`ReplicationProgress`: one job's replications. A bar that moves by planning
  interval in a serial run (by finished replication on a parallel backend), and one line per
  finished replication (``label: replication 2/5 done in 8.1 s (lost 16.7% of 301,009
  inquiries)``), printed above the bar on a terminal, alone elsewhere.
* :class:`SweepProgress`: a hydra callback with a bar over sweep points when the launcher runs
  the points in this process (the basic launcher), one line per point when stderr is not a
  terminal. Launchers that run points elsewhere (joblib, Ray, SLURM) show their points'
  replication lines instead.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from tqdm import tqdm

from cssim.result import Result


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ReplicationProgress:
    """Progress of ``total`` replications of one job, labelled ``label``."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None):
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.tty = _is_tty(self.stream)
        self.bar = None
        if self.tty:
            self.bar = tqdm(
                total=total, desc=label, file=self.stream, leave=False, dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total} replications [{elapsed}<{remaining}]",
            )

    def update(self, done: float) -> None:
        """``done``: replications finished so far, fractions included."""
        if self.bar is not None:
            self.bar.n = min(float(done), float(self.total))
            self.bar.refresh()

    def finished(self, rep: int, res: Result, count: int | None = None) -> None:
        """Replication ``rep`` (0-based) is done; ``count``: how many are done now."""
        m = res.metrics
        lost = f"lost {100 * m['lost_rate']:.1f}% of {m['inquiries']:,} inquiries" if m["inquiries"] else "lost n/a (no inquiries)"
        line = f"{self.label}: replication {rep + 1}/{self.total} done in {res.wall_s:.1f} s ({lost})"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            if count is not None:
                self.update(count)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class SweepProgress(Callback):
    """A bar (terminal) or a line per point (elsewhere) over the points of a sweep, for
    launchers that run the points in this process."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._bar = None

    def __getstate__(self) -> dict:
        # Launchers pickle the callbacks to their workers; a bar (an open stream) stays here.
        return {**self.__dict__, "_bar": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from cssim.schema import expand_sweep

        try:
            self._total = len(expand_sweep([str(o) for o in config.hydra.overrides.task]))
        except Exception:
            self._total = None
        self._pid, self._done, self._t0 = os.getpid(), 0, time.perf_counter()
        self._tty = _is_tty(sys.stderr)
        if self._tty:
            self._bar = tqdm(total=self._total, desc="sweep", unit="point", file=sys.stderr, dynamic_ncols=True)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self._pid != os.getpid():  # a worker process (joblib, Ray, SLURM): not our bar
            return
        self._done += 1
        if self._bar is not None:
            self._bar.update(1)
        else:
            total = "?" if self._total is None else self._total
            # Not "cssim: ...": that prefix is kept for errors and notices a reader must see.
            sys.stderr.write(f"sweep: point {self._done}/{total} done ({time.perf_counter() - self._t0:.1f} s so far)\n")
            sys.stderr.flush()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._bar is not None and self._pid == os.getpid():
            self._bar.close()
            self._bar = None
