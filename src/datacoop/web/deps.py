"""Wiring for the web layer: the one place where settings, engine, clock and hasher meet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from argon2 import PasswordHasher
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from datacoop.clock import Clock
from datacoop.disclosure.services import TotalsCache
from datacoop.errors import NotAuthenticated, PermissionDenied
from datacoop.log import services as log
from datacoop.log.signer import Signer
from datacoop.members import services as members
from datacoop.members.models import Member
from datacoop.settings import Settings

T = TypeVar("T")
SESSION_COOKIE = "datacoop_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    clock: Clock
    hasher: PasswordHasher
    sessions: sessionmaker[Session]
    signer: Signer
    # Runs whole units of work on the hot path (see ``run_unit``). One thread for SQLite,
    # whose writers are serialised anyway: waiting in-process is cheaper and fairer than
    # SQLite's busy handler, which sleeps with backoff and gave 1-2 s tail latencies.
    db_executor: ThreadPoolExecutor
    # The transparency page's public totals, at most a minute old (one cache per app).
    public_totals: TotalsCache = field(default_factory=TotalsCache)


async def context(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[AppContext, Depends(context)]


def db_session(ctx: Ctx) -> Iterator[Session]:
    """One unit of work per request: commit if the handler returned, roll back if it raised.

    Declared with ``scope="function"`` below so the commit happens before the response is
    sent: a client never sees 201 for data that failed to commit.
    """
    session = ctx.sessions()
    try:
        yield session
        if session.info.get("log_appended"):
            log.seal(session, ctx.clock, ctx.signer)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DB = Annotated[Session, Depends(db_session, scope="function")]


def current_member(request: Request, ctx: Ctx, db: DB) -> Member:
    """The caller: a Bearer API token, or a browser session cookie (with CSRF on writes)."""
    return _authenticate(request, ctx, db, attached=True)


def _authenticate(request: Request, ctx: AppContext, db: Session, *, attached: bool) -> Member:
    """``current_member``; ``attached=False`` (the work loop's hot path, which only reads the
    member) may return a member the session does not track."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <token>'", code="bad_token")
        return members.member_for_token(db, secret.strip(), attached=attached)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        member, web = members.web_session_for(db, ctx.clock, cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER) or request.scope.get("datacoop.form_csrf")
            if sent != web.csrf_token:
                raise PermissionDenied("missing or wrong CSRF token", code="csrf_failed")
        request.state.csrf_token = web.csrf_token
        return member
    raise NotAuthenticated("log in or send an API token", code="not_authenticated")


CurrentMember = Annotated[Member, Depends(current_member)]


async def run_unit(request: Request, ctx: AppContext, work: Callable[[Session, Member], T]) -> T:
    """Authenticate, run ``work``, seal the log and commit: one unit of work in one call on
    the database executor, so no lock is held across thread hand-offs. Used by the hot
    path of the work loop (next task, heartbeat, skip, submit)."""

    def job() -> T:
        session = ctx.sessions()
        try:
            member = _authenticate(request, ctx, session, attached=False)
            result = work(session, member)
            if session.info.get("log_appended"):
                log.seal(session, ctx.clock, ctx.signer)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    return await asyncio.get_running_loop().run_in_executor(ctx.db_executor, job)
