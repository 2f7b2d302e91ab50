"""JSON API of the work loop: next task, heartbeat, skip, submit, my submissions, progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datacoop.errors import NotFound
from datacoop.log import services as log
from datacoop.members.models import Member
from datacoop.projects import services as projects
from datacoop.web.deps import DB, AppContext, Ctx, CurrentMember, run_unit
from datacoop.work import services
from datacoop.work.models import Submission
from datacoop.work.schemas import (
    HeartbeatOut,
    ProgressOut,
    SubmissionOut,
    SubmissionPage,
    SubmitIn,
    TaskOut,
)

router = APIRouter(tags=["work"])


def submission_out(s: Submission, receipt: dict[str, Any] | None = None) -> SubmissionOut:
    return SubmissionOut(
        log_index=s.log_index,
        receipt=receipt,
        id=s.id,
        assignment_id=s.assignment_id,
        project_id=s.project_id,
        item_id=s.item_id,
        answer=s.answer,
        active_seconds=s.active_ms / 1000,
        wall_seconds=s.wall_ms / 1000,
        late=s.late,
        created_at=s.created_at,
    )


@router.post(
    "/projects/{project_id}/next",
    response_model=TaskOut,
    responses={204: {"description": "No item needs you right now."}},
)
async def next_task(project_id: int, request: Request) -> Response:
    """Lease the next item for you (or return the one you already hold)."""
    ctx: AppContext = request.app.state.ctx  # read directly: no dependency to solve

    def work(db: Session, member: Member) -> dict[str, Any] | None:
        return services.next_task_body(db, ctx.clock, member, project_id)

    task = await run_unit(request, ctx, work)
    if task is None:
        return Response(status_code=204)
    # Serialised here (the bytes FastAPI would send for ``response_model=TaskOut``).
    return _json(TaskOut(**task), 200)


def _json(model: BaseModel, status: int) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


@router.post("/assignments/{assignment_id}/heartbeat", response_model=HeartbeatOut)
async def heartbeat(assignment_id: int, request: Request, ctx: Ctx) -> HeartbeatOut:
    """Tell the server you are still working.

    Active time counts between heartbeats at most 30 s apart, inside the lease."""

    def work(db: Session, member: Member) -> HeartbeatOut:
        a = services.heartbeat(db, ctx.clock, member, assignment_id)
        return HeartbeatOut(
            assignment_id=a.id,
            active_seconds=a.active_ms / 1000,
            expires_at=a.expires_at,
            expired=a.expires_at <= ctx.clock.now(),
        )

    return await run_unit(request, ctx, work)


@router.post("/assignments/{assignment_id}/skip", status_code=204)
async def skip(assignment_id: int, request: Request, ctx: Ctx) -> Response:
    """Give the item back; no penalty, and you will not be offered it again."""

    def work(db: Session, member: Member) -> None:
        services.skip(db, ctx.clock, member, assignment_id)

    await run_unit(request, ctx, work)
    return Response(status_code=204)


@router.post("/submissions", status_code=201, response_model=SubmissionOut)
async def submit(
    body: SubmitIn,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=100),
) -> Response:
    """Submit an answer. 201 when new; 200 with the original when it is a retry.

    The response carries the receipt: the log entry, an inclusion proof and a signed tree head.
    """
    ctx: AppContext = request.app.state.ctx  # read directly: no dependency to solve

    key = body.idempotency_key or idempotency_key

    def work(db: Session, member: Member) -> tuple[SubmissionOut, bool]:
        if body.assignment_id is not None and body.item_id is None:
            new = services.submit_new(
                db,
                ctx.clock,
                member,
                answer=body.answer,
                assignment_id=body.assignment_id,
                idempotency_key=key,
            )
            if new is not None:
                head = log.seal(db, ctx.clock, ctx.signer) or log.latest_tree_head(db)
                out = SubmissionOut(
                    log_index=new.log_index,
                    receipt=log.receipt(db, new.log_index, head),
                    id=new.id,
                    assignment_id=new.assignment_id,
                    project_id=new.project_id,
                    item_id=new.item_id,
                    answer=new.answer,
                    active_seconds=new.active_ms / 1000,
                    wall_seconds=new.wall_ms / 1000,
                    late=new.late,
                    created_at=new.created_at,
                )
                return out, True
        result = services.submit(
            db,
            ctx.clock,
            member,
            answer=body.answer,
            assignment_id=body.assignment_id,
            item_id=body.item_id,
            idempotency_key=key,
        )
        out = submission_out(result.submission, _receipt(db, ctx, result.submission))
        return out, result.created

    out, created = await run_unit(request, ctx, work)
    # Serialised here (the bytes FastAPI would send for ``response_model=SubmissionOut``).
    return _json(out, 201 if created else 200)


def _receipt(db: Session, ctx: AppContext, submission: Submission) -> dict[str, Any] | None:
    """Seal now (sign the head covering this entry) so the receipt can be handed out at once."""
    if submission.log_index is None:
        return None
    head = log.seal(db, ctx.clock, ctx.signer) or log.latest_tree_head(db)
    return log.receipt(db, submission.log_index, head)


@router.get("/submissions", response_model=SubmissionPage)
def my_submissions(
    member: CurrentMember, db: DB, after: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)
) -> SubmissionPage:
    """Your own submissions, oldest first, keyset-paginated."""
    rows = services.list_submissions(db, member, after=after, limit=limit)
    return SubmissionPage(
        data=[submission_out(s) for s in rows],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: int, member: CurrentMember, db: DB) -> SubmissionOut:
    return submission_out(services.get_submission(db, member, submission_id))


@router.get("/projects/{project_id}/progress", response_model=ProgressOut)
def progress(project_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> ProgressOut:
    project = projects.get_managed_project(db, member, project_id)
    return ProgressOut(project_id=project.id, **services.progress(db, ctx.clock, project))


@router.get("/submissions/{submission_id}/receipt")
def submission_receipt(
    submission_id: int, member: CurrentMember, ctx: Ctx, db: DB
) -> dict[str, Any]:
    """A fresh receipt for one of your submissions, against the newest signed tree head."""
    submission = services.get_submission(db, member, submission_id)
    receipt = _receipt(db, ctx, submission)
    if receipt is None:
        raise NotFound("this submission predates the log and has no receipt")
    return receipt
