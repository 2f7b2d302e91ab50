"""Work waiting for a person's review, read back for the pages that review it.

- ``project_submissions``: a project's submissions, newest first, each with its review
  status, for the project's requester (who rejects or approves them) and stewards.
- ``fraud_to_confirm``: ``suspected_fraud`` rejections that nobody appealed (or whose appeal
  was upheld) and whose appeal window is over, for stewards, who may confirm the fraud
  (``pay.appeals.decide``).

Both read only, each in one query (joins, no query per row). Workers appear by their
per-project contributor id, never by email or pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.members.models import Contributor, Member
from datacoop.pay import services as pay
from datacoop.pay.appeals import require_steward
from datacoop.pay.models import Approval, Rejection, RejectionReason, RejectionState
from datacoop.projects.models import Item, Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Submission

# States from which a steward may confirm fraud without a pending appeal (``appealed`` ones
# are in the appeals queue already).
UNAPPEALED = (RejectionState.open, RejectionState.upheld)


@dataclass(frozen=True)
class SubmissionRow:
    """One submission as its requester sees it."""

    id: int
    item_id: int
    external_id: str | None
    contributor_id: str
    created_at: datetime
    active_ms: int
    answer: Any
    late: bool
    rejection: Rejection | None
    approval: Approval | None
    auto_approve_at: datetime

    def status(self, now: datetime) -> str:
        """``awaiting_review``, ``approved``, ``rejected``, ``appealed`` or ``decided``."""
        if self.rejection is not None:
            state = self.rejection.state
            if state is RejectionState.open:
                return "rejected"
            return "appealed" if state is RejectionState.appealed else "decided"
        if self.approval is not None or now >= self.auto_approve_at:
            # Past ``auto_approve_days`` it can no longer be rejected: settlement's
            # auto-approval only writes down what already holds.
            return "approved"
        return "awaiting_review"


def project_submissions(
    session: Session,
    member: Member,
    project: Project,
    *,
    before: int | None = None,
    limit: int = 50,
) -> list[SubmissionRow]:
    """The project's submissions, newest first, ``limit`` per page (keyset: ids below
    ``before``). For its requester or a steward (``require_manage``)."""
    require_manage(member, project)
    days = pay.current_policy(session).auto_approve_days
    query = (
        select(
            Submission.id,
            Submission.item_id,
            Item.external_id,
            Contributor.contributor_id,
            Submission.created_at,
            Submission.active_ms,
            Submission.answer,
            Submission.late,
            Rejection,
            Approval,
        )
        .join(Item, Item.id == Submission.item_id)
        .join(
            Contributor,
            (Contributor.project_id == Submission.project_id)
            & (Contributor.member_id == Submission.member_id),
        )
        .outerjoin(Rejection, Rejection.submission_id == Submission.id)
        .outerjoin(Approval, Approval.submission_id == Submission.id)
        .where(Submission.project_id == project.id)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Submission.id < before)
    return [
        SubmissionRow(
            id=r[0],
            item_id=r[1],
            external_id=r[2],
            contributor_id=r[3],
            created_at=r[4],
            active_ms=int(r[5]),
            answer=r[6],
            late=bool(r[7]),
            rejection=r[8],
            approval=r[9],
            auto_approve_at=r[4] + timedelta(days=days),
        )
        for r in session.execute(query).all()
    ]


@dataclass(frozen=True)
class FraudCase:
    """A ``suspected_fraud`` rejection a steward may now confirm."""

    rejection: Rejection
    project_title: str
    item_id: int
    answer: Any
    contributor_id: str


def fraud_to_confirm(session: Session, clock: Clock, steward: Member) -> list[FraudCase]:
    """Unappealed (or upheld) ``suspected_fraud`` rejections whose appeal window is over,
    oldest deadline first. Stewards only."""
    require_steward(steward)
    rows = session.execute(
        select(
            Rejection,
            Project.title,
            Submission.item_id,
            Submission.answer,
            Contributor.contributor_id,
        )  # fmt: skip
        .join(Submission, Submission.id == Rejection.submission_id)
        .join(Project, Project.id == Rejection.project_id)
        .join(
            Contributor,
            (Contributor.project_id == Rejection.project_id)
            & (Contributor.member_id == Rejection.member_id),
        )
        .where(
            Rejection.reason == RejectionReason.suspected_fraud,
            Rejection.state.in_(UNAPPEALED),
            Rejection.appeal_deadline < clock.now(),
        )
        .order_by(Rejection.appeal_deadline, Rejection.id)
    ).all()
    return [FraudCase(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]
