"""The public transparency figures: members, hours worked, amount paid, median hourly pay.

Every figure goes through ``rules.publish``, so a figure resting on fewer than 10 people is
never returned, only the fact that it is hidden. Hours come from measured active time (the
heartbeats), never from estimates; pay comes from the pay ledger's postings to members.
The page shows them through ``TotalsCache``: computed at most once a minute per app.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.disclosure.rules import Figure, publish
from datacoop.members.models import Member
from datacoop.work.models import Assignment

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class Money:
    amount: int  # minor units
    currency: str


@dataclass(frozen=True)
class PublicTotals:
    members: Figure[int]
    worked_seconds: Figure[int]  # measured active time, whole seconds
    paid: list[Figure[Money]]  # one per currency members were paid in
    median_hourly: list[Figure[Money]]  # per currency: the median member's effective hourly


def _paid_by_member(session: Session) -> dict[tuple[int, str], int]:
    """``(member, currency) -> everything paid to them``: piece pay and floor top-ups, net of
    pay withheld or clawed back after confirmed fraud (the same kinds settlement counts)."""
    from datacoop.pay.models import Account, AccountKind, Posting, PostingLine
    from datacoop.pay.settlement import PAID_KINDS

    rows = session.execute(
        select(Account.member_id, Account.currency, func.sum(PostingLine.amount))
        .join(Posting, Posting.id == PostingLine.posting_id)
        .join(Account, Account.id == PostingLine.account_id)
        .where(Posting.kind.in_(PAID_KINDS), Account.kind == AccountKind.payable)
        .group_by(Account.member_id, Account.currency)
    ).all()
    return {(int(m), str(c)): int(total or 0) for m, c, total in rows if m is not None}


def _time_by_member(session: Session) -> dict[tuple[int, str], tuple[int, int]]:
    """``(member, currency) -> (measured active ms, of it in assignments that measured any)``
    in the projects paid in that currency: one pass over ``assignments`` for both the hours
    worked and every currency's hourly rates."""
    from datacoop.projects.models import Project

    positive = case((Assignment.active_ms > 0, Assignment.active_ms), else_=0)
    rows = session.execute(
        select(
            Assignment.member_id,
            Project.currency,
            func.sum(Assignment.active_ms),
            func.sum(positive),
        )
        .join(Project, Project.id == Assignment.project_id)
        .group_by(Assignment.member_id, Project.currency)
    ).all()
    return {(int(m), str(c)): (int(ms or 0), int(pos or 0)) for m, c, ms, pos in rows}


def public_totals(session: Session) -> PublicTotals:
    members = session.scalar(select(func.count()).where(Member.disabled_at.is_(None))) or 0
    time = _time_by_member(session)
    # Hours worked: time in assignments that measured some, from the members who have any.
    worked_ms = sum(pos for _, pos in time.values())
    workers = len({m for (m, _), (_, pos) in time.items() if pos > 0})
    paid = _paid_by_member(session)
    currencies = sorted({c for _, c in paid})
    paid_figures: list[Figure[Money]] = []
    hourly_figures: list[Figure[Money]] = []
    for currency in currencies:
        mine = {m: amount for (m, c), amount in paid.items() if c == currency and amount > 0}
        paid_figures.append(publish(Money(sum(mine.values()), currency), people=len(mine)))
        active = {m: ms for (m, c), (ms, _) in time.items() if c == currency}
        rates = [amount * MS_PER_HOUR // active[m] for m, amount in mine.items() if active.get(m)]
        # median_low: always one member's actual rate, an integer of minor units
        median = Money(statistics.median_low(rates), currency) if rates else None
        hourly_figures.append(publish(median, people=len(rates)))
    return PublicTotals(
        members=publish(int(members), people=int(members)),
        worked_seconds=publish(worked_ms // 1000, people=workers),
        paid=paid_figures,
        median_hourly=hourly_figures,
    )


@dataclass(frozen=True)
class Snapshot:
    """The public totals as computed at ``as_of``."""

    totals: PublicTotals
    as_of: datetime


class TotalsCache:
    """The public totals, recomputed at most once per ``max_age`` (by the injected clock).

    Computing them reads all of ``assignments`` and every member's payable lines; the
    transparency page is public, so without this an anonymous burst would run that on every
    view. Figures a minute old are as true as live ones for what they show (totals and a
    median over at least ``K_MIN_PEOPLE`` people); the page says when they were computed.
    One per app; concurrent misses wait for one computation rather than each running it.
    """

    def __init__(self, max_age: timedelta = timedelta(seconds=60)) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def get(self, session: Session, clock: Clock) -> Snapshot:
        with self._lock:
            now = clock.now()
            snap = self._snapshot
            # A clock set back (tests, a corrected system clock) also recomputes.
            if snap is None or not snap.as_of <= now < snap.as_of + self.max_age:
                snap = Snapshot(public_totals(session), now)
                self._snapshot = snap
            return snap
