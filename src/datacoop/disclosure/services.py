"""The public transparency figures: members, hours worked, amount paid, median hourly pay.

Every figure goes through ``rules.publish``, so a figure resting on fewer than 10 people is
never returned, only the fact that it is hidden. Hours come from measured active time (the
heartbeats), never from estimates; pay comes from the pay ledger's postings to members.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def _active_ms_by_member(session: Session, currency: str) -> dict[int, int]:
    """Measured active time per member in the projects paid in ``currency``."""
    from datacoop.projects.models import Project

    rows = session.execute(
        select(Assignment.member_id, func.sum(Assignment.active_ms))
        .join(Project, Project.id == Assignment.project_id)
        .where(Project.currency == currency)
        .group_by(Assignment.member_id)
    ).all()
    return {int(m): int(ms or 0) for m, ms in rows}


def public_totals(session: Session) -> PublicTotals:
    members = session.scalar(select(func.count()).where(Member.disabled_at.is_(None))) or 0
    active_ms, workers = session.execute(
        select(
            func.coalesce(func.sum(Assignment.active_ms), 0),
            func.count(func.distinct(Assignment.member_id)),
        ).where(Assignment.active_ms > 0)
    ).one()
    paid = _paid_by_member(session)
    currencies = sorted({c for _, c in paid})
    paid_figures: list[Figure[Money]] = []
    hourly_figures: list[Figure[Money]] = []
    for currency in currencies:
        mine = {m: amount for (m, c), amount in paid.items() if c == currency and amount > 0}
        paid_figures.append(publish(Money(sum(mine.values()), currency), people=len(mine)))
        active = _active_ms_by_member(session, currency)
        rates = [amount * MS_PER_HOUR // active[m] for m, amount in mine.items() if active.get(m)]
        # median_low: always one member's actual rate, an integer of minor units
        median = Money(statistics.median_low(rates), currency) if rates else None
        hourly_figures.append(publish(median, people=len(rates)))
    return PublicTotals(
        members=publish(int(members), people=int(members)),
        worked_seconds=publish(int(active_ms) // 1000, people=int(workers)),
        paid=paid_figures,
        median_hourly=hourly_figures,
    )
