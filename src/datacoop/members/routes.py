"""JSON API for accounts, API tokens and (for stewards) member administration."""

from __future__ import annotations

from fastapi import APIRouter, Query

from datacoop.members import services
from datacoop.members.models import ApiToken, Member, Role
from datacoop.members.rules import require_steward
from datacoop.members.schemas import (
    LoginIn,
    MemberOut,
    MemberPage,
    MeOut,
    NewTokenOut,
    RegisterIn,
    RoleIn,
    TokenIn,
    TokenOut,
)
from datacoop.web.deps import DB, Ctx, CurrentMember

router = APIRouter(tags=["members"])


def me_out(m: Member) -> MeOut:
    return MeOut(
        id=m.id,
        email=m.email,
        pseudonym=m.pseudonym,
        display_name=m.display_name,
        role=m.role.value,
        created_at=m.created_at,
    )


def member_out(m: Member) -> MemberOut:
    return MemberOut(
        id=m.id,
        pseudonym=m.pseudonym,
        display_name=m.display_name,
        role=m.role.value,
        created_at=m.created_at,
    )


def token_out(t: ApiToken) -> TokenOut:
    return TokenOut(
        id=t.id, name=t.name, prefix=t.prefix, created_at=t.created_at, revoked_at=t.revoked_at
    )


@router.post("/auth/register", status_code=201, response_model=MeOut)
def register(body: RegisterIn, ctx: Ctx, db: DB) -> MeOut:
    """Create an account (member or requester). Stewards are made by ``datacoop init``."""
    member = services.register(
        db,
        ctx.clock,
        ctx.hasher,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        role=Role(body.role),
    )
    return me_out(member)


@router.post("/auth/token", status_code=201, response_model=NewTokenOut)
def login(body: LoginIn, ctx: Ctx, db: DB) -> NewTokenOut:
    """Exchange email and password for a new API token (shown once)."""
    member = services.authenticate(db, ctx.hasher, body.email, body.password)
    token, secret = services.create_api_token(db, ctx.clock, member, body.token_name)
    return NewTokenOut(**token_out(token).model_dump(), token=secret)


@router.get("/me", response_model=MeOut)
def me(member: CurrentMember) -> MeOut:
    return me_out(member)


@router.get("/me/tokens", response_model=list[TokenOut])
def my_tokens(member: CurrentMember, db: DB) -> list[TokenOut]:
    return [token_out(t) for t in services.list_api_tokens(db, member)]


@router.post("/me/tokens", status_code=201, response_model=NewTokenOut)
def new_token(body: TokenIn, member: CurrentMember, ctx: Ctx, db: DB) -> NewTokenOut:
    token, secret = services.create_api_token(db, ctx.clock, member, body.name)
    return NewTokenOut(**token_out(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> TokenOut:
    return token_out(services.revoke_api_token(db, ctx.clock, member, token_id))


@router.get("/members", response_model=MemberPage)
def list_members(
    member: CurrentMember, db: DB, after: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)
) -> MemberPage:
    """Stewards only: every account, keyset-paginated by id."""
    require_steward(member)
    rows = services.list_members(db, after=after, limit=limit)
    return MemberPage(
        data=[member_out(m) for m in rows], next_after=rows[-1].id if len(rows) == limit else None
    )


@router.patch("/members/{member_id}", response_model=MemberOut)
def change_role(member_id: int, body: RoleIn, member: CurrentMember, db: DB) -> MemberOut:
    """Stewards only: change a member's role."""
    return member_out(services.set_role(db, member, member_id, Role(body.role)))
