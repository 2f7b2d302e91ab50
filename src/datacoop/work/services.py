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
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members.models import Contributor, Member
from datacoop.members.services import contributor_for
from datacoop.projects import tasktypes
from datacoop.projects.models import Item, Project
from datacoop.work import rules
from datacoop.work.models import Assignment, AssignmentState, Submission

MAX_ASSIGN_ATTEMPTS = 20


def _live_leases(now: Any) -> Any:
    return (
        select(func.count())
        .where(
            Assignment.item_id == Item.id,
            Assignment.state == AssignmentState.leased,
            Assignment.expires_at > now,
        )
        .correlate(Item)
        .scalar_subquery()
    )


def next_task(
    session: Session, clock: Clock, member: Member, project: Project
) -> Assignment | None:
    """The member's current live lease in this project, or a new one, or None when no item
    needs them (every open item is full or already done by them)."""
    now = clock.now()
    # Lock the member's per-project row: serialises one member's own concurrent requests
    # (PostgreSQL; SQLite already is).
    locked = session.scalar(
        select(Contributor.id)
        .where(Contributor.project_id == project.id, Contributor.member_id == member.id)
        .with_for_update()
    )
    if locked is None:
        contributor = contributor_for(session, clock, project.id, member.id)
        session.execute(
            select(Contributor.id).where(Contributor.id == contributor.id).with_for_update()
        )
    current = session.scalar(
        select(Assignment)
        .where(
            Assignment.member_id == member.id,
            Assignment.project_id == project.id,
            Assignment.state == AssignmentState.leased,
            Assignment.expires_at > now,
        )
        .order_by(Assignment.id)
        .limit(1)
    )
    if current is not None:
        return current
    done_by_member = exists().where(
        Assignment.item_id == Item.id, Assignment.member_id == member.id
    )
    for _ in range(MAX_ASSIGN_ATTEMPTS):
        candidate = session.scalar(
            select(Item.id)
            .where(
                Item.project_id == project.id,
                Item.answer_count < Item.wanted,
                ~done_by_member,
                Item.answer_count + _live_leases(now) < Item.wanted,
            )
            # Fewest answers first, then import order: answers spread evenly over items, and
            # the (project_id, answer_count, id) index serves the order with no sort step.
            .order_by(Item.answer_count, Item.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Item)
        )
        if candidate is None:
            return None
        if session.get_bind().dialect.name != "sqlite":
            # Re-count under the lock, in a new statement (fresh snapshot on PostgreSQL).
            # SQLite needs none: BEGIN IMMEDIATE already excludes every other writer.
            answers, wanted, live = session.execute(
                select(Item.answer_count, Item.wanted, _live_leases(now)).where(
                    Item.id == candidate
                )
            ).one()
            if answers + live >= wanted:
                continue
        assignment = Assignment(
            project_id=project.id,
            item_id=candidate,
            member_id=member.id,
            state=AssignmentState.leased,
            instructions_version=project.instructions_version,
            leased_at=now,
            expires_at=now + timedelta(seconds=project.lease_seconds),
            active_ms=0,
            last_beat_at=now,
            heartbeats=0,
        )
        session.add(assignment)
        session.flush()
        return assignment
    return None


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
