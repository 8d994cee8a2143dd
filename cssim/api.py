"""The Python API: load a scenario, simulate it.

>>> import cssim
>>> cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0"])
>>> res = cssim.simulate(cfg, seed=1)
>>> set(cssim.METRICS) <= set(res.metrics)      # every public metric (docs/outputs.md)
True
>>> res.metrics["lost_inquiries"] == res.metrics["lost_before_reply"] + res.metrics["lost_after_handover"]
True
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from omegaconf import DictConfig

from cssim.chatlog import build_log
from cssim.config import Config, validate
from cssim.kernel import Simulation
from cssim.metrics import compute
from cssim.paths import DEFAULT_SCENARIO
from cssim.result import Result
from cssim.schema import compose_config, resolve_scenario, to_config


def load_scenario(name_or_path: str = DEFAULT_SCENARIO, overrides: Sequence[str] = ()) -> Config:
    """Compose a scenario with hydra, exactly as the ``cssim`` command line does.

    ``name_or_path``: a shipped scenario's name (``erlang_a``, ``semir_double11_2016``, ...) or
    the path of a YAML file with the same keys. ``overrides``: hydra override strings such as
    ``"staffing.temps.count=500"``. Returns a validated :class:`cssim.config.Config`; raises
    ``ValueError`` with a one-line message naming the bad key and value (and, for an error
    inside a scenario file, the file and the line).
    """
    return compose_config([f"scenario={resolve_scenario(str(name_or_path))}", *overrides])


def simulate(
    cfg: Config | DictConfig,
    seed: int | None = None,
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
    log: bool | None = None,
    engine: str = "kernel",
    extend: Callable[..., None] | None = None,
) -> Result:
    """Run one replication of ``cfg`` and return its :class:`~cssim.result.Result`.

    ``seed`` defaults to ``cfg.seed``. Replication ``r`` of a seed always sees the same customers
    whatever the staffing (common random numbers); the same config, seed and replication give
    the same numbers bit for bit. ``progress``, if given, is called with the share of the
    horizon simulated so far (0-1), once per planning interval. ``log`` (default ``cfg.log``):
    also return the chat log as ``Result.log`` (built after the run; a run without it pays
    nothing), stamped from ``cfg.start`` plus ``replication`` days.

    ``engine``: ``"kernel"`` (the fused step loop, :mod:`cssim.kernel`, fast) or ``"simpy"``
    (the readable reference, :mod:`cssim.model`); both give the same records, customer by
    customer. ``extend``: ``fn(env, shop)``, called before the clock starts to add SimPy
    processes to the reference model (``engine="simpy"`` only).
    """
    if engine not in ("kernel", "simpy"):
        raise ValueError(f"engine: expected 'kernel' or 'simpy', got {engine!r}")
    if extend is not None and engine != "simpy":
        raise ValueError("extend: runs only on the reference engine; pass engine='simpy'")
    if isinstance(cfg, DictConfig):
        cfg = to_config(cfg)
    validate(cfg)
    seed = cfg.seed if seed is None else int(seed)
    t0 = time.perf_counter()
    if engine == "simpy":
        from cssim.model import Shop

        records = Shop(cfg, seed, replication).run(extend)
    else:
        records = Simulation(cfg, seed, replication, progress).run()
    metrics, intervals = compute(cfg, records)
    chats = build_log(cfg, records, replication) if (cfg.log if log is None else log) else None
    return Result(metrics, intervals, seed, replication, time.perf_counter() - t0, chats)
