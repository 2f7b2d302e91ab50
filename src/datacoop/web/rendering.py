"""What every HTML page shares: the templates, who is looking, CSRF on forms, error pages.

Pages use the browser session cookie (HttpOnly, SameSite=Lax). Every form carries the
session's CSRF token as ``csrf_token``; a page handler checks it with ``form_member`` before
changing anything. A page asked for without a (live) session redirects to the log-in page
with ``next=`` set to the page, path and query, so the member comes back to where they were.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError, NotAuthenticated
from datacoop.members import services as members
from datacoop.members.models import Member
from datacoop.web.deps import SESSION_COOKIE, AppContext
from datacoop.web.errors import status_for
from datacoop.web.formatting import format_answer, format_duration, format_money

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["money"] = format_money
TEMPLATES.env.filters["duration"] = format_duration
TEMPLATES.env.filters["answer"] = format_answer


def page_member(request: Request, ctx: AppContext, db: Session) -> tuple[Member, str] | None:
    """The logged-in member and their session's CSRF token, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        member, web = members.web_session_for(db, ctx.clock, cookie)
    except NotAuthenticated:
        return None
    return member, web.csrf_token


def form_member(
    request: Request, ctx: AppContext, db: Session, sent_csrf: str
) -> tuple[Member, str] | None:
    """``page_member`` for a form post: None unless the form's CSRF token matches."""
    who = page_member(request, ctx, db)
    if who is None or not secrets.compare_digest(sent_csrf, who[1]):
        return None
    return who


def next_target(request: Request, *, path: str | None = None) -> str:
    """The page to come back to after logging in: this page, with its query string."""
    target = path or request.url.path
    if path is None and request.url.query:
        target += "?" + request.url.query
    return target


def to_login(request: Request, *, path: str | None = None) -> RedirectResponse:
    return RedirectResponse(
        f"/login?next={quote(next_target(request, path=path), safe='/')}", status_code=303
    )


def safe_next(target: str, default: str = "/") -> str:
    """Only same-site paths: never redirect to another host after logging in."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else default


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def error_page(
    request: Request, who: tuple[Member, str] | None, exc: DatacoopError
) -> HTMLResponse:
    """The domain error as a page, with the status the one error table gives it."""
    member, csrf = who if who is not None else (None, None)
    return render(
        request,
        "error.html",
        status_for(exc),
        member=member,
        csrf_token=csrf,
        message=exc.message,
    )


def field_errors(exc: DatacoopError) -> dict[str, str]:
    """``{"field": "message"}`` from a domain error's details (``_form`` for the rest)."""
    out: dict[str, str] = {}
    if isinstance(exc.details, list):
        for d in exc.details:
            if isinstance(d, dict) and "field" in d:
                out.setdefault(str(d["field"]), str(d.get("message", "")))
    if not out:
        out["_form"] = exc.message
    return out
