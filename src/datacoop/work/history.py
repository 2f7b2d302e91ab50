"""A member's own work, read back for their pages: totals per project and per day.

Services take the session explicitly and only read. Pay figures here are the piece rate times
the count of accepted answers, *before* settlement; settled earnings (floor top-ups, payouts)
come from ``datacoop.pay`` once it lands.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.members.models import Member
from datacoop.projects.models import Project
from datacoop.work.models import Submission

MIN_MS_FOR_RATE = 60_000


@dataclass(frozen=True)
class ProjectTotals:
    project_id: int
    title: str
    currency: str
    pay_per_item: int
    submissions: int
    active_ms: int

    @property
    def piece_rate_total(self) -> int:
        """Minor units: accepted answers times the piece rate (no float touches money)."""
        return self.submissions * self.pay_per_item

    @property
    def piece_rate_hourly(self) -> int | None:
        """Minor units per hour of measured active time, rounded down; None under a minute
        of measured time, where a rate would mostly be noise."""
        if self.active_ms < MIN_MS_FOR_RATE:
            return None
        return self.piece_rate_total * 3_600_000 // self.active_ms


def totals_by_project(session: Session, member: Member) -> list[ProjectTotals]:
    """One row per project the member has answered in, newest project first."""
    rows = session.execute(
        select(
            Project.id,
            Project.title,
            Project.currency,
            Project.pay_per_item,
            func.count(Submission.id),
            func.coalesce(func.sum(Submission.active_ms), 0),
        )
        .join(Project, Project.id == Submission.project_id)
        .where(Submission.member_id == member.id)
        .group_by(Project.id, Project.title, Project.currency, Project.pay_per_item)
        .order_by(Project.id.desc())
    ).all()
    return [ProjectTotals(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows]


def projects_by_id(session: Session, ids: set[int]) -> dict[int, Project]:
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(ids)))}


@dataclass(frozen=True)
class DayTotals:
    day: date
    currency: str
    submissions: int
    active_ms: int
    piece_rate_total: int


def totals_by_day(
    session: Session, member: Member, *, since: datetime
) -> list[DayTotals]:
    """Per UTC day and currency since ``since``: answers, active time, piece-rate value.

    Grouped here rather than in SQL so the day boundary is the same (UTC) on every backend.
    """
    rows = session.execute(
        select(Submission.created_at, Submission.active_ms, Project.currency, Project.pay_per_item)
        .join(Project, Project.id == Submission.project_id)
        .where(Submission.member_id == member.id, Submission.created_at >= since)
    ).all()
    sums: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for created_at, active_ms, currency, pay in rows:
        day = created_at.astimezone(UTC).date() if created_at.tzinfo else created_at.date()
        acc = sums[(day, currency)]
        acc[0] += 1
        acc[1] += int(active_ms)
        acc[2] += int(pay)
    return [
        DayTotals(day, currency, n, ms, value)
        for (day, currency), (n, ms, value) in sorted(sums.items())
    ]
