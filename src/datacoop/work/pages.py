"""HTML pages of the work loop, from the member's side: the dashboard of available projects,
the task page, and "my work" (submissions, their status and receipts).

The task page is a shell: ``static/work.js`` leases, shows and submits items through the JSON
API (``work/routes.py``) with the session cookie and the ``X-CSRF-Token`` header. Receipts are
verified in the browser by ``static/receipts.js`` (SHA-256 and Ed25519 via WebCrypto).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError, PermissionDenied, ValidationFailed
from datacoop.members.models import Member
from datacoop.pay import appeals, reviews, statements
from datacoop.pay import services as pay
from datacoop.payouts import services as payouts
from datacoop.projects import rules as project_rules
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.web.charts import bar_chart
from datacoop.web.deps import DB, AppContext, Ctx
from datacoop.web.formatting import format_money
from datacoop.web.rendering import (
    error_page,
    field_errors,
    form_member,
    page_member,
    render,
    to_login,
)
from datacoop.work import history
from datacoop.work import services as work

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EARNINGS_DAYS = 30
TASK_TYPE_NAMES = {
    "single_choice": "Single choice",
    "multi_label": "Multi-label",
    "pairwise": "Pairwise comparison",
    "rating": "Rating scale",
    "free_text": "Free text",
    "span": "Span selection",
}


def offer(project: Project, summary: reviews.RequesterSummary | None = None) -> dict[str, Any]:
    """What a member sees before accepting work: pay, time, the hourly rate it implies, and
    the requester's review aggregates (``pay.reviews``; None when the owner is no requester)."""
    return {
        "project": project,
        "task_type_name": TASK_TYPE_NAMES.get(project.task_type, project.task_type),
        "hourly": project_rules.implied_hourly(project.pay_per_item, project.estimated_seconds),
        "reviews": summary,
    }


def _summaries(db: Session, ctx: Any, owners: set[int]) -> dict[int, reviews.RequesterSummary]:
    """One review summary per requester on the page, all in one call (a fixed number of
    statements); a steward's project has no requester to review and is left out."""
    return reviews.summaries(db, ctx.clock, owners)


@router.get("/dashboard", response_model=None)
def dashboard(
    request: Request, ctx: Ctx, db: DB, after: int = Query(0, ge=0, le=2**62)
) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    return dashboard_page(request, ctx, db, who, after)


def dashboard_page(
    request: Request,
    ctx: AppContext,
    db: Session,
    who: tuple[Member, str],
    after: int = 0,
    status: int = 200,
    review: dict[str, Any] | None = None,
) -> Response:
    """The dashboard; ``review`` (``requester_id``, the sent ``values`` and field
    ``errors``) re-renders a refused review form with the input kept."""
    member, csrf = who
    rows = projects.list_projects(db, member, mine=False, after=after, limit=PAGE_SIZE)
    summaries = _summaries(db, ctx, {p.owner_id for p in rows})
    worked = {t.project_id for t in history.totals_by_project(db, member)}
    worked_for = {p.owner_id for p in history.projects_by_id(db, worked).values()}
    reviewable = {o for o in worked_for if o in summaries}
    mine = reviews.own_reviews(db, member, reviewable)
    own = {o: mine.get(o) for o in reviewable}
    return render(
        request,
        "dashboard.html",
        status,
        member=member,
        csrf_token=csrf,
        offers=[offer(p, summaries.get(p.owner_id)) for p in rows],
        dimensions=reviews.DIMENSIONS,
        own_reviews=own,
        reviewed=request.query_params.get("reviewed"),
        review=review or {},
        next_after=rows[-1].id if len(rows) == PAGE_SIZE else None,
        after=after,
    )


@router.get("/projects/{project_id}/work", response_model=None)
def work_page(project_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        project = projects.get_project(db, project_id)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return render(
        request,
        "work.html",
        member=member,
        csrf_token=csrf,
        project=project,
        offer=offer(project),
        instructions=projects.current_instructions(db, project).text,
    )


def _my_work(
    request: Request,
    ctx: Ctx,
    db: Session,
    who: tuple[Member, str],
    after: int,
    status: int = 200,
    appeal_error: tuple[int, str] | None = None,
) -> Response:
    member, csrf = who
    rows = work.list_submissions(db, member, after=after, limit=PAGE_SIZE)
    return render(
        request,
        "my_work.html",
        status,
        member=member,
        csrf_token=csrf,
        submissions=rows,
        projects=history.projects_by_id(db, {s.project_id for s in rows}),
        rejections={r.submission_id: r for r in appeals.rejections_of(db, member)},
        now=ctx.clock.now(),
        can_appeal=True,
        appeal_error=appeal_error,
        next_after=rows[-1].id if len(rows) == PAGE_SIZE else None,
        after=after,
    )


@router.get("/work", response_model=None)
def my_work(
    request: Request, ctx: Ctx, db: DB, after: int = Query(0, ge=0, le=2**62)
) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    return _my_work(request, ctx, db, who, after)


@router.post("/work/rejections/{rejection_id}/appeal", response_model=None)
def appeal(
    rejection_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    statement: str = Form("", max_length=10_000),
    after: int = Form(0, ge=0, le=2**62),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    """The member appeals a rejection of their work, within the appeal window."""
    who = form_member(request, ctx, db, csrf_token)
    if who is None:
        who = page_member(request, ctx, db)
        if who is None:
            return to_login(request, path="/work")
        return error_page(request, who, PermissionDenied("this form expired; reload the page"))
    try:
        appeals.appeal(db, ctx.clock, who[0], rejection_id, statement=statement)
    except ValidationFailed as exc:
        message = next(iter(field_errors(exc).values()))
        return _my_work(request, ctx, db, who, after, 422, (rejection_id, message))
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return RedirectResponse(f"/work?after={after}#rejection-{rejection_id}", status_code=303)


@router.get("/work/submissions/{submission_id}", response_model=None)
def submission_page(submission_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        submission = work.get_submission(db, member, submission_id)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    owner = member if submission.member_id == member.id else db.get(Member, submission.member_id)
    assert owner is not None
    rejection = next(
        (r for r in appeals.rejections_of(db, owner) if r.submission_id == submission.id), None
    )
    return render(
        request,
        "submission.html",
        member=member,
        csrf_token=csrf,
        s=submission,
        r=rejection,
        now=ctx.clock.now(),
        after=0,
        appeal_error=None,
        can_appeal=owner is member,
        project=projects.get_project(db, submission.project_id),
    )


def _money_in(currency: str, amount: int) -> str:
    return format_money(amount, currency)


@router.get("/earnings", response_model=None)
def earnings(request: Request, ctx: Ctx, db: DB) -> Response:
    """Settled pay per project from the member's earnings statements (piece pay, floor
    top-ups, effective hourly next to the floor), payouts, and the piece-rate value of
    accepted work per project and per day (the last 30 UTC days) as a server-drawn chart."""
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    today = ctx.clock.now().date()
    first = today - timedelta(days=EARNINGS_DAYS - 1)
    days = history.totals_by_day(db, member, since=ctx.clock.now() - timedelta(days=EARNINGS_DAYS))
    days = [d for d in days if d.day >= first]
    charts = []
    for n, currency in enumerate(sorted({d.currency for d in days})):
        value = {d.day: d.piece_rate_total for d in days if d.currency == currency}
        series = [
            ((first + timedelta(days=i)).strftime("%b %d"), value.get(first + timedelta(days=i), 0))
            for i in range(EARNINGS_DAYS)
        ]
        charts.append(
            {
                "currency": currency,
                "svg": bar_chart(
                    series,
                    title=f"Piece-rate value per day in {currency}, last {EARNINGS_DAYS} days",
                    value_text=partial(_money_in, currency),
                    chart_id=f"chart-{n}",
                ),
            }
        )
    totals = history.totals_by_project(db, member)
    by_id = history.projects_by_id(db, {t.project_id for t in totals})
    # All statements at once: a constant number of queries however many projects.
    all_statements = statements.earnings_all(
        db, ctx.clock, member, [by_id[t.project_id] for t in totals]
    )
    settled = [(t.title, s) for t, s in zip(totals, all_statements, strict=True)]
    return render(
        request,
        "earnings.html",
        member=member,
        csrf_token=csrf,
        statements=settled,
        taken_back=any(s.withheld or s.clawed_back for _, s in settled),
        policy=pay.current_policy(db),
        payouts=payouts.payouts_of(db, member),
        totals=totals,
        days=[d for d in reversed(days)],
        charts=charts,
        window=EARNINGS_DAYS,
    )
