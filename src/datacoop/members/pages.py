"""HTML pages about the member themself: register, and settings (name, password, API tokens).

Each handler: who is asking (or back to log in), check the form's CSRF token, call one
service, then redirect (post/redirect/get) or re-render the form with the input kept and
each error next to its field. The payout method form calls ``payouts.services``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError, PermissionDenied, ValidationFailed
from datacoop.members import services
from datacoop.members.models import Member, Role
from datacoop.payouts import rules as payout_rules
from datacoop.payouts import services as payouts
from datacoop.web.deps import DB, SESSION_COOKIE, Ctx
from datacoop.web.pages import form_token_ok, home_for, new_form_token, start_session
from datacoop.web.rendering import (
    error_page,
    field_errors,
    form_member,
    page_member,
    render,
    safe_next,
    to_login,
)

router = APIRouter(include_in_schema=False)
ROLES = (Role.member.value, Role.requester.value)
DONE = {
    "profile": "Your name was saved.",
    "password": "Your password was changed. Other browsers were logged out.",
    "revoked": "The token was revoked. Programs using it can no longer sign in.",
    "payout": "Your payout method was saved.",
}
# The payout form's fields per method kind: form name -> the service's field name. Each kind
# has its own "account holder" box, so every control keeps a unique id.
PAYOUT_FIELDS = {
    "sepa": {"sepa_holder": "account_holder", "iban": "iban", "bic": "bic"},
    "mobile_money": {"provider": "provider", "phone": "phone", "mm_holder": "account_holder"},
    "other": {"instructions": "instructions", "other_holder": "account_holder"},
}
PAYOUT_FORM = {"kind": "sepa"} | {n: "" for fields in PAYOUT_FIELDS.values() for n in fields}


# ---------------------------------------------------------------------------------------------
# Register
# ---------------------------------------------------------------------------------------------


def _register_form(
    request: Request, status: int = 200, errors: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    form = {"email": "", "display_name": "", "role": "member", "next": "/"} | values
    page = render(request, "register.html", status, csrf_token=token, form=form, errors=errors or {})
    new_form_token(page, token)
    return page


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, next: str = "/") -> HTMLResponse:
    return _register_form(request, next=safe_next(next))


@router.post("/register", response_model=None)
def register(
    request: Request,
    ctx: Ctx,
    db: DB,
    email: str = Form("", max_length=320),
    display_name: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    confirm_password: str = Form("", max_length=1000),
    role: str = Form("member", max_length=20),
    csrf_token: str = Form("", max_length=200),
    next: str = Form("/", max_length=500),
) -> Response:
    kept = {"email": email, "display_name": display_name, "role": role, "next": safe_next(next)}
    if not form_token_ok(request, csrf_token):
        return _register_form(request, 403, {"_form": "Your form expired. Please try again."}, **kept)
    if role not in ROLES:
        return _register_form(request, 422, {"role": "choose member or requester"}, **kept)
    if password != confirm_password:
        return _register_form(request, 422, {"confirm_password": "does not match"}, **kept)
    try:
        member = services.register(
            db,
            ctx.clock,
            ctx.hasher,
            email=email,
            password=password,
            display_name=display_name,
            role=Role(role),
        )
    except DatacoopError as exc:
        if exc.code == "email_taken":
            errors = {"email": "already has an account: log in instead"}
            return _register_form(request, 409, errors, **kept)
        return _register_form(request, 422, field_errors(exc), **kept)
    target = safe_next(next)
    response = RedirectResponse(home_for(member) if target == "/" else target, status_code=303)
    start_session(response, ctx, db, member)
    return response


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def _settings(
    request: Request,
    db: Session,
    member: Member,
    csrf: str,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    done = request.query_params.get("done", "")
    context: dict[str, Any] = {
        "member": member,
        "csrf_token": csrf,
        "tokens": services.list_api_tokens(db, member),
        "done": DONE.get(done),
        "errors": {},
        "form": {"display_name": member.display_name, "token_name": ""},
        "new_token": None,
        "payout": _stored_payout(db, member),
        "payout_form": PAYOUT_FORM,
    }
    context.update(extra)
    return render(request, "settings.html", status, **context)


def _stored_payout(db: Session, member: Member) -> dict[str, Any] | None:
    found = payouts.get_method(db, member)
    if found is None:
        return None
    return {"kind": found.kind.value, "details": payout_rules.masked(found.kind, found.details)}


def _denied(request: Request, ctx: Ctx, db: Session) -> Response:
    """A settings form without a live session or with a wrong CSRF token."""
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request, path="/settings")
    return error_page(request, who, PermissionDenied("this form expired; reload the page"))


def _save(
    request: Request,
    ctx: Ctx,
    db: Session,
    csrf_token: str,
    done: str,
    action: Callable[[Member], object],
    refused: Callable[[ValidationFailed], dict[str, Any]],
) -> Response:
    """One settings form: the session and CSRF token checked, then ``action``; a refusal
    re-renders the settings page (422) with what ``refused`` makes of the error (errors
    under their fields, the input kept), success goes back with the ``done`` note."""
    who = form_member(request, ctx, db, csrf_token)
    if who is None:
        return _denied(request, ctx, db)
    member, csrf = who
    try:
        action(member)
    except ValidationFailed as exc:
        return _settings(request, db, member, csrf, 422, **refused(exc))
    return RedirectResponse(f"/settings?done={done}", status_code=303)


@router.get("/settings", response_model=None)
def settings_page(request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    return _settings(request, db, *who)


@router.post("/settings/profile", response_model=None)
def save_profile(
    request: Request,
    ctx: Ctx,
    db: DB,
    display_name: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    form = {"display_name": display_name, "token_name": ""}
    return _save(
        request,
        ctx,
        db,
        csrf_token,
        "profile",
        lambda member: services.rename(db, member, display_name),
        lambda exc: {"errors": field_errors(exc), "form": form},
    )


@router.post("/settings/password", response_model=None)
def change_password(
    request: Request,
    ctx: Ctx,
    db: DB,
    current_password: str = Form("", max_length=1000),
    new_password: str = Form("", max_length=1000),
    confirm_password: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
) -> Response:

    def change(member: Member) -> None:
        if new_password != confirm_password:
            raise ValidationFailed.field("confirm_password", "does not match the new password")
        services.change_password(
            db,
            ctx.hasher,
            member,
            current=current_password,
            new=new_password,
            keep_session=request.cookies.get(SESSION_COOKIE),
        )

    return _save(
        request,
        ctx,
        db,
        csrf_token,
        "password",
        change,
        lambda exc: {"errors": field_errors(exc)},
    )


@router.post("/settings/tokens", response_model=None)
def create_token(
    request: Request,
    ctx: Ctx,
    db: DB,
    token_name: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    who = form_member(request, ctx, db, csrf_token)
    if who is None:
        return _denied(request, ctx, db)
    member, csrf = who
    form = {"display_name": member.display_name, "token_name": token_name}
    try:
        token, secret = services.create_api_token(db, ctx.clock, member, token_name)
    except ValidationFailed as exc:
        errors = {"token_name": next(iter(field_errors(exc).values()))}
        return _settings(request, db, member, csrf, 422, errors=errors, form=form)
    # Shown once, in this response only: never in a URL, never stored.
    return _settings(request, db, member, csrf, 201, new_token={"name": token.name, "secret": secret})


@router.post("/settings/tokens/{token_id}/revoke", response_model=None)
def revoke_token(
    token_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    csrf_token: str = Form("", max_length=200),
) -> Response:
    who = form_member(request, ctx, db, csrf_token)
    if who is None:
        return _denied(request, ctx, db)
    try:
        services.revoke_api_token(db, ctx.clock, who[0], token_id)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return RedirectResponse("/settings?done=revoked", status_code=303)


@router.post("/settings/payout", response_model=None)
def save_payout(
    request: Request,
    ctx: Ctx,
    db: DB,
    kind: str = Form("", max_length=20),
    sepa_holder: str = Form("", max_length=1000),
    iban: str = Form("", max_length=1000),
    bic: str = Form("", max_length=1000),
    provider: str = Form("", max_length=1000),
    phone: str = Form("", max_length=1000),
    mm_holder: str = Form("", max_length=1000),
    instructions: str = Form("", max_length=2000),
    other_holder: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    """Set the member's payout method; each error goes under the field it names."""
    sent = {
        "kind": kind, "sepa_holder": sepa_holder, "iban": iban, "bic": bic,
        "provider": provider, "phone": phone, "mm_holder": mm_holder,
        "instructions": instructions, "other_holder": other_holder,
    }  # fmt: skip
    fields = PAYOUT_FIELDS.get(kind, {})
    # The service names its fields (holder, iban, ...); the form's inputs are per method.
    back = {service: name for name, service in fields.items()}

    def save(member: Member) -> None:
        if not fields:
            raise ValidationFailed.field("kind", "choose SEPA, mobile money or other")
        raw = {service: sent[name] for name, service in fields.items()}
        payouts.set_method(db, ctx.clock, member, kind, raw)

    return _save(
        request,
        ctx,
        db,
        csrf_token,
        "payout#payout-h",
        save,
        lambda exc: {
            "errors": {back.get(f, f): m for f, m in field_errors(exc).items()},
            "payout_form": sent,
        },
    )
