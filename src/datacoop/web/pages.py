"""Server-rendered HTML pages shared by everyone: log in and out, home, the project list.
Requester pages live in ``projects/pages.py``, member pages in ``members/pages.py`` and
``work/pages.py``; what pages share (templates, CSRF, log-in redirects) in ``web/rendering.py``.

Pages use the browser session cookie (HttpOnly, SameSite=Lax). Every form carries a CSRF
token; the task page's script sends it as the ``X-CSRF-Token`` header to the JSON API. Forms
shown before there is a session (log in, register) use a double-submit token: the same
random value in a SameSite=Strict cookie and in the form.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from datacoop.errors import NotAuthenticated
from datacoop.members import services as members
from datacoop.members.models import Member, Role
from datacoop.projects import rules as project_rules
from datacoop.projects import services as projects
from datacoop.web.deps import DB, SESSION_COOKIE, AppContext, Ctx
from datacoop.web.rendering import (
    TEMPLATES,
    page_member,
    render,
    safe_next,
    to_login,
)

LOGIN_CSRF_COOKIE = "datacoop_login_csrf"
router = APIRouter(include_in_schema=False)

# The names page modules used before ``web/rendering.py`` existed.
_page_member = page_member
_to_login = to_login
_render = render
_safe_next = safe_next
__all__ = ["LOGIN_CSRF_COOKIE", "TEMPLATES", "router", "start_session"]


def home_for(member: Member) -> str:
    """Where a member lands: members on their dashboard, everyone else on the project list."""
    return "/dashboard" if member.role is Role.member else "/projects"


def new_form_token(response: Response, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)


def form_token_ok(request: Request, sent: str) -> bool:
    return secrets.compare_digest(sent, request.cookies.get(LOGIN_CSRF_COOKIE, "") or "\0")


def start_session(response: Response, ctx: AppContext, db: DB, member: Member) -> None:
    """Log ``member`` in on this browser: a server-side session and its cookie."""
    _, secret = members.start_web_session(db, ctx.clock, member, ctx.settings.session_days)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
        max_age=ctx.settings.session_days * 86400,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)


@router.get("/", response_model=None)
def home(request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    return RedirectResponse(home_for(who[0]), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", csrf_token=token, next=safe_next(next), error=None, email=""
    )
    new_form_token(response, token)
    return response


@router.post("/login", response_model=None)
def login(
    request: Request,
    ctx: Ctx,
    db: DB,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
    next: str = Form("/", max_length=500),
) -> Response:
    def again(status: int, error: str) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        page = render(
            request,
            "login.html",
            status,
            csrf_token=token,
            next=safe_next(next),
            error=error,
            email=email,
        )
        new_form_token(page, token)
        return page

    if not form_token_ok(request, csrf_token):
        return again(403, "Your form expired. Please try again.")
    try:
        member = members.authenticate(db, ctx.hasher, email, password)
    except NotAuthenticated:
        return again(401, "Wrong email or password.")
    target = safe_next(next)
    response = RedirectResponse(home_for(member) if target == "/" else target, status_code=303)
    start_session(response, ctx, db, member)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, ctx: Ctx, db: DB, csrf_token: str = Form(max_length=200)) -> Response:
    who = page_member(request, ctx, db)
    if who is not None and secrets.compare_digest(csrf_token, who[1]):
        members.end_web_session(db, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/projects", response_model=None)
def project_list(request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
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
    return render(request, "projects.html", member=member, csrf_token=csrf, projects=listed)
