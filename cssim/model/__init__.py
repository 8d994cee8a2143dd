"""The reference model: the shop as SimPy processes in collaborating objects, for reading,
extending (``cssim.simulate(cfg, engine="simpy", extend=fn)``) and proving the fused kernel
(:mod:`cssim.kernel`) record-identical (``tests/test_engine_identity.py``).

* :mod:`~cssim.model.shop` — builds the world (environment, pools, router, desk, roster) and runs it;
* :mod:`~cssim.model.customer` — one customer's life as one process function, top to bottom;
* :mod:`~cssim.model.pools` — agents, slots, typing queues; each pool books its own busy time;
* :mod:`~cssim.model.router` — the backlog-aware pick and the shop queue;
* :mod:`~cssim.model.desk` — orders, follow-ups and nudges (the task desk);
* :mod:`~cssim.model.roster` — who is on when.

The customers themselves (drawn before the clock starts, independent of staffing) and the
records both engines write are shared: :mod:`cssim.model.customers`, :mod:`cssim.model.records`.
"""

from cssim.model.shop import Shop, ShopEnvironment

__all__ = ["Shop", "ShopEnvironment"]
