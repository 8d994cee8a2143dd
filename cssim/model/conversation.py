"""Conversations: turns, a human's typing queue, a bot chat computed whole (MODEL.md steps 4-5).

A chat is ``turns`` customer messages, each answered by one reply; between a reply and the next
message the customer thinks (``think``, s). Times are absolute seconds on the clock.

* A human types one reply at a time, FIFO: a message that reaches an agent at ``now`` starts
  being answered at ``max(now, agent.busy_until)`` and is sent a reply time (s) later. Since the
  start is known at once, abandonment (judged at the reply's start) is settled at once and
  exactly: a customer whose reply would start after its deadline has left at the deadline. A
  visible leaver closes the chat then (a lost inquiry on turn 1, a drop later); a silent one
  still costs the reply's typing and the chat closes when it is sent.
* Message ``k + 1`` is written ``think`` seconds after reply ``k`` is sent; its own mid-chat
  patience (``midpat``, s) starts then.
* The bot replies to all its chats at once and never makes anyone wait, so a bot chat is
  computed whole when assigned: one event at its end (resolved) or at the hand-over message
  (escalated: the customer then waits for a human, ahead of new inquiries, with mid-chat
  patience as a timer).
* The chat holds its slot from assignment to its end; at a normal end a presale chat may place
  an order (:mod:`cssim.model.funnel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cssim.model.customers import Customers
from cssim.model.funnel import FOLLOWUP
from cssim.model.pools import READY, Agent
from cssim.model.records import ABANDONED, DONE, DROPPED, INF, NO_ORDER, OPEN

if TYPE_CHECKING:
    from cssim.model.simulation import Call


class Conversation:
    """Mixed into the simulation: the per-customer inputs and state (python lists indexed by
    customer id, much cheaper to index than numpy arrays) and every step of a chat."""

    def _init_chats(self, cust: Customers) -> None:
        # Per-customer inputs as python lists (element access on lists is much cheaper).
        n = cust.n
        self.n = n
        self.arrival = cust.arrival.tolist()
        self.deadline = (cust.arrival + cust.patience).tolist()  # deadline of the pending message
        self.msg_t = self.arrival.copy()  # when the pending message was written
        self.silent = cust.silent.tolist()
        self.presale = cust.presale.tolist()
        self.returning = cust.returning.tolist()
        self.turns = cust.turns.tolist()
        self.offset = cust.offset.tolist()
        self.think = cust.think.tolist()
        self.midpat = cust.midpat.tolist()
        self.u_order = cust.u_order.tolist()
        self.u_pay_now = cust.u_pay_now.tolist()
        self.u_followup = cust.u_followup.tolist()
        self.u_bot = cust.u_bot.tolist()

        # Per-customer state.
        self.turn = [1] * n  # turn whose reply is pending / being typed
        self.agent_of: list[Agent | None] = [None] * n
        self.assigned = [INF] * n
        self.first_start = [INF] * n
        self.first_sent = [INF] * n
        self.first_pool = [-1] * n
        self.human_pool = [-1] * n
        self.end = [OPEN] * n
        self.end_pool = [-1] * n
        self.resp_sum = [0.0] * n
        self.resp_n = [0] * n
        self.escalated = [False] * n
        self.order = [NO_ORDER] * n
        self.followup_done = [False] * n
        self.followup_order = [False] * n
        self.last_agent: list[Agent | None] = [None] * n  # chat log only (see Records)
        self.end_t = [INF] * n
        self.order_t = [INF] * n

        r = self.cfg.routing
        self.resolve_prob = r.bot_resolve_prob
        self.escalate_at = r.bot_turns_before_escalation

    def _reply(self, agent: Agent, cid: int) -> None:
        """The customer's pending message joins the agent's typing FIFO. The reply's start is
        known now, so abandonment (judged at reply start) is settled now."""
        now = self.now
        pool = agent.pool
        start = agent.busy_until if agent.busy_until > now else now
        k = self.turn[cid]
        if start > self.deadline[cid]:
            if k > 1:  # includes an escalated chat's first human reply
                self._at(self.deadline[cid], self._end_dropped, cid)
            elif self.silent[cid]:
                # Gone without a word: the agent still types the reply when reaching them.
                done = start + pool.reply.next()
                agent.busy_until = done
                if agent.where == READY:
                    pool.typing(agent)
                self._busy(agent, start, done)
                if self.tasks_on and not agent.in_heap:
                    self._track(agent)
                self._at(done, self._end_abandoned, cid)
            else:
                self._at(self.deadline[cid], self._end_abandoned, cid)
            return
        done = start + pool.reply.next()
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)  # idle with a free slot until now: file it as typing
        self._busy(agent, start, done)
        if self.tasks_on and not agent.in_heap:
            self._track(agent)  # keep it findable by when it will be free for tasks
        if k == 1:
            self.first_start[cid] = start
            self.first_sent[cid] = done
            self.first_pool[cid] = pool.code
        elif self.escalated[cid] and self.human_pool[cid] < 0:
            self.human_pool[cid] = pool.code  # the human's first reply to a handed-over chat
        self.resp_sum[cid] += done - self.msg_t[cid]
        self.resp_n[cid] += 1
        if k < self.turns[cid]:
            self._at(done + self.think[self.offset[cid] + k - 1], self._on_message, cid)
        else:
            self._at(done, self._end_done, cid)

    def _on_message(self, ev: Call) -> None:
        """The customer writes again (message k+1, a human's chat) at ``now``: mid-chat patience
        starts now, and the message joins the agent's typing FIFO.

        This is :meth:`_reply` for a later turn, fused in (and :meth:`Shifts._busy`'s common
        case inlined with the same arithmetic): it runs for nearly every turn of every chat. A
        later turn has no first-reply facts and no silent abandoner, and an escalated chat got
        its ``human_pool`` at the human's first reply (via ``_assign``), before any message here.
        """
        cid = ev.value
        now = self.now
        k = self.turn[cid]
        self.turn[cid] = k + 1
        self.msg_t[cid] = now
        off = self.offset[cid]
        deadline = self.deadline[cid] = now + self.midpat[off + k - 1]
        agent = self.agent_of[cid]
        start = agent.busy_until if agent.busy_until > now else now
        if start > deadline:
            self._at(deadline, self._end_dropped, cid)
            return
        pool = agent.pool
        done = start + pool.reply.next()
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)
        # Shifts._busy, the common case: on shift, after the warm-up, inside one interval.
        ilen = self.ilen
        b = int(start // ilen)
        if done <= agent.off_s and start >= self.warmup and done <= (b + 1) * ilen:
            pool.busy_w += done - start
            pool.busy_s[b] += done - start
        else:
            self._busy(agent, start, done)
        if self.tasks_on and not agent.in_heap:
            self._track(agent)
        self.resp_sum[cid] += done - now
        self.resp_n[cid] += 1
        k += 1
        if k < self.turns[cid]:
            self._at(done + self.think[off + k - 1], self._on_message, cid)
        else:
            self._at(done, self._end_done, cid)

    def _bot_chat(self, agent: Agent, cid: int) -> None:
        """A bot chat never waits for a reply, so it is computed whole now: replies up to the
        end (resolved) or up to the hand-over to a human (escalated)."""
        now = self.now
        pool = agent.pool
        if now > self.deadline[cid]:
            # A silent abandoner reached from the queue: one wasted reply.
            done = now + pool.reply.next()
            self._busy(agent, now, done)
            self._at(done, self._end_abandoned, cid)
            return
        resolved = self.u_bot[cid] < self.resolve_prob
        last = self.turns[cid] if resolved else self.escalate_at
        off = self.offset[cid]
        t = now
        m = self.msg_t[cid]
        s = 0.0
        for k in range(1, last + 1):
            done = t + pool.reply.next()
            if k == 1:
                self.first_start[cid] = t
                self.first_sent[cid] = done
                self.first_pool[cid] = pool.code
            s += done - m
            t = m = done + self.think[off + k - 1] if k < last or not resolved else done
        self.resp_sum[cid] += s
        self.resp_n[cid] += last
        self._busy(agent, now, t)
        if resolved:
            self._at(t, self._end_done, cid)
        else:
            self.turn[cid] = last  # the hand-over message is turn last+1
            self._at(t, self._escalate, cid)

    def _escalate(self, ev: Call) -> None:
        """The customer's next message asks for a human: the bot lets the chat go and the
        customer waits for a human with mid-chat patience, ahead of new inquiries."""
        cid = ev.value
        now = self.now
        k = self.turn[cid]
        self.turn[cid] = k + 1
        if self.turns[cid] < k + 1:
            self.turns[cid] = k + 1
        self.msg_t[cid] = now
        self.deadline[cid] = now + self.midpat[self.offset[cid] + k - 1]
        self.escalated[cid] = True
        bot_agent = self.agent_of[cid]
        self.agent_of[cid] = None
        agent = self._best_human()
        if agent is None:
            self.q_esc.append(cid)
            # Mid-chat patience is a timer here (only escalations wait in this queue): the
            # customer leaves at the deadline, whether or not a human ever comes.
            self._at(self.deadline[cid], self._esc_deadline, cid)
        else:
            self._assign(agent, cid)
        self._release(bot_agent)

    def _esc_deadline(self, ev: Call) -> None:
        cid = ev.value
        if self.agent_of[cid] is None and self.end[cid] == OPEN:
            self._drop(cid)  # still waiting for a human: the chat closes

    # ---------------------------------------------------------------- chat ends
    def _end_done(self, ev: Call) -> None:
        """Last reply sent: the slot frees, and a presale chat may place an order."""
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        pool = agent.pool
        self.end[cid] = DONE
        self.end_t[cid] = self.now
        self.end_pool[cid] = pool.code
        if self.presale[cid]:
            p = self.order_prob * pool.conversion * self._delay_factor(self.resp_sum[cid] / self.resp_n[cid])
            if self.u_order[cid] < p:
                self._place_order(cid)
            elif self.followup_on:
                self._at(self.now + self.followup_after, self._task_due, (FOLLOWUP, cid))
        self._release(agent)

    def _end_abandoned(self, ev: Call) -> None:
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        self.end[cid] = ABANDONED
        self.end_t[cid] = self.now
        self._release(agent)

    def _end_dropped(self, ev: Call) -> None:
        cid = ev.value
        agent = self.agent_of[cid]
        self.agent_of[cid] = None
        self._drop(cid)
        self._release(agent)

    def _drop(self, cid: int) -> None:
        self.end[cid] = DROPPED
        self.end_t[cid] = self.now
        if self.followup_on and self.followup_drops and self.presale[cid]:
            self._at(self.now + self.followup_after, self._task_due, (FOLLOWUP, cid))

