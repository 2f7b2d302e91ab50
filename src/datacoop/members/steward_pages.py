"""The stewards' pages: members and their roles, and the appeals queue (``pay.appeals``)
with the unappealed suspected fraud a steward may confirm (``pay.queues``).

A steward runs the instance: they can change a member's role, but not their pay, their
votes or the log. Every change is a CSRF-protected form post.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError
from datacoop.members import rules
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.pay import appeals, queues
from datacoop.pay.models import RejectionReason
from datacoop.projects import services as projects
from datacoop.web.deps import DB, Ctx
from datacoop.web.errors import status_for
from datacoop.web.rendering import error_page, field_errors, page_member, render, to_login
from datacoop.work.models import Submission

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


def _steward(request: Request, ctx: Ctx, db: Session) -> tuple[Member, str] | Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    try:
        rules.require_steward(who[0])
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return who


@router.get("/steward/members", response_model=None)
def member_list(
    request: Request,
    ctx: Ctx,
    db: DB,
    after: int = Query(0, ge=0),
    changed: int | None = Query(None),
) -> Response:
    found = _steward(request, ctx, db)
    if isinstance(found, Response):
        return found
    member, csrf = found
    rows = members.list_members(db, after=after, limit=PAGE_SIZE)
    return render(
        request,
        "steward_members.html",
        member=member,
        csrf_token=csrf,
        rows=rows,
        roles=[r.value for r in Role],
        changed=changed,
        error=None,
        next_after=rows[-1].id if len(rows) == PAGE_SIZE else None,
    )


@router.post("/steward/members/{member_id}/role", response_model=None)
def change_role(
    member_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    role: str = Form(max_length=20),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    found = _steward(request, ctx, db)
    if isinstance(found, Response):
        return found
    member, csrf = found
    problem: tuple[int, str] | None = None
    if not (csrf_token and secrets.compare_digest(csrf_token, csrf)):
        problem = (403, "Your form expired. Please try again.")
    elif role not in {r.value for r in Role}:
        problem = (422, f"{role!r} is not a role: choose member, requester or steward.")
    else:
        try:
            rules.require_not_own_role(member, member_id)
            members.set_role(db, member, member_id, Role(role))
        except DatacoopError as exc:
            problem = (status_for(exc), exc.message)
    if problem is None:
        return RedirectResponse(f"/steward/members?changed={member_id}", status_code=303)
    rows = members.list_members(db, limit=PAGE_SIZE)
    return render(
        request,
        "steward_members.html",
        problem[0],
        member=member,
        csrf_token=csrf,
        rows=rows,
        roles=[r.value for r in Role],
        changed=None,
        error={"member_id": member_id, "message": problem[1]},
        next_after=None,
    )


def _appeals(
    request: Request,
    ctx: Ctx,
    db: Session,
    who: tuple[Member, str],
    status: int = 200,
    error: dict[str, Any] | None = None,
) -> Response:
    member, csrf = who
    rows = appeals.queue(db, member)
    now = ctx.clock.now()
    subs = {
        s.id: s
        for s in db.scalars(
            select(Submission).where(Submission.id.in_([r.submission_id for r in rows]))
        )
    }
    return render(
        request,
        "steward_appeals.html",
        status,
        member=member,
        csrf_token=csrf,
        rows=[
            {
                "r": r,
                "submission": subs.get(r.submission_id),
                "project": projects.get_project(db, r.project_id),
                # Fraud is confirmed only on a suspected_fraud rejection, after the window.
                "fraud_allowed": r.reason is RejectionReason.suspected_fraud
                and now > r.appeal_deadline,
            }
            for r in rows
        ],
        fraud=queues.fraud_to_confirm(db, ctx.clock, member),
        decided=request.query_params.get("decided"),
        confirmed=request.query_params.get("confirmed"),
        error=error,
    )


@router.get("/steward/appeals", response_model=None)
def appeals_queue(request: Request, ctx: Ctx, db: DB) -> Response:
    """Appeals waiting for a steward, oldest first, each with the rejection's reason and
    evidence and the member's statement; then unappealed suspected fraud whose appeal window
    is over, which a steward may confirm."""
    found = _steward(request, ctx, db)
    if isinstance(found, Response):
        return found
    return _appeals(request, ctx, db, found)


@router.post("/steward/appeals/{rejection_id}/decision", response_model=None)
def decide(
    rejection_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    outcome: str = Form("", max_length=30),
    note: str = Form("", max_length=10_000),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    found = _steward(request, ctx, db)
    if isinstance(found, Response):
        return found
    if not (csrf_token and secrets.compare_digest(csrf_token, found[1])):
        error = {"id": rejection_id, "field": "note", "message": "Your form expired. Try again."}
        return _appeals(request, ctx, db, found, 403, error)
    try:
        appeals.decide(db, ctx.clock, found[0], rejection_id, outcome=outcome, note=note)
    except DatacoopError as exc:
        field, message = next(iter(field_errors(exc).items()))
        named = field in ("outcome", "note")
        error = {
            "id": rejection_id,
            "field": field if named else "note",
            "message": f"{field.capitalize()} {message}" if named else message,
        }
        return _appeals(request, ctx, db, found, status_for(exc), error)
    what = "confirmed" if outcome == "fraud_confirmed" else "decided"
    return RedirectResponse(f"/steward/appeals?{what}={rejection_id}", status_code=303)
