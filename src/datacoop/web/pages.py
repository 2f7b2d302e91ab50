"""Server-rendered HTML pages: log in, the member's task page, the requester's progress page.

Pages use the browser session cookie (HttpOnly, SameSite=Lax). Every form carries a CSRF
token; the task page's script sends it as the ``X-CSRF-Token`` header to the JSON API.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from datacoop.errors import DatacoopError, NotAuthenticated
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.projects import rules as project_rules
from datacoop.projects import services as projects
from datacoop.web.deps import DB, SESSION_COOKIE, Ctx
from datacoop.work import services as work

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LOGIN_CSRF_COOKIE = "datacoop_login_csrf"
router = APIRouter(include_in_schema=False)


def _page_member(request: Request, ctx: Ctx, db: DB) -> tuple[Member, str] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        member, web = members.web_session_for(db, ctx.clock, cookie)
    except NotAuthenticated:
        return None
    return member, web.csrf_token


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


@router.get("/", response_model=None)
def home(request: Request, ctx: Ctx, db: DB) -> Response:
    who = _page_member(request, ctx, db)
    if who is None:
        return _to_login(request)
    return RedirectResponse("/projects", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/projects") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", csrf_token=token, next=_safe_next(next), error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


def _safe_next(target: str) -> str:
    # Only same-site paths: never redirect to another host after log in.
    return target if target.startswith("/") and not target.startswith("//") else "/projects"


@router.post("/login", response_model=None)
def login(
    request: Request,
    ctx: Ctx,
    db: DB,
    email: str = Form(max_length=320),
    password: str = Form(max_length=1000),
    csrf_token: str = Form(max_length=200),
    next: str = Form("/projects", max_length=500),
) -> Response:
    if not secrets.compare_digest(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _render(
            request,
            "login.html",
            403,
            csrf_token=csrf_token,
            next=_safe_next(next),
            error="Your form expired. Please try again.",
        )
    try:
        member = members.authenticate(db, ctx.hasher, email, password)
    except NotAuthenticated:
        return _render(
            request,
            "login.html",
            401,
            csrf_token=csrf_token,
            next=_safe_next(next),
            error="Wrong email or password.",
        )
    _, secret = members.start_web_session(db, ctx.clock, member, ctx.settings.session_days)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
        max_age=ctx.settings.session_days * 86400,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, ctx: Ctx, db: DB, csrf_token: str = Form(max_length=200)) -> Response:
    who = _page_member(request, ctx, db)
    if who is not None and secrets.compare_digest(csrf_token, who[1]):
        members.end_web_session(db, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/projects", response_model=None)
def project_list(request: Request, ctx: Ctx, db: DB) -> Response:
    who = _page_member(request, ctx, db)
    if who is None:
        return _to_login(request)
    member, csrf = who
    rows = projects.list_projects(db, member, mine=False, limit=200)
    listed = [
        {
            "project": p,
            "manage": project_rules.can_manage(member, p),
            "hourly": project_rules.implied_hourly(p.pay_per_item, p.estimated_seconds),
        }
        for p in rows
    ]
    return _render(request, "projects.html", member=member, csrf_token=csrf, projects=listed)


@router.get("/projects/{project_id}/work", response_model=None)
def work_page(project_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    who = _page_member(request, ctx, db)
    if who is None:
        return _to_login(request)
    member, csrf = who
    try:
        project = projects.get_project(db, project_id)
    except DatacoopError as exc:
        return _render(
            request, "error.html", 404, member=member, csrf_token=csrf, message=exc.message
        )
    instructions = projects.current_instructions(db, project).text
    return _render(
        request,
        "work.html",
        member=member,
        csrf_token=csrf,
        project=project,
        instructions=instructions,
    )


@router.get("/projects/{project_id}/progress", response_model=None)
def progress_page(project_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    who = _page_member(request, ctx, db)
    if who is None:
        return _to_login(request)
    member, csrf = who
    try:
        project = projects.get_managed_project(db, member, project_id)
    except DatacoopError as exc:
        status = 404 if exc.code == "not_found" else 403
        return _render(
            request, "error.html", status, member=member, csrf_token=csrf, message=exc.message
        )
    stats = work.progress(db, ctx.clock, project)
    return _render(
        request,
        "progress.html",
        member=member,
        csrf_token=csrf,
        project=project,
        stats=stats,
        is_steward=member.role is Role.steward,
    )
