"""Use cases of pay: the policy, funding before work, and reserving a task's pay when it is
handed out (settlement is in ``settlement.py``). Services flush, never commit.

Reservation is counted per project, not posted per assignment: ``project_pay`` holds how
many tasks the escrow covers (``funded_tasks``) and how many were handed out
(``reserved_tasks``). Handing out a task is one conditional ``UPDATE`` on that row
(``reserve_task``), so the work loop's hot path gains one statement and no log entry, and a
project without pay gains nothing at all. Money moves at settlement, in a few postings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn, cast

from sqlalchemy import Table, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotFound, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members.models import Member
from datacoop.pay import postings, rules
from datacoop.pay.models import (
    AccountKind,
    FundingState,
    PayPolicy,
    PiecePayment,
    ProjectPay,
)
from datacoop.pay.money import CurrencyMismatch, Money
from datacoop.projects.models import Item, Project
from datacoop.projects.rules import require_manage
from datacoop.work.models import Assignment, AssignmentState, Submission

PIECE = "piece"
TOP_UP = "top_up"
DEPOSIT = "deposit"
WITHHOLD = "withhold"  # piece pay taken back after steward-confirmed fraud (appeals)
REFUND = "refund"  # unspent escrow back to the requester's funding account (refunds)
CLAWBACK = "clawback"  # top-ups honest work no longer justifies, after confirmed fraud


# -- the policy ---------------------------------------------------------------------------


def current_policy(session: Session) -> PayPolicy:
    """The policy in force: the newest row (the migration seeds the defaults)."""
    policy = session.scalar(select(PayPolicy).order_by(PayPolicy.id.desc()).limit(1))
    assert policy is not None, "no pay policy: database not migrated"
    return policy


def set_policy(
    session: Session,
    clock: Clock,
    actor: Member,
    *,
    floor_hourly: Money | None = None,
    fee_bps: int | None = None,
    auto_approve_days: int | None = None,
    appeal_days: int | None = None,
    payout_threshold: Money | None = None,
) -> PayPolicy:
    """Add a new policy version (a steward, until members vote on it). The hard minimum and
    the fee cap stay as they are: a floor below the minimum, a fee above the cap or a
    negative payout threshold is refused and nothing is stored."""
    rules.require_steward(actor)
    current = current_policy(session)
    for name, money in (("floor", floor_hourly), ("payout threshold", payout_threshold)):
        if money is not None and money.currency != current.currency:
            raise CurrencyMismatch(
                f"the {name} is set in the cooperative's currency {current.currency}, "
                f"not {money.currency}"
            )
    terms = rules.check_policy(
        rules.PolicyTerms(
            currency=current.currency,
            floor_hourly=current.floor_hourly if floor_hourly is None else floor_hourly.amount,
            hard_minimum_hourly=current.hard_minimum_hourly,
            fee_bps=current.fee_bps if fee_bps is None else fee_bps,
            fee_cap_bps=current.fee_cap_bps,
            auto_approve_days=(
                current.auto_approve_days if auto_approve_days is None else auto_approve_days
            ),
            appeal_days=current.appeal_days if appeal_days is None else appeal_days,
            payout_threshold=(
                current.payout_threshold if payout_threshold is None else payout_threshold.amount
            ),
        )
    )
    policy = PayPolicy(**vars(terms), created_at=clock.now())
    session.add(policy)
    session.flush()
    log.append(session, clock, EntryKind.pay_policy, policy=policy.id, **vars(terms))
    return policy


# -- funding and launch -------------------------------------------------------------------


@dataclass(frozen=True)
class FundingStatus:
    """Where a project's money stands, and what launching it needs."""

    project_id: int
    state: str  # "off" (no pay), or a FundingState
    currency: str
    fee_bps: int
    escrow: int
    task_base: int  # max(piece rate, floor × estimate), per task
    task_cost: int  # with the fee
    tasks_needed: int  # tasks still to pay for: to hand out, handed out, or unsettled
    required: int  # tasks_needed × task_cost
    shortfall: int  # max(0, required - escrow)
    reserved_tasks: int
    funded_tasks: int


def get_project_pay(session: Session, project_id: int, *, lock: bool = False) -> ProjectPay | None:
    # populate_existing: reserve_task counts with a Core UPDATE, which an ORM object loaded
    # earlier in the same session would not see.
    query = (
        select(ProjectPay)
        .where(ProjectPay.project_id == project_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        # Serialises funding, launch and settlement of one project (and, with reserve_task,
        # a project's new assignments), so no amount is posted twice.
        query = query.with_for_update()
    return session.scalar(query)


def require_pay(session: Session, project: Project, *, lock: bool = True) -> ProjectPay:
    pp = get_project_pay(session, project.id, lock=lock)
    if pp is None:
        raise Conflict(
            f"project {project.id} has no pay yet: fund it first", code="pay_not_enabled"
        )
    return pp


def require_pay_currency(project: Project, policy: PayPolicy) -> None:
    if project.currency != policy.currency:
        raise CurrencyMismatch(
            f"the pay floor is in the cooperative's currency {policy.currency}; this project "
            f"is in {project.currency}, and datacoop applies no exchange rates"
        )


@dataclass(frozen=True)
class _Counts:
    tasks_total: int  # items × overlap
    submitted: int
    open: int  # leased, not yet submitted or skipped
    unsettled: int  # submitted, piece pay not yet posted


def _counts(session: Session, project: Project) -> _Counts:
    items = session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0
    submitted = session.scalar(select(func.count()).where(Submission.project_id == project.id)) or 0
    open_ = (
        session.scalar(
            select(func.count()).where(
                Assignment.project_id == project.id, Assignment.state == AssignmentState.leased
            )
        )
        or 0
    )
    unsettled = (
        session.scalar(
            select(func.count()).where(
                Submission.project_id == project.id,
                ~exists().where(PiecePayment.submission_id == Submission.id),
            )
        )
        or 0
    )
    return _Counts(items * project.overlap, submitted, open_, unsettled)


def _escrow(session: Session, project: Project) -> Money:
    return postings.balance_of(session, AccountKind.escrow, project.currency, project_id=project.id)


def reprice(pp: ProjectPay, project: Project, policy: PayPolicy) -> None:
    """Reserve at the floor in force (the disclosed fee stays what it was)."""
    base = rules.task_base(project.pay_per_item, project.estimated_seconds, policy.floor_hourly)
    pp.task_cost = rules.task_cost(base, pp.fee_bps)
    pp.policy_id = policy.id


def funding_status(session: Session, project: Project) -> FundingStatus:
    pp = get_project_pay(session, project.id)
    policy = current_policy(session)
    fee_bps = pp.fee_bps if pp is not None else policy.fee_bps
    base = rules.task_base(project.pay_per_item, project.estimated_seconds, policy.floor_hourly)
    counts = _counts(session, project)
    remaining = max(0, counts.tasks_total - counts.submitted - counts.open)
    if pp is not None and pp.state is FundingState.closed:
        remaining = 0  # a closed project hands out nothing more: only work under way costs
    need = rules.launch_need(remaining + counts.open + counts.unsettled, base, fee_bps)
    escrow = _escrow(session, project).amount
    return FundingStatus(
        project_id=project.id,
        state="off" if pp is None else pp.state.value,
        currency=project.currency,
        fee_bps=fee_bps,
        escrow=escrow,
        task_base=base,
        task_cost=need.cost,
        tasks_needed=need.tasks,
        required=need.total,
        shortfall=max(0, need.total - escrow),
        reserved_tasks=0 if pp is None else pp.reserved_tasks,
        funded_tasks=0 if pp is None else pp.funded_tasks,
    )


def recount_capacity(session: Session, pp: ProjectPay, project: Project) -> None:
    """How many more tasks may be handed out: what the escrow holds beyond the tasks already
    handed out or submitted and not yet paid, at ``task_cost`` each. Pauses a launched
    project whose escrow no longer covers those."""
    counts = _counts(session, project)
    available = _escrow(session, project).amount - pp.task_cost * (counts.open + counts.unsettled)
    if pp.state is FundingState.closed:
        pp.funded_tasks = pp.reserved_tasks  # closing is final: no capacity, whatever is left
    elif available < 0:
        if pp.state is FundingState.launched:
            pp.state = FundingState.paused
        pp.funded_tasks = pp.reserved_tasks
    elif pp.task_cost == 0:
        pp.funded_tasks = pp.reserved_tasks + 10**12  # free work costs nothing to reserve
    else:
        pp.funded_tasks = pp.reserved_tasks + available // pp.task_cost
    session.flush()


def fund(
    session: Session, clock: Clock, member: Member, project: Project, amount: Money
) -> FundingStatus:
    """Deposit into the project's escrow (the requester's funding account → escrow).

    The first deposit turns pay on for the project, with the cooperative's fee as it is now
    (disclosed, at most the cap); work starts only once the project is launched."""
    require_manage(member, project)
    policy = current_policy(session)
    if amount.currency != project.currency:
        raise CurrencyMismatch(f"this project is paid in {project.currency}, not {amount.currency}")
    require_pay_currency(project, policy)
    if amount.amount <= 0:
        raise ValidationFailed.field("amount", "must be more than zero")
    pp = get_project_pay(session, project.id, lock=True)
    if pp is None:
        pp = ProjectPay(
            project_id=project.id,
            state=FundingState.draft,
            fee_bps=policy.fee_bps,
            task_cost=0,
            reserved_tasks=0,
            funded_tasks=0,
            policy_id=policy.id,
            created_at=clock.now(),
        )
        reprice(pp, project, policy)
        session.add(pp)
        session.flush()
    currency = project.currency
    postings.post(
        session,
        clock,
        DEPOSIT,
        [
            postings.Line(
                postings.account(
                    session, clock, AccountKind.funding, currency, member_id=project.owner_id
                ),
                -amount.amount,
            ),
            postings.Line(
                postings.account(
                    session, clock, AccountKind.escrow, currency, project_id=project.id
                ),
                amount.amount,
            ),
        ],
        project_id=project.id,
    )
    if pp.state is FundingState.launched:
        recount_capacity(session, pp, project)
    return funding_status(session, project)


def launch(session: Session, clock: Clock, member: Member, project: Project) -> FundingStatus:
    """Start handing out work (or resume after a pause) once the escrow covers every task
    still to pay for: items × overlap × max(piece rate, floor × estimated seconds / 3600),
    plus the disclosed fee. Refused with the shortfall otherwise."""
    require_manage(member, project)
    pp = require_pay(session, project)
    if pp.state is FundingState.closed:
        raise_closed(project)
    if pp.state is FundingState.launched:
        return funding_status(session, project)
    policy = current_policy(session)
    require_pay_currency(project, policy)
    if not session.scalar(select(exists().where(Item.project_id == project.id))):
        raise Conflict("import items before launching", code="no_items")
    reprice(pp, project, policy)
    status = funding_status(session, project)
    if status.shortfall > 0:
        short = Money(status.shortfall, project.currency)
        raise Conflict(
            f"the escrow must hold {Money(status.required, project.currency)} to launch; "
            f"add {short}",
            code="underfunded",
            details={
                "required": status.required,
                "escrow": status.escrow,
                "shortfall": status.shortfall,
                "currency": project.currency,
            },
        )
    pp.state = FundingState.launched
    pp.launched_at = clock.now()
    recount_capacity(session, pp, project)
    return funding_status(session, project)


# -- reservation (the work loop's hot path) ------------------------------------------------

_PP = cast(Table, ProjectPay.__table__)
_RESERVE_SQL = (
    update(_PP)
    .where(
        _PP.c.project_id == bindparam("p"),
        _PP.c.state == FundingState.launched,
        _PP.c.reserved_tasks < _PP.c.funded_tasks,
    )
    .values(reserved_tasks=_PP.c.reserved_tasks + 1)
)
PROJECT_PAY_TABLE = _PP
PAY_STATE_COLUMN = _PP.c.state
PAY_PROJECT_COLUMN = _PP.c.project_id


def reserve_task(session: Session, project_id: int) -> None:
    """Reserve one task's pay in a project with pay, as the task is handed out; raise
    ``Conflict`` (rolling the hand-out back) when it is not launched or its escrow is used up.

    One conditional UPDATE: on PostgreSQL the row lock makes the check-and-count atomic (a
    waiting transaction re-checks the condition on the newest row); SQLite serialises writers.
    """
    result = session.connection().execute(_RESERVE_SQL, {"p": project_id})
    if result.rowcount == 1:
        return
    state = session.scalar(select(ProjectPay.state).where(ProjectPay.project_id == project_id))
    if state is FundingState.closed:
        raise Conflict("this project is closed: it hands out no new tasks", code="project_closed")
    if state is FundingState.launched:
        # Skipped and expired tasks keep their reservation until a settlement recounts what
        # their measured time really cost: a safe, not a tight, bound.
        raise Conflict(
            "every task this project's escrow covers is handed out; it resumes when its "
            "requester adds funds or settles",
            code="project_paused",
        )
    if state is FundingState.paused:
        raise Conflict(
            "this project is paused until its requester adds funds", code="project_paused"
        )
    raise Conflict("this project has not been launched yet", code="project_not_launched")


def has_pay(session: Session, project_id: int) -> bool:
    return get_project_pay(session, project_id) is not None


def get_project_for_pay(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    return project


# -- closing -------------------------------------------------------------------------------


def raise_closed(project: Project) -> NoReturn:
    raise Conflict(
        f"project {project.id} is closed; closing is final, so it cannot be launched again",
        code="project_closed",
    )


def close(session: Session, clock: Clock, member: Member, project: Project) -> FundingStatus:
    """Close a project with pay for good: no new task is handed out (``reserve_task`` answers
    ``project_closed``) and its tasks not yet handed out no longer count in ``required``, so
    a refund (``refunds.refund``) returns everything but what open leases and unsettled work
    need. Open leases may still be finished, and are paid at settlement. Closing again
    returns the same state."""
    require_manage(member, project)
    pp = require_pay(session, project)  # locked: a hand-out waits, then sees ``closed``
    if pp.state is not FundingState.closed:
        pp.state = FundingState.closed
        recount_capacity(session, pp, project)
    return funding_status(session, project)


def due_for_settlement(session: Session) -> list[Project]:
    """Projects the periodic settlement settles, oldest first: with pay and past draft (a
    draft has no work), in the cooperative's currency (the floor is in it). Closed projects
    too: a lease open at closing may still be finished, and must be paid without the
    requester acting; settling a project with nothing new posts nothing."""
    currency = current_policy(session).currency
    return list(
        session.scalars(
            select(Project)
            .join(ProjectPay, ProjectPay.project_id == Project.id)
            .where(ProjectPay.state != FundingState.draft, Project.currency == currency)
            .order_by(Project.id)
        )
    )
