"""The fused kernel: the model of :mod:`cssim.model` as one step loop for speed, proven
record-identical to the SimPy reference (``tests/test_engine_identity.py``). It shares the
customers (:mod:`cssim.model.customers`) and the records (:mod:`cssim.model.records`) with the
reference; one room per concept (see each module's docstring for its semantics):

* :mod:`~cssim.kernel.chat` — a chat while it is open (the state its turns need);
* :mod:`~cssim.kernel.pools` — agents, slots, the backlog-aware routing pick;
* :mod:`~cssim.kernel.conversation` — turns, a human's typing queue, a bot chat computed whole;
* :mod:`~cssim.kernel.funnel` — orders, payment, follow-ups, nudges;
* :mod:`~cssim.kernel.shifts` — who is on when; busy and overtime seconds;
* :mod:`~cssim.kernel.simulation` — the clock and the wiring.
"""

from cssim.model.customers import CustomerDraws, draw_customers
from cssim.model.records import Records
from cssim.kernel.simulation import Simulation

__all__ = ["CustomerDraws", "Records", "Simulation", "draw_customers"]
