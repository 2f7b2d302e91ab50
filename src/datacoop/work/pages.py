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

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from datacoop.errors import DatacoopError
from datacoop.projects import rules as project_rules
from datacoop.projects import services as projects
from datacoop.projects.models import Project
from datacoop.web.charts import bar_chart
from datacoop.web.deps import DB, Ctx
from datacoop.web.formatting import format_money
from datacoop.web.rendering import error_page, page_member, render, to_login
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


def offer(project: Project) -> dict[str, Any]:
    """What a member sees before accepting work: pay, time, the hourly rate it implies."""
    return {
        "project": project,
        "task_type_name": TASK_TYPE_NAMES.get(project.task_type, project.task_type),
        "hourly": project_rules.implied_hourly(project.pay_per_item, project.estimated_seconds),
        # Requester reviews arrive with issue 7; until then every requester has none.
        "reviews": None,
    }


@router.get("/dashboard", response_model=None)
def dashboard(
    request: Request, ctx: Ctx, db: DB, after: int = Query(0, ge=0, le=2**62)
) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    rows = projects.list_projects(db, member, mine=False, after=after, limit=PAGE_SIZE)
    return render(
        request,
        "dashboard.html",
        member=member,
        csrf_token=csrf,
        offers=[offer(p) for p in rows],
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


@router.get("/work", response_model=None)
def my_work(
    request: Request, ctx: Ctx, db: DB, after: int = Query(0, ge=0, le=2**62)
) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    rows = work.list_submissions(db, member, after=after, limit=PAGE_SIZE)
    return render(
        request,
        "my_work.html",
        member=member,
        csrf_token=csrf,
        submissions=rows,
        projects=history.projects_by_id(db, {s.project_id for s in rows}),
        next_after=rows[-1].id if len(rows) == PAGE_SIZE else None,
        after=after,
    )


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
    return render(
        request,
        "submission.html",
        member=member,
        csrf_token=csrf,
        s=submission,
        project=projects.get_project(db, submission.project_id),
    )


def _money_in(currency: str, amount: int) -> str:
    return format_money(amount, currency)


@router.get("/earnings", response_model=None)
def earnings(request: Request, ctx: Ctx, db: DB) -> Response:
    """Piece-rate value of accepted work per project and per day (the last 30 UTC days).

    Settled pay, floor top-ups, effective hourly pay against the floor and payouts come from
    ``datacoop.pay`` once settlement lands; the page has labelled places for them."""
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
    return render(
        request,
        "earnings.html",
        member=member,
        csrf_token=csrf,
        totals=history.totals_by_project(db, member),
        days=[d for d in reversed(days)],
        charts=charts,
        window=EARNINGS_DAYS,
    )
