"""HTML forms of pay: a member reviews a requester; a requester funds, launches, settles,
refunds and closes a project from its cost page. Each handler: who is asking and the CSRF
token, one service call (``pay.reviews``, ``pay.services``, ``pay.settlement``,
``pay.refunds``), then post/redirect/get, or the page again with the error next to its
field."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError, PermissionDenied, ValidationFailed
from datacoop.members.models import Member
from datacoop.pay import refunds, reviews, settlement, statements
from datacoop.pay import services as pay
from datacoop.pay.money import Money
from datacoop.projects import rules as project_rules
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.web.deps import DB, AppContext, Ctx
from datacoop.web.errors import status_for
from datacoop.web.rendering import (
    error_page,
    field_errors,
    form_member,
    page_member,
    render,
    to_login,
)
from datacoop.work.pages import dashboard_page

router = APIRouter(include_in_schema=False)
COST_DONE = {
    "funded": "The deposit was added to the project's escrow.",
    "launched": "The project is launched: members can take its tasks.",
    "settled": "Settled: accepted work is paid, and everyone is topped up to the floor.",
    "closed": "The project is closed: it hands out no new tasks. Closing is final.",
    "refunded": "Settled, then the unspent escrow was refunded to you.",
}


def _who(request: Request, ctx: AppContext, db: Session, csrf: str, back: str) -> (
    tuple[Member, str] | Response
):
    who = form_member(request, ctx, db, csrf)
    if who is not None:
        return who
    seen = page_member(request, ctx, db)
    if seen is None:
        return to_login(request, path=back)
    return error_page(request, seen, PermissionDenied("this form expired; reload the page"))


@router.post("/requesters/{requester_id}/review", response_model=None)
def review(
    requester_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    communicativity: str = Form("", max_length=20),
    generosity: str = Form("", max_length=20),
    fairness: str = Form("", max_length=20),
    promptness: str = Form("", max_length=20),
    after: int = Form(0, ge=0, le=2**62),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    """Add or edit the member's review of a requester they worked for (1-5 on each). A
    refused rating re-renders the dashboard with the input kept and the error under it."""
    who = _who(request, ctx, db, csrf_token, "/dashboard")
    if isinstance(who, Response):
        return who
    sent = {
        "communicativity": communicativity,
        "generosity": generosity,
        "fairness": fairness,
        "promptness": promptness,
    }
    # The service names every bad rating; a text that is no whole number is one of them.
    ratings = {k: int(v) if v.strip().isdigit() else v for k, v in sent.items()}
    try:
        reviews.review(db, ctx.clock, who[0], requester_id, ratings)
    except ValidationFailed as exc:
        kept = {"requester_id": requester_id, "values": sent, "errors": field_errors(exc)}
        return dashboard_page(request, ctx, db, who, after, 422, kept)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return RedirectResponse(f"/dashboard?reviewed={requester_id}", status_code=303)


# -- the requester's cost page ---------------------------------------------------------------


def cost_page(
    request: Request,
    ctx: AppContext,
    db: Session,
    who: tuple[Member, str],
    project: Project,
    status: int = 200,
    errors: dict[str, str] | None = None,
    amount: str = "",
) -> Response:
    """The cost statement with its fund, launch and settle forms."""
    member, csrf = who
    return render(
        request,
        "project_cost.html",
        status,
        member=member,
        csrf_token=csrf,
        project=project,
        statement=statements.cost(db, ctx.clock, member, project),
        funding=pay.funding_status(db, project),
        hourly=project_rules.implied_hourly(project.pay_per_item, project.estimated_seconds),
        done=COST_DONE.get(request.query_params.get("done", "")),
        errors=errors or {},
        amount=amount,
    )


def _cost_action(
    request: Request, ctx: AppContext, db: Session, project_id: int, csrf: str, action: str,
    amount: str = "",
) -> Response:  # fmt: skip
    back = f"/projects/{project_id}/cost"
    who = _who(request, ctx, db, csrf, back)
    if isinstance(who, Response):
        return who
    member = who[0]
    try:
        project = projects.get_project(db, project_id)
        project_rules.require_manage(member, project)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    try:
        with db.begin_nested():  # a refused action leaves nothing half-done in the unit of work
            if action == "funded":
                money = Money.parse(amount.strip(), project.currency)
                pay.fund(db, ctx.clock, member, project, money)
            elif action == "launched":
                pay.launch(db, ctx.clock, member, project)
            elif action == "closed":
                pay.close(db, ctx.clock, member, project)
            elif action == "refunded":
                refunds.refund(db, ctx.clock, member, project)
            else:
                settlement.settle(db, ctx.clock, member, project)
    except DatacoopError as exc:
        errors = field_errors(exc)
        if action == "funded" and "_form" in errors:
            errors = {"amount": errors["_form"]}
        elif action != "funded":
            errors = {action: exc.message}
        return cost_page(request, ctx, db, who, project, status_for(exc), errors, amount)
    return RedirectResponse(f"{back}?done={action}", status_code=303)


@router.post("/projects/{project_id}/cost/fund", response_model=None)
def fund(
    project_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    amount: str = Form("", max_length=40),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    return _cost_action(request, ctx, db, project_id, csrf_token, "funded", amount)


@router.post("/projects/{project_id}/cost/launch", response_model=None)
def launch(
    project_id: int, request: Request, ctx: Ctx, db: DB, csrf_token: str = Form("", max_length=200)
) -> Response:
    return _cost_action(request, ctx, db, project_id, csrf_token, "launched")


@router.post("/projects/{project_id}/cost/settle", response_model=None)
def settle(
    project_id: int, request: Request, ctx: Ctx, db: DB, csrf_token: str = Form("", max_length=200)
) -> Response:
    return _cost_action(request, ctx, db, project_id, csrf_token, "settled")


@router.post("/projects/{project_id}/cost/close", response_model=None)
def close(
    project_id: int, request: Request, ctx: Ctx, db: DB, csrf_token: str = Form("", max_length=200)
) -> Response:
    return _cost_action(request, ctx, db, project_id, csrf_token, "closed")


@router.post("/projects/{project_id}/cost/refund", response_model=None)
def refund(
    project_id: int, request: Request, ctx: Ctx, db: DB, csrf_token: str = Form("", max_length=200)
) -> Response:
    return _cost_action(request, ctx, db, project_id, csrf_token, "refunded")
