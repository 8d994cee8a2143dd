"""Conversations: turns, a human's typing queue, a bot chat computed whole (MODEL.md steps 4-5).

A chat is ``turns`` customer messages, each answered by one reply; between a reply and the next
message the customer thinks (s). Times are absolute seconds on the clock. A :class:`Chat` lives
from the inquiry's arrival to the chat's end and carries what its turns need; what the metrics
read is written to the records (:class:`cssim.model.records.Records`) once, when it happens.

* A human types one reply at a time, FIFO: a message that reaches an agent at ``now`` starts
  being answered at ``max(now, agent.busy_until)`` and is sent a reply time (s) later. Since the
  start is known at once, abandonment (judged at the reply's start) is settled at once and
  exactly: a customer whose reply would start after its deadline has left at the deadline. A
  visible leaver closes the chat then (a lost inquiry on turn 1, a drop later); a silent one
  still costs the reply's typing and the chat closes when it is sent. A handed-over customer
  whose human reply would start after the hand-over deadline is lost too (``LOST_HANDOVER``)
  and closes the chat at the deadline.
* Message ``k + 1`` is written a think time after reply ``k`` is sent; its own mid-chat
  patience (s, a fresh draw for every wait) starts then.
* The bot replies to all its chats at once and never makes anyone wait, so a bot chat is
  computed whole when assigned: one event at its end (resolved) or at the hand-over message
  (escalated: the customer asks for a human and waits, ahead of new inquiries, with the
  hand-over patience drawn before the clock started, as a timer; a customer no human reaches
  in time is a lost inquiry, ``LOST_HANDOVER``, docs/model.md "Abandonment").
* The chat holds its slot from assignment to its end; at a normal end a presale chat may place
  an order (:mod:`cssim.model.funnel`).

Every value a turn uses is the customer's own draw for that turn (:class:`ChatDraws`): the reply
to message ``k`` takes the same time whichever agent of a pool types it, and whenever. The step
run for nearly every turn, a customer's next message, is fused into the step loop
(:meth:`Conversation._steps`).
"""

from __future__ import annotations

from heapq import heappop, heappush

from cssim.model.chat import Chat
from cssim.model.customers import BLOCK
from cssim.model.pools import READY, Agent
from cssim.model.records import ABANDONED, DONE, DROPPED, LOST_HANDOVER

SHIFT = BLOCK.bit_length() - 1  # customer -> block: cid >> SHIFT (BLOCK is a power of two)


class Conversation:
    """Mixed into the simulation: every step of a chat. ``self.rw`` writes the records;
    ``self.cal``/``self.first`` are the clock's heap of instants (s) and the event
    first at each (:mod:`cssim.model.clock`); an instant already taken goes through
    ``self.env.push``."""

    def _init_chats(self) -> None:
        r = self.cfg.routing
        self.resolve_prob = r.bot_resolve_prob
        self.escalate_at = r.bot_turns_before_escalation
        self._block_at, self._block = -1, None  # the block of the latest first assignment
        self._cb_msg = (None,)  # a customer's next message: handled inline by _steps
        self._cb_done = (self._end_done,)
        self._cb_drop = (self._end_dropped,)
        self._cb_lost_ho = (self._end_lost_handover,)
        self._cb_aband = (self._end_abandoned,)
        self._cb_esc = (self._escalate,)

    def _push(self, t: float, ch: Chat, cb: tuple) -> None:
        """Chat ``ch``'s next step ``cb`` at absolute time ``t`` (s)."""
        ch.callbacks = cb
        first = self.first
        if t in first:
            self.env.push(t, ch)  # the instant is taken: after what is there
        else:
            first[t] = ch
            heappush(self.cal, t)

    def _bind(self, ch: Chat) -> None:
        """The chat's first assignment: its block of draws."""
        cid = ch.cid
        b = cid >> SHIFT
        if b == self._block_at:
            blk = self._block
        else:
            blk = self._block = self.draws.block(b)
            self._block_at = b
        ch.blk = blk
        i = cid & (BLOCK - 1)
        ch.go = blk.gap[i]
        ch.ro = blk.rep[i]
        ch.th = blk.think
        ch.mp = blk.midpat
        self.rw.assigned[cid] = self.now

    def _reply(self, agent: Agent, ch: Chat) -> None:
        """The chat's pending message joins the agent's typing FIFO (its first message for this
        agent: turn 1, or an escalated chat's hand-over). The reply's start is known now, so
        abandonment (judged at reply start) is settled now."""
        now = self.now
        pool = agent.pool
        bu = agent.busy_until
        start = bu if bu > now else now
        k = ch.k
        cid = ch.cid
        rw = self.rw
        if start > ch.dl:
            if k > 1:  # an escalated chat's first human reply (the only later turn sent here)
                self._push(ch.dl, ch, self._cb_lost_ho)
            elif self.silent[cid]:
                # Gone without a word: the agent still types the reply when reaching them.
                done = start + ch.rp[ch.ro]
                agent.busy_until = done
                if agent.where == READY:
                    pool.typing(agent)
                self._busy(agent, start, done)
                if self.tasks_on and not agent.in_heap:
                    self._track(agent)
                self._push(done, ch, self._cb_aband)
            else:
                self._push(ch.dl, ch, self._cb_aband)
            return
        done = start + ch.rp[ch.ro + k - 1]
        agent.busy_until = done
        if agent.where == READY:
            pool.typing(agent)  # idle with a free slot until now: file it as typing
        self._busy(agent, start, done)
        if self.tasks_on and not agent.in_heap:
            self._track(agent)  # keep it findable by when it will be free for tasks
        if k == 1:
            rw.first_start[cid] = start
            rw.first_sent[cid] = done
            rw.first_pool[cid] = pool.code
        else:  # the human's first reply to a handed-over chat
            rw.human_pool[cid] = pool.code
            rw.human_start[cid] = start
            rw.human_sent[cid] = done
        ch.rs += done - ch.t
        ch.rn += 1
        if k < ch.n:
            self._push(done + ch.th[ch.go + k - 1], ch, self._cb_msg)
        else:
            self._push(done, ch, self._cb_done)

    def _steps(self, bound: float, stop: float) -> None:
        """Run the calendar's steps due at or before ``bound`` and before ``stop`` (s), in
        order (returning early if a task comes to fall due before ``bound`` meanwhile).

        The customer's next message of a human's chat, most steps of a day, is handled here
        inline (this is :meth:`_reply` for a later turn, fused with :meth:`Shifts._busy`'s
        common case, same arithmetic): mid-chat patience starts now and the message joins the
        agent's typing FIFO. A later turn has no first-reply facts and no silent abandoner.
        Every other step is its event's callback."""
        cal, first, clock = self.cal, self.first, self.env
        later, first_pri = clock.later, clock.first_pri
        msg, cb_done, cb_drop = self._cb_msg, self._cb_done, self._cb_drop
        ilen, warmup, tasks_on = self.ilen, self.warmup, self.tasks_on
        popped = 0
        while cal:
            now = cal[0]
            if now > bound or now >= stop:
                break
            popped += 1
            if (later and now in later) or first_pri:
                ch = clock.pop_first(now)  # several steps share this instant (rare)
            else:
                ch = first.pop(now)
                heappop(cal)
            if ch.callbacks is not msg:
                self.now = now
                ch.callbacks[0](ch)
                if self.t_due < bound:
                    bound = self.t_due
                continue
            k = ch.k
            ch.k = k + 1
            g = ch.go + k
            dl = now + ch.mp[g - 1]  # (a human's chat never waits in a queue again: no ch.t, ch.dl)
            agent = ch.agent
            bu = agent.busy_until
            start = bu if bu > now else now
            if start > dl:
                self._push(dl, ch, cb_drop)  # gone before the reply starts (rare)
                self.rw.drop_wait[ch.cid] = dl - now
                continue
            done = start + ch.rp[ch.ro + k]
            agent.busy_until = done
            pool = agent.pool
            if agent.where == READY:
                pool.typing(agent)
            # Shifts._busy, the common case: on shift, after the warm-up, inside one interval.
            b = int(start // ilen)
            if done <= agent.off_s and start >= warmup and done <= (b + 1) * ilen:
                pool.busy_w += done - start
                pool.busy_s[b] += done - start
            else:
                self._busy(agent, start, done)
            if tasks_on and not agent.in_heap:
                self._track(agent)
            ch.rs += done - now
            ch.rn += 1
            if k + 1 < ch.n:
                t = done + ch.th[g]
            else:
                ch.callbacks = cb_done
                t = done
            if t in first:
                clock.push(t, ch)
            else:
                first[t] = ch
                heappush(cal, t)
        self.popped += popped

    def _bot_chat(self, agent: Agent, ch: Chat) -> None:
        """A bot chat never waits for a reply, so it is computed whole now: replies up to the
        end (resolved) or up to the hand-over to a human (escalated)."""
        now = self.now
        rp, ro = ch.rp, ch.ro
        cid = ch.cid
        if now > ch.dl:
            # A silent abandoner reached from the queue: one wasted reply.
            done = now + rp[ro]
            self._busy(agent, now, done)
            self._push(done, ch, self._cb_aband)
            return
        resolved = self.u_bot[cid] < self.resolve_prob
        last = ch.n if resolved else self.escalate_at
        th, go = ch.th, ch.go
        t = now
        m = ch.t
        s = 0.0
        for k in range(1, last + 1):
            done = t + rp[ro + k - 1]
            if k == 1:
                rw = self.rw
                rw.first_start[cid] = t
                rw.first_sent[cid] = done
                rw.first_pool[cid] = agent.pool.code
            s += done - m
            t = m = done + th[go + k - 1] if k < last or not resolved else done
        ch.rs += s
        ch.rn += last
        self._busy(agent, now, t)
        if resolved:
            self._push(t, ch, self._cb_done)
        else:
            ch.k = last  # the hand-over message is turn last+1
            self._push(t, ch, self._cb_esc)

    def _escalate(self, ch: Chat) -> None:
        """The customer's next message asks for a human (a hand-over): the bot lets the chat go
        and the customer waits for a human's first reply, routed like a new inquiry but ahead
        of them, until the hand-over instant plus the customer's hand-over patience."""
        now = self.now
        k = ch.k
        ch.k = k + 1
        if ch.n < k + 1:
            ch.n = k + 1
        ch.t = now
        cid = ch.cid
        ch.dl = now + self.handover_patience[cid]
        ch.esc = True
        self.rw.escalated[cid] = True
        self.rw.handover_t[cid] = now
        bot_agent = ch.agent
        ch.agent = None
        agent = self._best_human()
        if agent is None:
            self.q_esc.append(ch)
            # The hand-over patience is a timer here (only hand-overs wait in this queue): the
            # customer leaves at the deadline unless a human took the chat by then.
            self._at(ch.dl, self._esc_deadline, ch)
        else:
            self._assign(agent, ch)
        self._release(bot_agent)

    def _esc_deadline(self, ev) -> None:
        ch = ev.value
        if ch.agent is None and ch.k > 0:
            self._lost_handover(ch)  # still waiting for a human: lost, the chat closes


class ChatEnds:
    """Mixed into the simulation: how a chat ends (the steps :class:`Conversation` schedules):
    its last reply sent (a presale chat may place an order), the customer gone before the first
    reply (lost), gone after a hand-over before a human's reply (lost), or gone mid-chat
    (dropped). Each writes the chat's end to the records and
    frees its slot."""

    def _ended(self, ch: Chat, how: int) -> None:
        """Write the chat's end to the records (``ch.k`` becomes 0: closed)."""
        cid = ch.cid
        rw = self.rw
        rw.end[cid] = how
        rw.end_t[cid] = self.now
        rw.resp_sum[cid] = ch.rs
        rw.resp_n[cid] = ch.rn
        rw.turn[cid] = ch.k
        rw.turns[cid] = ch.n
        ch.k = 0
        ch.blk = ch.th = ch.mp = ch.rp = None  # the block may go once no open chat needs it

    def _end_done(self, ch: Chat) -> None:
        """Last reply sent: the slot frees, and a presale chat may place an order."""
        agent = ch.agent
        ch.agent = None
        pool = agent.pool
        cid = ch.cid
        self.rw.end_pool[cid] = pool.code
        rs, rn = ch.rs, ch.rn
        self._ended(ch, DONE)
        if self.presale[cid]:
            p = self.order_prob * pool.conversion * self._delay_factor(rs / rn)
            if self.u_order[cid] < p:
                self._place_order(cid)
            elif self.followup_on:
                self._followup_later(cid)
        self._release(agent)

    def _end_abandoned(self, ch: Chat) -> None:
        agent = ch.agent
        ch.agent = None
        self._ended(ch, ABANDONED)
        self._release(agent)

    def _end_dropped(self, ch: Chat) -> None:
        agent = ch.agent
        ch.agent = None
        self._drop(ch)
        self._release(agent)

    def _end_lost_handover(self, ch: Chat) -> None:
        agent = ch.agent
        ch.agent = None
        self._lost_handover(ch)
        self._release(agent)

    def _drop(self, ch: Chat) -> None:
        self._left(ch, DROPPED)

    def _lost_handover(self, ch: Chat) -> None:
        self._left(ch, LOST_HANDOVER)

    def _left(self, ch: Chat, how: int) -> None:
        """The customer left a live chat (a drop, or a hand-over no human reached): a presale
        one becomes a follow-up task with ``followup.include_drops``."""
        cid = ch.cid
        self._ended(ch, how)
        if self.followup_on and self.followup_drops and self.presale[cid]:
            self._followup_later(cid)


__all__ = ["Chat", "ChatEnds", "Conversation", "SHIFT"]
