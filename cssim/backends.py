"""Where replications run: in this process, in local worker processes, or on a Ray cluster.

Replication ``r`` of a seed draws from its own streams (seed, r), so a replication's numbers do
not depend on where or in which order it runs: every backend returns the same results, in the
order asked for. Only wall time differs.

* ``serial``: one after another in this process (the default; no start-up cost).
* ``loky``: joblib's reusable process pool on this machine (``workers`` processes, 0 = every
  core); the pool stays warm for the next call in the same process.
* ``ray``: one Ray task per replication, on the cluster at ``runner.address`` or on a Ray
  started for this machine (its servers listen on 127.0.0.1 only). Needs ``cssim[cluster]``.

>>> import cssim
>>> from cssim.backends import map_replications
>>> cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0"])
>>> [r.replication for r in map_replications(cfg, [0, 1])]
[0, 1]
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from cssim.config import Config
from cssim.result import Result

Done = Callable[[int, Result], None]


def replicate(cfg: Config, replication: int) -> Result:
    """One replication of ``cfg`` with seed ``cfg.seed`` (a module-level function, so that
    worker processes and Ray tasks can unpickle it)."""
    from cssim.api import simulate

    return simulate(cfg, seed=cfg.seed, replication=replication)


def map_replications(
    cfg: Config,
    reps: Sequence[int],
    on_done: Done | None = None,
    fn: Callable[[Config, int], Result] = replicate,
) -> list[Result]:
    """Run ``fn(cfg, r)`` for every replication ``r`` in ``reps`` on ``cfg.runner.backend``.

    Returns the results in the order of ``reps``, whichever finished first. ``on_done(r, result)``
    is called in this process as each one finishes (for progress). ``fn`` must be a
    module-level function for the ``loky`` and ``ray`` backends.
    """
    reps = list(reps)
    backend = cfg.runner.backend
    # One replication is not worth a pool's start-up, unless a cluster was asked for by address.
    if backend == "serial" or (len(reps) <= 1 and cfg.runner.address is None):
        out = []
        for r in reps:
            res = fn(cfg, r)
            if on_done:
                on_done(r, res)
            out.append(res)
        return out
    if backend == "loky":
        return _map_loky(cfg, reps, on_done, fn)
    if backend == "ray":
        return _map_ray(cfg, reps, on_done, fn)
    raise ValueError(f"runner.backend={backend!r}: unknown backend")


def _map_loky(cfg: Config, reps: list[int], on_done: Done | None, fn) -> list[Result]:
    from concurrent.futures import as_completed

    # joblib's own executor over loky's reusable pool: the pool is one per process, and joblib
    # (the planner's Parallel, the sweep launcher) expects the instance it set up itself.
    from joblib.executor import get_memmapping_executor

    workers = cfg.runner.workers or os.cpu_count() or 1
    executor = get_memmapping_executor(min(workers, len(reps)))
    futures = {executor.submit(fn, cfg, r): i for i, r in enumerate(reps)}
    out: list[Result | None] = [None] * len(reps)
    for fut in as_completed(futures):
        i = futures[fut]
        out[i] = fut.result()
        if on_done:
            on_done(reps[i], out[i])
    return out  # type: ignore[return-value]


def ray_init(address: str | None = None, num_cpus: int | None = None, log_to_driver: bool = False) -> None:
    """Connect to the Ray cluster at ``address``, or start a Ray for this machine only, once
    per process. A Ray we start listens on 127.0.0.1 only (see
    :func:`cssim.cluster.prepare_ray_env`: without it Ray swaps the loopback address for the
    machine's network address and listens on every interface). ``log_to_driver``: show the tasks'
    stdout and stderr here (the sweep launcher wants its points' progress lines)."""
    from cssim.cluster import prepare_ray_env

    prepare_ray_env(address)
    try:
        import ray
    except ImportError:
        raise ValueError("runner.backend=ray: Ray is not installed (pip install 'cssim[cluster]')") from None
    if ray.is_initialized():
        return
    if address is None:
        ray.init(
            _node_ip_address="127.0.0.1",
            include_dashboard=False,
            num_cpus=num_cpus or None,
            log_to_driver=log_to_driver,
            configure_logging=False,
        )
    else:
        ray.init(address=address, log_to_driver=log_to_driver, configure_logging=False)


def _map_ray(cfg: Config, reps: list[int], on_done: Done | None, fn) -> list[Result]:
    ray_init(cfg.runner.address, cfg.runner.workers or None)
    import ray

    task = ray.remote(num_cpus=1)(_call)
    cfg_ref = ray.put(cfg)  # shipped once, not once per task
    limit = cfg.runner.workers or len(reps)  # replications in flight at once
    out: list[Result | None] = [None] * len(reps)
    pending: dict = {}
    nxt = 0
    while nxt < len(reps) or pending:
        while nxt < len(reps) and len(pending) < limit:
            pending[task.remote(fn, cfg_ref, reps[nxt])] = nxt
            nxt += 1
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            out[i] = ray.get(ref)
            if on_done:
                on_done(reps[i], out[i])
    return out  # type: ignore[return-value]


def _call(fn, cfg: Config, replication: int) -> Result:
    return fn(cfg, replication)


def simulate_many(cfg: Config) -> list[Result]:
    """All ``cfg.replications`` replications of ``cfg`` (seed ``cfg.seed``) on
    ``cfg.runner.backend``, in replication order; the same numbers on every backend.

    >>> import cssim
    >>> cfg = cssim.load_scenario("erlang_a", overrides=["horizon_h=1", "warmup_h=0", "replications=2"])
    >>> [r.replication for r in cssim.simulate_many(cfg)]
    [0, 1]
    """
    return map_replications(cfg, range(cfg.replications))
