"""Rejections, appeals and auto-approval: a rejection needs a reason and evidence, the member
may appeal it, and only a human steward decides. Honest work stays paid.

A rejection moves no money. The one decision that does is ``fraud_confirmed``: a steward,
after the appeal window has closed, confirms that a submission rejected as
``suspected_fraud`` was fraud. Its piece pay is then withheld: never paid if it was not yet,
or taken back by a ``withhold`` posting (member payable → project escrow) if it was; and the
part of the member's top-ups in the project that their honest work no longer justifies (the
floor on the fraudulent time, the rate rise it caused) is taken back by a ``clawback``
posting, the same way. Every decision is logged (``rejection:decided``). Unreviewed work is approved automatically after
the policy's ``auto_approve_days`` and can no longer be rejected; the requester may approve
it earlier (``approve``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members.models import Member, Role
from datacoop.members.services import contributor_for
from datacoop.pay import postings
from datacoop.pay import services as pay
from datacoop.pay.models import (
    AccountKind,
    Approval,
    PiecePayment,
    Rejection,
    RejectionReason,
    RejectionState,
)
from datacoop.projects.models import Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Submission

MAX_TEXT = 5000
OUTCOMES = (RejectionState.upheld, RejectionState.overturned, RejectionState.fraud_confirmed)
# States from which a steward may still confirm fraud (once the appeal window is over).
_FRAUD_FROM = (RejectionState.open, RejectionState.appealed, RejectionState.upheld)


def _text(field: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.field(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise ValidationFailed.field(field, f"at most {MAX_TEXT} characters")
    return value


def parse_reason(value: str) -> RejectionReason:
    try:
        return RejectionReason(value)
    except ValueError:
        allowed = ", ".join(r.value for r in RejectionReason)
        raise ValidationFailed.field("reason", f"must be one of {allowed}") from None


def get_rejection(session: Session, rejection_id: int) -> Rejection:
    found = session.get(Rejection, rejection_id)
    if found is None:
        raise NotFound(f"no rejection with id {rejection_id}")
    return found


# -- the requester -------------------------------------------------------------------------


def reject(
    session: Session,
    clock: Clock,
    requester: Member,
    submission_id: int,
    *,
    reason: str,
    evidence: str,
) -> Rejection:
    """The project's requester rejects one submission, with a reason code and evidence.

    Refused once the submission is approved (``auto_approve_days`` after it was submitted)
    or already rejected. The member may appeal until ``appeal_days`` from now.
    """
    code = parse_reason(reason)
    text = _text("evidence", evidence)
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(f"no submission with id {submission_id}")
    project = session.get(Project, sub.project_id)
    assert project is not None
    if project.owner_id != requester.id:
        raise PermissionDenied("only the project's requester can reject its submissions")
    if session.scalar(select(exists().where(Rejection.submission_id == sub.id))):
        raise Conflict("this submission is already rejected", code="already_rejected")
    policy = pay.current_policy(session)
    now = clock.now()
    if session.scalar(select(exists().where(Approval.submission_id == sub.id))):
        raise Conflict("this submission is already approved", code="auto_approved")
    if now >= sub.created_at + timedelta(days=policy.auto_approve_days):
        raise Conflict(
            f"submissions are approved {policy.auto_approve_days} days after they are made",
            code="auto_approved",
        )
    rejection = Rejection(
        submission_id=sub.id,
        assignment_id=sub.assignment_id,
        project_id=sub.project_id,
        member_id=sub.member_id,
        requester_id=requester.id,
        reason=code,
        evidence=text,
        state=RejectionState.open,
        created_at=now,
        appeal_deadline=now + timedelta(days=policy.appeal_days),
        withheld=0,
        clawed_back=0,
    )
    try:
        with session.begin_nested():  # a concurrent rejection of the same submission
            session.add(rejection)
    except IntegrityError:
        raise Conflict("this submission is already rejected", code="already_rejected") from None
    return rejection


def approve(session: Session, clock: Clock, requester: Member, submission_id: int) -> Approval:
    """The project's requester approves one submission before ``auto_approve_days``: it can
    no longer be rejected. Approving again returns the same approval; an already rejected
    submission is ``409 already_rejected`` (its appeal decides it). Moves no money: piece
    pay comes with the next settlement, as for any accepted work."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(f"no submission with id {submission_id}")
    project = session.get(Project, sub.project_id)
    assert project is not None
    if project.owner_id != requester.id:
        raise PermissionDenied("only the project's requester can approve its submissions")
    found = session.get(Approval, sub.id)
    if found is not None:
        return found
    if session.scalar(select(exists().where(Rejection.submission_id == sub.id))):
        raise Conflict("this submission is already rejected", code="already_rejected")
    approval = Approval(
        submission_id=sub.id,
        project_id=sub.project_id,
        approved_at=clock.now(),
        approved_by=requester.id,
    )
    try:
        with session.begin_nested():  # a concurrent approval (or auto-approval) of it
            session.add(approval)
    except IntegrityError:
        found = session.get(Approval, sub.id)
        assert found is not None
        return found
    return approval


def auto_approve(session: Session, clock: Clock, project_id: int | None = None) -> int:
    """Approve every unreviewed submission older than ``auto_approve_days`` (of one project,
    or all); returns how many. Run by settlement and by ``datacoop pay auto-approve``.
    Nobody approved these: ``approved_by`` stays NULL."""
    policy = pay.current_policy(session)
    now = clock.now()
    query = select(Submission.id, Submission.project_id).where(
        Submission.created_at <= now - timedelta(days=policy.auto_approve_days),
        ~exists().where(Approval.submission_id == Submission.id),
        ~exists().where(Rejection.submission_id == Submission.id),
    )
    if project_id is not None:
        query = query.where(Submission.project_id == project_id)
    rows = session.execute(query.order_by(Submission.id)).all()
    session.add_all(
        Approval(submission_id=int(s), project_id=int(p), approved_at=now, approved_by=None)
        for s, p in rows
    )
    session.flush()
    return len(rows)


def rejections_in(session: Session, member: Member, project: Project) -> list[Rejection]:
    """A project's rejections, newest first: for its requester (or a steward)."""
    require_manage(member, project)
    return list(
        session.scalars(
            select(Rejection)
            .where(Rejection.project_id == project.id)
            .order_by(Rejection.id.desc())
        )
    )


# -- the member ----------------------------------------------------------------------------


def rejections_of(session: Session, member: Member) -> list[Rejection]:
    """The member's own rejections, newest first."""
    return list(
        session.scalars(
            select(Rejection).where(Rejection.member_id == member.id).order_by(Rejection.id.desc())
        )
    )


def appeal(
    session: Session, clock: Clock, member: Member, rejection_id: int, *, statement: str
) -> Rejection:
    """The member appeals their rejection, within the appeal window; a steward decides."""
    text = _text("statement", statement)
    rejection = get_rejection(session, rejection_id)
    if rejection.member_id != member.id:
        raise PermissionDenied("only the member whose work was rejected can appeal")
    if rejection.state is not RejectionState.open:
        raise Conflict(f"this rejection is {rejection.state.value}", code="not_appealable")
    if clock.now() > rejection.appeal_deadline:
        raise Conflict("the appeal window has closed", code="appeal_window_closed")
    rejection.state = RejectionState.appealed
    rejection.appeal = text
    rejection.appealed_at = clock.now()
    session.flush()
    return rejection


# -- the steward ---------------------------------------------------------------------------


def require_steward(member: Member) -> None:
    """Only a human steward decides an appeal: no automated-only sanction."""
    if member.role is not Role.steward:
        raise PermissionDenied("only a steward decides appeals")


def queue(session: Session, steward: Member) -> list[Rejection]:
    """Appeals waiting for a steward, oldest first."""
    require_steward(steward)
    return list(
        session.scalars(
            select(Rejection)
            .where(Rejection.state == RejectionState.appealed)
            .order_by(Rejection.appealed_at, Rejection.id)
        )
    )


def decide(
    session: Session,
    clock: Clock,
    steward: Member,
    rejection_id: int,
    *,
    outcome: str,
    note: str,
) -> Rejection:
    """A steward's decision: ``upheld`` or ``overturned`` on an appeal (no money moves), or
    ``fraud_confirmed`` on a ``suspected_fraud`` rejection once the appeal window is over
    (the piece pay is withheld, then the top-ups honest work no longer justifies are clawed
    back). Logged as ``rejection:decided``."""
    require_steward(steward)
    try:
        decision = RejectionState(outcome)
    except ValueError:
        decision = RejectionState.open
    if decision not in OUTCOMES:
        allowed = ", ".join(o.value for o in OUTCOMES)
        raise ValidationFailed.field("outcome", f"must be one of {allowed}")
    text = _text("note", note)
    rejection = get_rejection(session, rejection_id)
    now = clock.now()
    if decision is RejectionState.fraud_confirmed:
        if rejection.reason is not RejectionReason.suspected_fraud:
            raise Conflict(
                "only a suspected_fraud rejection can be confirmed as fraud",
                code="not_suspected_fraud",
            )
        if rejection.state not in _FRAUD_FROM:
            raise Conflict(f"this rejection is {rejection.state.value}", code="already_decided")
        if now <= rejection.appeal_deadline:
            raise Conflict(
                "fraud is confirmed only after the appeal window", code="appeal_window_open"
            )
    elif rejection.state is not RejectionState.appealed:
        raise Conflict(f"this rejection is {rejection.state.value}", code="not_appealed")
    rejection.state = decision
    rejection.decided_by = steward.id
    rejection.decided_at = now
    rejection.decision_note = text
    if decision is RejectionState.fraud_confirmed:
        rejection.withheld = _withhold(session, clock, rejection)
        session.flush()  # the fraud and the withholding count in the clawback's figures
        rejection.clawed_back = _claw_back(session, clock, rejection)
        _refresh_requester_figures(session, clock, rejection)
    session.flush()
    log.append(
        session,
        clock,
        EntryKind.rejection_decided,
        project=rejection.project_id,
        submission=rejection.submission_id,
        contributor=contributor_for(
            session, clock, rejection.project_id, rejection.member_id
        ).contributor_id,
        reason=rejection.reason.value,
        outcome=decision.value,
        steward=steward.pseudonym,
        withheld=rejection.withheld,
        clawed_back=rejection.clawed_back,
    )
    return rejection


def _withhold(session: Session, clock: Clock, rejection: Rejection) -> int:
    """Withhold the submission's piece pay; returns the amount taken back (0 if unpaid)."""
    piece = session.get(PiecePayment, rejection.submission_id)
    project = session.get(Project, rejection.project_id)
    assert project is not None
    if piece is None:  # not yet paid: settle it as paying nothing, so it never is
        session.add(
            PiecePayment(
                submission_id=rejection.submission_id,
                posting_id=None,
                member_id=rejection.member_id,
                project_id=rejection.project_id,
                amount=0,
            )
        )
        session.flush()
        return 0
    if piece.posting_id is None or piece.amount == 0:
        return 0
    currency = project.currency
    postings.post(
        session,
        clock,
        pay.WITHHOLD,
        [
            postings.Line(
                postings.account(
                    session, clock, AccountKind.payable, currency, member_id=rejection.member_id
                ),
                -piece.amount,
            ),
            postings.Line(
                postings.account(
                    session, clock, AccountKind.escrow, currency, project_id=project.id
                ),
                piece.amount,
            ),
        ],
        project_id=project.id,
        key=f"withhold:submission:{rejection.submission_id}",
    )
    return piece.amount


def _claw_back(session: Session, clock: Clock, rejection: Rejection) -> int:
    """Take back the member's top-ups in the project that their honest work no longer
    justifies (``settlement.clawback_due``): member payable → project escrow, keyed per
    rejection so it happens once. Returns the amount (0 when nothing is due)."""
    # settlement imports this module (auto-approval at every settlement): import it late.
    from datacoop.pay import settlement

    project = session.get(Project, rejection.project_id)
    assert project is not None
    amount = settlement.clawback_due(session, clock, project, rejection.member_id)
    if amount <= 0:
        return 0
    currency = project.currency
    postings.post(
        session,
        clock,
        pay.CLAWBACK,
        [
            postings.Line(
                postings.account(
                    session, clock, AccountKind.payable, currency, member_id=rejection.member_id
                ),
                -amount,
            ),
            postings.Line(
                postings.account(
                    session, clock, AccountKind.escrow, currency, project_id=project.id
                ),
                amount,
            ),
        ],
        project_id=project.id,
        key=f"clawback:rejection:{rejection.id}",
    )
    return amount


# -- figures for requester reviews ---------------------------------------------------------


def _refresh_requester_figures(session: Session, clock: Clock, rejection: Rejection) -> None:
    """A confirmed fraud moves money and takes its time out of the paid hours: the project
    owner's settled figures (``reviews.refresh_figures``) change with it."""
    # reviews imports settlement, which imports this module: import it late.
    from datacoop.pay import reviews

    project = session.get(Project, rejection.project_id)
    assert project is not None
    reviews.refresh_figures(session, clock, project.owner_id)
