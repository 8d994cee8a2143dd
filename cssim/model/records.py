"""What a replication leaves behind: per-customer facts and per-pool busy time (:class:`Records`),
and the state codes they use. :mod:`cssim.metrics` turns them into KPIs; the model modules
write them, each fact once, at the step where it happens. Times are seconds on the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cssim.model.customers import Customers

INF = math.inf

# How a chat ended (``Records.end``): still open, last reply sent, the customer left before a
# first reply started (a lost inquiry), the customer left mid-chat (a drop).
OPEN, DONE, ABANDONED, DROPPED = 0, 1, 2, 3
# Order state (``Records.order``): none, paid when placed, unpaid, unpaid and nudged.
NO_ORDER, PAID_NOW, UNPAID, UNPAID_NUDGED = 0, 1, 2, 3


@dataclass
class Records:
    """What happened, per customer (lists indexed by customer id) and per pool."""

    customers: Customers
    assigned: list  # instant the customer first got an agent (inf: never)
    first_start: list  # instant the first reply started (inf: never, e.g. abandoned)
    first_sent: list  # instant the first reply was sent (typing done)
    first_pool: list  # pool code of the first reply, -1 if none
    human_pool: list  # pool code of the human who took over an escalated chat, -1 if none
    end: list  # OPEN / DONE / ABANDONED / DROPPED
    end_pool: list  # pool code that ended the chat normally
    resp_sum: list  # sum of response times of all replies sent to this customer (s)
    resp_n: list  # number of those replies
    escalated: list
    order: list  # NO_ORDER / PAID_NOW / UNPAID / UNPAID_NUDGED
    followup_done: list
    followup_order: list
    busy_s: dict  # pool name -> list of busy seconds per interval (on shift)
    busy_w: dict  # pool name -> busy seconds on shift after the warm-up
    overtime_s: dict  # pool name -> busy seconds after agents stopped taking chats
    overtime_w: dict  # pool name -> the same, after the warm-up
    waiting_at_end: np.ndarray  # customers in the shop queue, alive, at the horizon (never served)
    groups: dict  # pool name -> roster groups (empty for a pool the routing never uses)
    edges_s: np.ndarray
    horizon_s: float
    end_s: float  # when the drain ended: the last chat (or follow-up/nudge) that began before the horizon
    events: int
    # Facts only the chat log (cssim.chatlog) reads; each set once per chat at an existing step.
    last_agent: list  # the Agent who held the chat last (an escalated chat's human), None if never assigned
    end_t: list  # instant the chat ended (done, closed by a leaver, dropped); inf while open or skipped in the queue
    order_t: list  # instant the order was placed (chat end, or the follow-up reply); inf if none
    turn: list  # the engine's turn counter: the customer's latest message (1-based) when the chat ended
    turns: list  # turns of the chat as run (an escalation may add one to the drawn number)
