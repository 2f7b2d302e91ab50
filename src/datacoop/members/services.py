"""Use cases for members: registration, login, API tokens, browser sessions, contributor ids.

Services take the session, the clock and other dependencies explicitly, flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members import passwords, rules
from datacoop.members.models import ApiToken, Contributor, Member, Role, WebSession


def register(
    session: Session,
    clock: Clock,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.member,
) -> Member:
    """Create an account. A second account with the same email is a ``Conflict``."""
    email = rules.normalise_email(email)
    rules.check_password_strength(password)
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise ValidationFailed.field("display_name", "must be 1 to 200 characters")
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        raise Conflict("an account with this email already exists", code="email_taken")
    member = Member(
        email=email,
        display_name=display_name,
        password_hash=passwords.hash_password(hasher, password),
        role=role,
        pseudonym=passwords.new_pseudonym(),
        created_at=clock.now(),
    )
    session.add(member)
    for _attempt in range(3):
        try:
            with session.begin_nested():
                session.flush()
            break
        except IntegrityError as exc:
            session.add(member)
            if session.scalar(select(Member.id).where(Member.email == email)) is not None:
                # two registrations raced past the check above
                raise Conflict(
                    "an account with this email already exists", code="email_taken"
                ) from exc
            member.pseudonym = passwords.new_pseudonym()  # a (rare) pseudonym clash: redraw
    else:
        raise Conflict("could not create the account; please retry", code="retry")
    log.append(session, clock, EntryKind.member_joined, member=member.pseudonym, role=role.value)
    return member


def authenticate(session: Session, hasher: PasswordHasher, email: str, password: str) -> Member:
    """The member with these credentials, or ``NotAuthenticated`` (same message either way)."""
    member = session.scalar(select(Member).where(Member.email == email.strip().lower()))
    # Hash even when there is no such account, so response time does not reveal which
    # emails have one.
    stored = member.password_hash if member is not None else _dummy_hash(hasher)
    matches = passwords.check_password(hasher, stored, password)
    if member is None or member.disabled_at is not None or not matches:
        raise NotAuthenticated("wrong email or password", code="bad_credentials")
    return member


_DUMMY_HASHES: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = passwords.hash_password(hasher, secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def rename(session: Session, member: Member, display_name: str) -> Member:
    """Change the name shown in the app (never logged: the log holds only the pseudonym)."""
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise ValidationFailed.field("display_name", "must be 1 to 200 characters")
    member.display_name = display_name
    session.flush()
    return member


def change_password(
    session: Session,
    hasher: PasswordHasher,
    member: Member,
    *,
    current: str,
    new: str,
    keep_session: str | None = None,
) -> Member:
    """Set a new password after checking the current one, and end every other browser
    session (``keep_session`` is the secret of the one to keep). API tokens stay valid:
    they are revoked one by one."""
    if not passwords.check_password(hasher, member.password_hash, current):
        raise ValidationFailed.field("current_password", "is not your current password")
    try:
        rules.check_password_strength(new)
    except ValidationFailed as exc:
        raise ValidationFailed.field("new_password", exc.details[0]["message"]) from exc
    member.password_hash = passwords.hash_password(hasher, new)
    keep = passwords.secret_hash(keep_session) if keep_session else ""
    for web in session.scalars(select(WebSession).where(WebSession.member_id == member.id)):
        if web.token_hash != keep:
            session.delete(web)
    session.flush()
    return member


def create_api_token(
    session: Session, clock: Clock, member: Member, name: str
) -> tuple[ApiToken, str]:
    """Return the stored token row and the secret, which is shown once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", "must be 1 to 100 characters")
    secret = passwords.new_secret("dct")
    token = ApiToken(
        member_id=member.id,
        name=name,
        token_hash=passwords.secret_hash(secret),
        prefix=secret[:10],
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    return token, secret


def list_api_tokens(session: Session, member: Member) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)
        )
    )


def revoke_api_token(session: Session, clock: Clock, member: Member, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.member_id != member.id:
        raise NotFound("no such API token")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()
    return token


_MEMBER_FOR_TOKEN_SQL = (
    select(Member, ApiToken.revoked_at)
    .join(ApiToken, ApiToken.member_id == Member.id)
    .where(ApiToken.token_hash == bindparam("h"))
)
_MEMBERS = Member.__table__
_TOKENS = ApiToken.__table__
_MEMBER_ROW_FOR_TOKEN_SQL = (
    select(_MEMBERS, _TOKENS.c.revoked_at)
    .join_from(_MEMBERS, _TOKENS, _TOKENS.c.member_id == _MEMBERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("h"))
)


def member_for_token(session: Session, secret: str, *, attached: bool = True) -> Member:
    """The member holding this API token. With ``attached=False`` the member is read with a
    Core statement and returned as a plain (transient) ``Member``, not tracked by the session:
    cheaper, for the hot path that only reads it."""
    if not attached:
        found = (
            session.connection()
            .execute(_MEMBER_ROW_FOR_TOKEN_SQL, {"h": passwords.secret_hash(secret)})
            .first()
        )
        if found is None or found.revoked_at is not None or found.disabled_at is not None:
            raise NotAuthenticated("invalid or revoked API token", code="bad_token")
        return Member(
            id=found.id,
            email=found.email,
            display_name=found.display_name,
            password_hash=found.password_hash,
            role=found.role,
            pseudonym=found.pseudonym,
            created_at=found.created_at,
            disabled_at=found.disabled_at,
        )
    row = session.execute(_MEMBER_FOR_TOKEN_SQL, {"h": passwords.secret_hash(secret)}).first()
    if row is None or row[1] is not None or row[0].disabled_at is not None:
        raise NotAuthenticated("invalid or revoked API token", code="bad_token")
    return row[0]


def start_web_session(
    session: Session, clock: Clock, member: Member, days: int
) -> tuple[WebSession, str]:
    secret = passwords.new_secret("dcs")
    now = clock.now()
    web = WebSession(
        member_id=member.id,
        token_hash=passwords.secret_hash(secret),
        csrf_token=passwords.new_secret("csrf"),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(web)
    session.flush()
    return web, secret


def web_session_for(session: Session, clock: Clock, secret: str) -> tuple[Member, WebSession]:
    row = session.execute(
        select(Member, WebSession)
        .join(WebSession, WebSession.member_id == Member.id)
        .where(WebSession.token_hash == passwords.secret_hash(secret))
    ).first()
    if row is None or row[1].expires_at <= clock.now() or row[0].disabled_at is not None:
        raise NotAuthenticated("your session has ended; please log in again", code="no_session")
    return row[0], row[1]


def end_web_session(session: Session, secret: str) -> None:
    web = session.scalar(
        select(WebSession).where(WebSession.token_hash == passwords.secret_hash(secret))
    )
    if web is not None:
        session.delete(web)
        session.flush()


def contributor_for(session: Session, clock: Clock, project_id: int, member_id: int) -> Contributor:
    """The member's per-project identity, created on first use (safe under races)."""
    found = session.scalar(
        select(Contributor).where(
            Contributor.project_id == project_id, Contributor.member_id == member_id
        )
    )
    if found is not None:
        return found
    contributor = Contributor(
        project_id=project_id,
        member_id=member_id,
        contributor_id=passwords.new_contributor_id(),
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(contributor)
            session.flush()
    except IntegrityError:
        found = session.scalar(
            select(Contributor).where(
                Contributor.project_id == project_id, Contributor.member_id == member_id
            )
        )
        assert found is not None
        return found
    return contributor


def list_members(session: Session, *, after: int = 0, limit: int = 50) -> list[Member]:
    return list(
        session.scalars(select(Member).where(Member.id > after).order_by(Member.id).limit(limit))
    )


def set_role(session: Session, actor: Member, member_id: int, role: Role) -> Member:
    rules.require_steward(actor)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("no such member")
    member.role = role
    session.flush()
    return member
