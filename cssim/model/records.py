"""What a replication leaves behind: per-customer facts and per-pool busy time (:class:`Records`),
and the state codes they use. :mod:`cssim.metrics` turns them into KPIs; the model modules
write them, each fact once, at the step where it happens. Times are seconds on the clock.

Per-customer facts are compact numpy arrays (about 80 bytes a customer in all), written during
the run through memoryviews (:class:`Writer`): a python-level element write without a python
list's 8-byte pointer and 24-byte float per element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cssim.model.customers import Customers

INF = math.inf

# How a chat ended (``Records.end``): still open, last reply sent, the customer left before a
# first reply started (a lost inquiry), the customer left mid-chat (a drop), the customer left
# after a bot hand-over before any human reply started (a lost inquiry too).
OPEN, DONE, ABANDONED, DROPPED, LOST_HANDOVER = 0, 1, 2, 3, 4
# Order state (``Records.order``): none, paid when placed, unpaid, unpaid and nudged.
NO_ORDER, PAID_NOW, UNPAID, UNPAID_NUDGED = 0, 1, 2, 3

# name -> (dtype, initial value) of every per-customer fact.
FIELDS = {
    "assigned": (np.float64, INF),  # instant the customer first got an agent (inf: never)
    "first_start": (np.float64, INF),  # instant the first reply started (inf: never, e.g. abandoned)
    "first_sent": (np.float64, INF),  # instant the first reply was sent (typing done)
    "first_pool": (np.int8, -1),  # pool code of the first reply, -1 if none
    "human_pool": (np.int8, -1),  # pool code of the human who took over an escalated chat, -1 if none
    "handover_t": (np.float64, INF),  # instant the bot handed the chat to a human (inf: never)
    "human_start": (np.float64, INF),  # instant the human's first reply after a hand-over started
    "human_sent": (np.float64, INF),  # ... and was sent (typing done)
    "drop_wait": (np.float64, INF),  # a mid-chat drop: how long the customer had waited for the reply (s)
    "end": (np.int8, OPEN),  # OPEN / DONE / ABANDONED / DROPPED / LOST_HANDOVER
    "end_pool": (np.int8, -1),  # pool code that ended the chat normally
    "resp_sum": (np.float64, 0.0),  # sum of response times of all replies sent to this customer (s)
    "resp_n": (np.int32, 0),  # number of those replies
    "escalated": (np.bool_, False),
    "order": (np.int8, NO_ORDER),  # NO_ORDER / PAID_NOW / UNPAID / UNPAID_NUDGED
    "followup_done": (np.bool_, False),
    "followup_order": (np.bool_, False),
    # Facts only the chat log (cssim.chatlog) reads; each set once per chat at an existing step.
    "last_agent": (np.int32, -1),  # index in Records.agents of who held the chat last, -1 if never assigned
    "end_t": (np.float64, INF),  # instant the chat ended (done, closed by a leaver, dropped); inf if never
    "order_t": (np.float64, INF),  # instant the order was placed (chat end, or the follow-up reply); inf if none
    "turn": (np.int32, 1),  # the customer's latest message (1-based) when the chat ended
    "turns": (np.int32, 0),  # messages of the chat as run (an escalation may add one to the drawn number)
}


class Writer:
    """Per-customer fact arrays (``arrays``) and a memoryview of each, by the same names, that
    the model writes through."""

    def __init__(self, n: int, turns: np.ndarray):
        self.arrays = {k: np.full(n, v, dtype=dt) for k, (dt, v) in FIELDS.items()}
        self.arrays["turns"][:] = turns
        for k, a in self.arrays.items():
            setattr(self, k, memoryview(a))


@dataclass
class Records:
    """What happened, per customer (numpy arrays indexed by customer id; see :data:`FIELDS`)
    and per pool."""

    customers: Customers
    assigned: np.ndarray
    first_start: np.ndarray
    first_sent: np.ndarray
    first_pool: np.ndarray
    human_pool: np.ndarray
    handover_t: np.ndarray
    human_start: np.ndarray
    human_sent: np.ndarray
    drop_wait: np.ndarray
    end: np.ndarray
    end_pool: np.ndarray
    resp_sum: np.ndarray
    resp_n: np.ndarray
    escalated: np.ndarray
    order: np.ndarray
    followup_done: np.ndarray
    followup_order: np.ndarray
    last_agent: np.ndarray
    end_t: np.ndarray
    order_t: np.ndarray
    turn: np.ndarray
    turns: np.ndarray
    agents: list  # every Agent in use, indexed as last_agent
    busy_s: dict  # pool name -> list of busy seconds per interval (on shift)
    busy_w: dict  # pool name -> busy seconds on shift after the warm-up
    overtime_s: dict  # pool name -> busy seconds after agents stopped taking chats
    overtime_w: dict  # pool name -> the same, after the warm-up
    waiting_at_end: np.ndarray  # customers alive at the horizon, waiting for a first reply in the
    # shop queue or for a human after a hand-over (never served)
    groups: dict  # pool name -> roster groups (empty for a pool the routing never uses)
    edges_s: np.ndarray
    horizon_s: float
    end_s: float  # when the drain ended: the last chat (or follow-up/nudge) that began before the horizon
    events: int
