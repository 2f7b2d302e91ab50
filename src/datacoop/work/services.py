"""Use cases of the work loop: next task, heartbeat, skip, submit.

Assignment is race-free on both backends. On PostgreSQL the candidate item is locked with
``SELECT ... FOR UPDATE SKIP LOCKED`` and its free capacity is re-counted by a *new* statement
after the lock is held (READ COMMITTED gives each statement a fresh snapshot, so it sees every
lease committed by whoever held the lock before us). On SQLite every transaction begins
``IMMEDIATE``, which serialises writers outright. The unique (item, member) constraint on
assignments is the last line of defence against handing one member the same item twice.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members.models import Contributor, Member
from datacoop.members.services import contributor_for
from datacoop.pay import services as pay
from datacoop.projects import tasktypes
from datacoop.projects.models import InstructionVersion, Item, Project
from datacoop.work import rules
from datacoop.work.models import Assignment, AssignmentState, Submission

MAX_ASSIGN_ATTEMPTS = 20


_A = cast(Table, Assignment.__table__)
_I = cast(Table, Item.__table__)
_P = cast(Table, Project.__table__)
_C = cast(Table, Contributor.__table__)
_S = cast(Table, Submission.__table__)
_IV = cast(Table, InstructionVersion.__table__)

# The hot path's statements are built once: Core, no ORM unit of work, cached compilation.
_LOCK_CONTRIBUTOR_SQL = (
    select(_C.c.id)
    .where(_C.c.project_id == bindparam("p"), _C.c.member_id == bindparam("m"))
    .with_for_update()
)
_CURRENT_SQL = (
    select(
        _A.c.id,
        _A.c.item_id,
        _A.c.instructions_version,
        _A.c.leased_at,
        _A.c.expires_at,
        _A.c.active_ms,
        _I.c.data,
    )
    .join_from(_A, _I, _I.c.id == _A.c.item_id)
    .where(
        _A.c.member_id == bindparam("m"),
        _A.c.project_id == bindparam("p"),
        _A.c.state == AssignmentState.leased,
        _A.c.expires_at > bindparam("now"),
    )
    .order_by(_A.c.id)
    .limit(1)
)
_LIVE_LEASES_SQL = (
    select(func.count())
    .where(
        _A.c.item_id == _I.c.id,
        _A.c.state == AssignmentState.leased,
        _A.c.expires_at > bindparam("now"),
    )
    .correlate(_I)
    .scalar_subquery()
)
_CANDIDATE_SQL = (
    select(_I.c.id, _I.c.data)
    .where(
        _I.c.project_id == bindparam("p"),
        _I.c.answer_count < _I.c.wanted,
        ~exists().where(_A.c.item_id == _I.c.id, _A.c.member_id == bindparam("m")),
        _I.c.answer_count + _LIVE_LEASES_SQL < _I.c.wanted,
    )
    # Fewest answers first, then import order: answers spread evenly over items, and the
    # (project_id, answer_count, id) index serves the order with no sort step.
    .order_by(_I.c.answer_count, _I.c.id)
    .limit(1)
    .with_for_update(skip_locked=True, of=_I)
)
_RECOUNT_SQL = select(_I.c.answer_count, _I.c.wanted, _LIVE_LEASES_SQL).where(
    _I.c.id == bindparam("i")
)
_INSERT_ASSIGNMENT_SQL = insert(_A)
_PROJECT_FOR_TASK_SQL = (
    select(
        _P.c.task_type,
        _P.c.config,
        _P.c.sensitivity,
        _P.c.lease_seconds,
        _P.c.instructions_version,
        _IV.c.text,
        pay.PAY_STATE_COLUMN,
    )
    .outerjoin(_IV, and_(_IV.c.project_id == _P.c.id, _IV.c.version == _P.c.instructions_version))
    # Whether the project has pay (no extra round trip): then each new lease reserves pay.
    .outerjoin(pay.PROJECT_PAY_TABLE, _P.c.id == pay.PAY_PROJECT_COLUMN)
    .where(_P.c.id == bindparam("p"))
)


@dataclass(frozen=True)
class Lease:
    """A live lease as the hot path returns it (columns, not an ORM object)."""

    id: int
    item_id: int
    instructions_version: int
    leased_at: Any
    expires_at: Any
    active_ms: int
    data: Any  # the item's data


def _lease(
    session: Session,
    clock: Clock,
    member_id: int,
    project_id: int,
    instructions_version: int,
    lease_seconds: int,
    paid: bool = False,
) -> Lease | None:
    """The member's current live lease in this project, or a new one, or None when no item
    needs them (every open item is full or already done by them).

    In a project with pay (``paid``), a new lease also reserves its pay (one conditional
    UPDATE, ``pay.reserve_task``), which raises ``Conflict`` when the project is not
    launched or its escrow is used up, rolling the lease back."""
    now = clock.now()
    conn = session.connection()
    ids = {"p": project_id, "m": member_id}
    # Lock the member's per-project row: serialises one member's own concurrent requests
    # (PostgreSQL; SQLite already is).
    if conn.execute(_LOCK_CONTRIBUTOR_SQL, ids).first() is None:
        contributor_for(session, clock, project_id, member_id)
        session.flush()
        conn.execute(_LOCK_CONTRIBUTOR_SQL, ids)
    params = {"p": project_id, "m": member_id, "now": now}
    current = conn.execute(_CURRENT_SQL, params).first()
    if current is not None:
        return Lease(*current)
    recount = conn.dialect.name != "sqlite"
    for _ in range(MAX_ASSIGN_ATTEMPTS):
        found = conn.execute(_CANDIDATE_SQL, params).first()
        if found is None:
            return None
        candidate, data = found
        if recount:
            # Re-count under the lock, in a new statement (fresh snapshot on PostgreSQL).
            # SQLite needs none: BEGIN IMMEDIATE already excludes every other writer.
            answers, wanted, live = conn.execute(_RECOUNT_SQL, {"i": candidate, "now": now}).one()
            if answers + live >= wanted:
                continue
        expires = now + timedelta(seconds=lease_seconds)
        new_key = conn.execute(
            _INSERT_ASSIGNMENT_SQL,
            {
                "project_id": project_id,
                "item_id": candidate,
                "member_id": member_id,
                "state": AssignmentState.leased,
                "instructions_version": instructions_version,
                "leased_at": now,
                "expires_at": expires,
                "active_ms": 0,
                "last_beat_at": now,
                "heartbeats": 0,
            },
        ).inserted_primary_key
        assert new_key is not None
        if paid:
            # Last, so the project's pay row stays locked only from here to commit.
            pay.reserve_task(session, project_id)
        return Lease(new_key[0], candidate, instructions_version, now, expires, 0, data)
    return None


def next_task(
    session: Session, clock: Clock, member: Member, project: Project
) -> Assignment | None:
    """The member's current live lease in this project, or a new one, or None when no item
    needs them (every open item is full or already done by them)."""
    session.flush()
    lease = _lease(
        session,
        clock,
        member.id,
        project.id,
        project.instructions_version,
        project.lease_seconds,
        paid=pay.has_pay(session, project.id),
    )
    if lease is None:
        return None
    return session.get(Assignment, lease.id)


def next_task_body(
    session: Session, clock: Clock, member: Member, project_id: int
) -> dict[str, Any] | None:
    """What ``POST /projects/{id}/next`` answers (the fields of ``TaskOut``), or None."""
    project = session.connection().execute(_PROJECT_FOR_TASK_SQL, {"p": project_id}).first()
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    task_type, config, sensitivity, lease_seconds, version, text, pay_state = project
    lease = _lease(
        session, clock, member.id, project_id, version, lease_seconds, paid=pay_state is not None
    )
    if lease is None:
        return None
    assert text is not None
    return {
        "assignment_id": lease.id,
        "project_id": project_id,
        "item_id": lease.item_id,
        "data": lease.data,
        "task_type": task_type,
        "config": config,
        "instructions": text,
        "instructions_version": lease.instructions_version,
        "sensitivity": sensitivity.value,
        "leased_at": lease.leased_at,
        "expires_at": lease.expires_at,
        "active_seconds": lease.active_ms / 1000,
    }


def _own_assignment(session: Session, member: Member, assignment_id: int) -> Assignment:
    assignment = session.scalar(
        select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    )
    if assignment is None:
        raise NotFound(f"no assignment with id {assignment_id}")
    if assignment.member_id != member.id:
        raise PermissionDenied("this assignment belongs to someone else", code="not_assigned")
    return assignment


def heartbeat(session: Session, clock: Clock, member: Member, assignment_id: int) -> Assignment:
    """Record a sign of life from the working page; returns the assignment with its total."""
    assignment = _own_assignment(session, member, assignment_id)
    if assignment.state is not AssignmentState.leased:
        raise Conflict(f"this assignment is already {assignment.state.value}", code="not_leased")
    now = clock.now()
    assignment.active_ms += rules.counted_gap_ms(
        assignment.last_beat_at, now, assignment.expires_at
    )
    assignment.last_beat_at = max(now, assignment.last_beat_at)
    assignment.heartbeats += 1
    session.flush()
    return assignment


def skip(session: Session, clock: Clock, member: Member, assignment_id: int) -> Assignment:
    """Give the item back. Costs the member nothing; they will not be offered it again."""
    assignment = _own_assignment(session, member, assignment_id)
    if assignment.state is AssignmentState.skipped:
        return assignment
    if assignment.state is not AssignmentState.leased:
        raise Conflict("this item was already submitted", code="already_submitted")
    now = clock.now()
    assignment.active_ms += rules.counted_gap_ms(
        assignment.last_beat_at, now, assignment.expires_at
    )
    assignment.last_beat_at = max(now, assignment.last_beat_at)
    assignment.state = AssignmentState.skipped
    assignment.finished_at = now
    session.flush()
    return assignment


@dataclass(frozen=True)
class SubmitResult:
    submission: Submission
    created: bool  # False when an idempotent retry returned the original


def _request_hash(assignment_id: int, answer: Any) -> str:
    body = json.dumps({"a": assignment_id, "answer": answer}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def submit(
    session: Session,
    clock: Clock,
    member: Member,
    *,
    answer: Any,
    assignment_id: int | None = None,
    item_id: int | None = None,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Accept an answer for one of the member's assignments.

    Exactly one submission per assignment. A retry with the same idempotency key (and the
    same body) returns the original; any other second attempt is a ``Conflict``. Late work
    (after the lease expired) is accepted and marked ``late`` - honest work is never lost,
    even when the item then has one answer more than its overlap.
    """
    if (assignment_id is None) == (item_id is None):
        raise ValidationFailed.field("assignment_id", "give exactly one of assignment_id, item_id")
    if assignment_id is None:
        assignment_id = session.scalar(
            select(Assignment.id).where(
                Assignment.item_id == item_id, Assignment.member_id == member.id
            )
        )
        if assignment_id is None:
            raise Conflict(f"you were never assigned item {item_id}", code="not_assigned")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise ValidationFailed.field("idempotency_key", "must be 1 to 100 characters")
    key = idempotency_key or f"assignment:{assignment_id}"
    request_hash = _request_hash(assignment_id, answer)

    prior = session.scalar(
        select(Submission).where(
            Submission.member_id == member.id, Submission.idempotency_key == key
        )
    )
    if prior is not None:
        if prior.assignment_id == assignment_id and prior.request_hash == request_hash:
            return SubmitResult(prior, created=False)
        if idempotency_key is None:
            raise Conflict("this item was already submitted", code="already_submitted")
        raise Conflict(
            "this idempotency key was already used for a different submission",
            code="idempotency_key_reused",
        )
    assignment = _own_assignment(session, member, assignment_id)
    if assignment.state is AssignmentState.submitted:
        existing = session.scalar(
            select(Submission).where(Submission.assignment_id == assignment.id)
        )
        if (
            existing is not None
            and existing.request_hash == request_hash
            and idempotency_key is None
        ):
            return SubmitResult(existing, created=False)
        raise Conflict("this item was already submitted", code="already_submitted")
    if assignment.state is AssignmentState.skipped:
        raise Conflict("you skipped this item", code="skipped")

    project = session.get(Project, assignment.project_id)
    item = session.get(Item, assignment.item_id)
    assert project is not None and item is not None
    normalised = tasktypes.validate_answer(project.task_type, project.config, item.data, answer)

    now = clock.now()
    salt = secrets.token_bytes(16)
    assignment.active_ms += rules.counted_gap_ms(
        assignment.last_beat_at, now, assignment.expires_at
    )
    assignment.last_beat_at = max(now, assignment.last_beat_at)
    assignment.state = AssignmentState.submitted
    assignment.finished_at = now
    submission = Submission(
        assignment_id=assignment.id,
        project_id=project.id,
        item_id=item.id,
        member_id=member.id,
        answer=normalised,
        idempotency_key=key,
        request_hash=request_hash,
        active_ms=assignment.active_ms,
        wall_ms=max(0, rules.to_ms(now - assignment.leased_at)),
        late=not rules.lease_is_live(assignment.expires_at, now),
        answer_salt=salt.hex(),
        created_at=now,
    )
    session.add(submission)
    session.execute(
        update(Item).where(Item.id == item.id).values(answer_count=Item.answer_count + 1)
    )
    session.flush()
    contributor = contributor_for(session, clock, project.id, member.id)
    submission.log_index = log.append(
        session,
        clock,
        EntryKind.submission_accepted,
        project=project.id,
        item=item.id,
        submission=submission.id,
        contributor=contributor.contributor_id,
        answer_sha256=log.commitment(salt, normalised),
        active_ms=submission.active_ms,
        wall_ms=submission.wall_ms,
        late=submission.late,
    )
    if project.dynamic_overlap:
        from datacoop.quality.services import update_wanted

        update_wanted(session, project, item.id)
    session.flush()
    return SubmitResult(submission, created=True)


_WORK_SQL = (
    select(
        exists()
        .where(_S.c.member_id == bindparam("m"), _S.c.idempotency_key == bindparam("k"))
        .label("prior"),
        _A.c.member_id,
        _A.c.state,
        _A.c.project_id,
        _A.c.item_id,
        _A.c.leased_at,
        _A.c.expires_at,
        _A.c.active_ms,
        _A.c.last_beat_at,
        _P.c.task_type,
        _P.c.config,
        _P.c.dynamic_overlap,
        _I.c.data,
        _C.c.contributor_id,
    )
    .join_from(_A, _P, _P.c.id == _A.c.project_id)
    .join(_I, _I.c.id == _A.c.item_id)
    .outerjoin(_C, and_(_C.c.project_id == _A.c.project_id, _C.c.member_id == _A.c.member_id))
    .where(_A.c.id == bindparam("a"))
    .with_for_update(of=_A)
)
_FINISH_ASSIGNMENT_SQL = (
    update(_A)
    .where(_A.c.id == bindparam("a"))
    .values(
        state=AssignmentState.submitted,
        active_ms=bindparam("new_active_ms"),
        last_beat_at=bindparam("new_last_beat_at"),
        finished_at=bindparam("new_finished_at"),
    )
)
_INSERT_SUBMISSION_SQL = insert(_S)
_COUNT_ANSWER_SQL = (
    update(_I).where(_I.c.id == bindparam("i")).values(answer_count=_I.c.answer_count + 1)
)


@dataclass(frozen=True)
class Accepted:
    """A submission just accepted by the hot path (the fields of ``SubmissionOut``)."""

    id: int
    assignment_id: int
    project_id: int
    item_id: int
    answer: Any
    active_ms: int
    wall_ms: int
    late: bool
    created_at: Any
    log_index: int


def submit_new(
    session: Session,
    clock: Clock,
    member: Member,
    *,
    answer: Any,
    assignment_id: int,
    idempotency_key: str | None = None,
) -> Accepted | None:
    """``submit`` for the common case, a first submission for a live or expired lease, in
    Core statements. Returns None, having written nothing, for every other case (a retry, a
    conflict, an error, dynamic overlap): the caller then runs ``submit``, which handles it."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        return None
    key = idempotency_key or f"assignment:{assignment_id}"
    session.flush()
    conn = session.connection()
    # One statement: is there a prior submission with this key, and the assignment (locked)
    # with what validation and the log entry need.
    row = conn.execute(_WORK_SQL, {"a": assignment_id, "m": member.id, "k": key}).first()
    if (
        row is None
        or row.prior
        or row.member_id != member.id
        or row.state is not AssignmentState.leased
        or row.dynamic_overlap is not None
        or row.contributor_id is None
    ):
        return None
    normalised = tasktypes.validate_answer(row.task_type, row.config, row.data, answer)

    now = clock.now()
    salt = secrets.token_bytes(16)
    active_ms = row.active_ms + rules.counted_gap_ms(row.last_beat_at, now, row.expires_at)
    wall_ms = max(0, rules.to_ms(now - row.leased_at))
    late = not rules.lease_is_live(row.expires_at, now)
    conn.execute(
        _FINISH_ASSIGNMENT_SQL,
        {
            "a": assignment_id,
            "new_active_ms": active_ms,
            "new_last_beat_at": max(now, row.last_beat_at),
            "new_finished_at": now,
        },
    )
    # The log index is known before the submission row is written (the log state is locked
    # from here to commit), so the row is inserted with it: no second UPDATE.
    index = log.next_index(session)
    submission_key = conn.execute(
        _INSERT_SUBMISSION_SQL,
        {
            "assignment_id": assignment_id,
            "project_id": row.project_id,
            "item_id": row.item_id,
            "member_id": member.id,
            "answer": normalised,
            "idempotency_key": key,
            "request_hash": _request_hash(assignment_id, answer),
            "active_ms": active_ms,
            "wall_ms": wall_ms,
            "late": late,
            "answer_salt": salt.hex(),
            "log_index": index,
            "created_at": now,
        },
    ).inserted_primary_key
    assert submission_key is not None
    submission_id = submission_key[0]
    conn.execute(_COUNT_ANSWER_SQL, {"i": row.item_id})
    appended = log.append(
        session,
        clock,
        EntryKind.submission_accepted,
        project=row.project_id,
        item=row.item_id,
        submission=submission_id,
        contributor=row.contributor_id,
        answer_sha256=log.commitment(salt, normalised),
        active_ms=active_ms,
        wall_ms=wall_ms,
        late=late,
    )
    assert appended == index
    return Accepted(
        id=submission_id,
        assignment_id=assignment_id,
        project_id=row.project_id,
        item_id=row.item_id,
        answer=normalised,
        active_ms=active_ms,
        wall_ms=wall_ms,
        late=late,
        created_at=now,
        log_index=index,
    )


def get_submission(session: Session, member: Member, submission_id: int) -> Submission:
    from datacoop.members.models import Role

    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission with id {submission_id}")
    if submission.member_id != member.id and member.role is not Role.steward:
        raise PermissionDenied("you can only see your own submissions")
    return submission


def list_submissions(
    session: Session, member: Member, *, after: int = 0, limit: int = 50
) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.member_id == member.id, Submission.id > after)
            .order_by(Submission.id)
            .limit(limit)
        )
    )


def progress(session: Session, clock: Clock, project: Project) -> dict[str, int]:
    now = clock.now()
    items = session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0
    complete = (
        session.scalar(
            select(func.count()).where(
                Item.project_id == project.id, Item.answer_count >= Item.wanted
            )
        )
        or 0
    )
    answers = session.scalar(select(func.count()).where(Submission.project_id == project.id)) or 0
    live = (
        session.scalar(
            select(func.count()).where(
                and_(
                    Assignment.project_id == project.id,
                    Assignment.state == AssignmentState.leased,
                    Assignment.expires_at > now,
                )
            )
        )
        or 0
    )
    contributors = (
        session.scalar(
            select(func.count(func.distinct(Submission.member_id))).where(
                Submission.project_id == project.id
            )
        )
        or 0
    )
    active_total = (
        session.scalar(
            select(func.coalesce(func.sum(Submission.active_ms), 0)).where(
                Submission.project_id == project.id
            )
        )
        or 0
    )
    return {
        "items": items,
        "items_complete": complete,
        "answers": answers,
        "answers_wanted": int(
            session.scalar(
                select(func.coalesce(func.sum(Item.wanted), 0)).where(Item.project_id == project.id)
            )
            or 0
        ),
        "live_leases": live,
        "contributors": contributors,
        "active_seconds_total": int(active_total) // 1000,
    }
