"""The stewards' pages: members and their roles, and the appeals queue.

A steward runs the instance: they can change a member's role, but not their pay, their
votes or the log. Every change is a CSRF-protected form post.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError
from datacoop.members import rules
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.web.deps import DB, Ctx
from datacoop.web.errors import status_for
from datacoop.web.rendering import error_page, page_member, render, to_login

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


@router.get("/steward/appeals", response_model=None)
def appeals(request: Request, ctx: Ctx, db: DB) -> Response:
    """A placeholder: rejections and appeals arrive with issue 7 (pay)."""
    found = _steward(request, ctx, db)
    if isinstance(found, Response):
        return found
    member, csrf = found
    return render(request, "steward_appeals.html", member=member, csrf_token=csrf)
