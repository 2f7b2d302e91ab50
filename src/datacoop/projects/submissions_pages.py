"""The requester's review page: a project's submissions, and forms to reject or approve one.

``GET /projects/{id}/submissions`` lists them newest first (``pay.queues``); a submission
awaiting review has a **Reject** form (reason and evidence, ``pay.appeals.reject``) and an
**Approve** button (``pay.appeals.approve``). Only the project's requester may reject or
approve; stewards see the list (``rules.require_manage``). A bad form re-renders the page
with the input kept and the error next to its field; a conflict (already rejected, already
approved) is a calm message at the top.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from datacoop.errors import Conflict, DatacoopError, NotFound, ValidationFailed
from datacoop.members.models import Member
from datacoop.pay import appeals, queues
from datacoop.pay import services as pay
from datacoop.pay.models import RejectionReason
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.web.deps import DB, AppContext, Ctx
from datacoop.web.rendering import error_page, field_errors, page_member, render, to_login
from datacoop.work.models import Submission

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
REASONS = {
    RejectionReason.wrong_answer.value: "Wrong answer",
    RejectionReason.ignored_instructions.value: "Ignored the instructions",
    RejectionReason.gibberish.value: "Gibberish",
    RejectionReason.suspected_fraud.value: "Suspected fraud",
}
DONE = {"rejected": "rejected", "approved": "approved"}
CSRF_EXPIRED = "Your form expired. Please submit it again."


def _managed(
    request: Request, ctx: AppContext, db: Session, project_id: int
) -> tuple[Member, str, Project] | Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request, path=f"/projects/{project_id}/submissions")
    try:
        return who[0], who[1], projects.get_managed_project(db, who[0], project_id)
    except DatacoopError as exc:
        return error_page(request, who, exc)


def _page(
    request: Request,
    ctx: AppContext,
    db: Session,
    found: tuple[Member, str, Project],
    before: int | None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    problem: str | None = None,
) -> Response:
    member, csrf, project = found
    rows = queues.project_submissions(db, member, project, before=before, limit=PAGE_SIZE)
    done = request.query_params.get("done", "")
    action, _, sid = done.partition("-")
    return render(
        request,
        "project_submissions.html",
        status,
        member=member,
        csrf_token=csrf,
        project=project,
        rows=rows,
        now=ctx.clock.now(),
        reasons=REASONS,
        auto_days=pay.current_policy(db).auto_approve_days,
        can_review=project.owner_id == member.id,
        form=form or {},
        problem=problem,
        done=(DONE[action], sid) if action in DONE and sid.isdigit() else None,
        before=before,
        next_before=rows[-1].id if len(rows) == PAGE_SIZE else None,
    )


def _back(project_id: int, before: int | None, done: str, submission_id: int) -> Response:
    query = f"?done={done}-{submission_id}"
    if before is not None:
        query += f"&before={before}"
    return RedirectResponse(
        f"/projects/{project_id}/submissions{query}#submission-{submission_id}", status_code=303
    )


def _own_submission(db: Session, project: Project, submission_id: int) -> None:
    """404 unless the submission belongs to the project in the address."""
    sub = db.get(Submission, submission_id)
    if sub is None or sub.project_id != project.id:
        raise NotFound(f"no submission with id {submission_id} in this project")


@router.get("/projects/{project_id}/submissions", response_model=None)
def submissions_page(
    project_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    before: int | None = Query(None, ge=1, le=2**62),
) -> Response:
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    return _page(request, ctx, db, found, before)


@router.post("/projects/{project_id}/submissions/{submission_id}/reject", response_model=None)
def reject(
    project_id: int,
    submission_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    reason: str = Form("", max_length=40),
    evidence: str = Form("", max_length=10_000),
    before: int | None = Form(None, ge=1, le=2**62),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    """Reject one submission with a reason code and evidence; the member may appeal."""
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found
    form = {"id": submission_id, "reason": reason, "evidence": evidence, "errors": {}}
    if not (csrf_token and secrets.compare_digest(csrf_token, csrf)):
        return _page(request, ctx, db, found, before, 403, form, CSRF_EXPIRED)
    try:
        _own_submission(db, project, submission_id)
        appeals.reject(db, ctx.clock, member, submission_id, reason=reason, evidence=evidence)
    except ValidationFailed as exc:
        form["errors"] = field_errors(exc)
        return _page(request, ctx, db, found, before, 422, form)
    except Conflict as exc:
        return _page(request, ctx, db, found, before, 409, problem=_calm(submission_id, exc))
    except DatacoopError as exc:
        return error_page(request, (member, csrf), exc)
    return _back(project.id, before, "rejected", submission_id)


@router.post("/projects/{project_id}/submissions/{submission_id}/approve", response_model=None)
def approve(
    project_id: int,
    submission_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    before: int | None = Form(None, ge=1, le=2**62),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    """Approve one submission before auto-approval: it can no longer be rejected."""
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found
    if not (csrf_token and secrets.compare_digest(csrf_token, csrf)):
        return _page(request, ctx, db, found, before, 403, problem=CSRF_EXPIRED)
    try:
        _own_submission(db, project, submission_id)
        appeals.approve(db, ctx.clock, member, submission_id)
    except Conflict as exc:
        return _page(request, ctx, db, found, before, 409, problem=_calm(submission_id, exc))
    except DatacoopError as exc:
        return error_page(request, (member, csrf), exc)
    return _back(project.id, before, "approved", submission_id)


def _calm(submission_id: int, exc: Conflict) -> str:
    """A conflict as a plain sentence: nothing is wrong, the page was out of date."""
    if exc.code == "already_rejected":
        return f"Submission {submission_id} was already rejected; nothing changed."
    if exc.code == "auto_approved":
        return (
            f"Submission {submission_id} is already approved ({exc.message}), "
            "so it can no longer be rejected; nothing changed."
        )
    return f"Submission {submission_id}: {exc.message}. Nothing changed."
