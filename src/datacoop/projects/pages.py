"""The requester's pages: create a project, upload items, progress, export, cost statement.

Each handler is: the page session (or a redirect to log in), load or 404, check the named rule
(``rules.require_manage``, ``member_rules.require_can_create_projects``), call one service,
render. Forms re-render with the input kept and every error next to its field.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from datacoop.errors import DatacoopError, ImportFailed, UnsupportedMediaType, ValidationFailed
from datacoop.members import rules as member_rules
from datacoop.members.models import Member, Role
from datacoop.projects import forms, importing, rules
from datacoop.projects import progress as report
from datacoop.projects import services as projects
from datacoop.projects.models import Project, Sensitivity
from datacoop.projects.tasktypes import TASK_TYPES
from datacoop.web.deps import DB, Ctx
from datacoop.web.formatting import currency_exponent
from datacoop.web.forms import PostedForm
from datacoop.web.rendering import error_page, page_member, render, to_login
from datacoop.work import export
from datacoop.work import services as work

router = APIRouter(include_in_schema=False)
CSRF_EXPIRED = "Your form expired. Please submit it again."


def _csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and secrets.compare_digest(sent, expected)


@lru_cache(maxsize=1)
def currency_choices() -> tuple[tuple[str, str, int], ...]:
    """Every ISO 4217 currency the CLDR knows: (code, English name, decimals). The form's
    script reads the decimals, so its live hourly rate reads as the server's (JPY 0, BHD 3)."""
    from babel.numbers import get_currency_name, list_currencies

    return tuple(
        (code, get_currency_name(code, locale="en"), currency_exponent(code))
        for code in sorted(list_currencies())
    )


def _form_context(values: dict[str, str], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "currencies": currency_choices(),
        "values": {**forms.DEFAULTS, **values},
        "errors": errors,
        "task_types": TASK_TYPES,
        "type_fields": forms.TYPE_FIELDS,
        "sensitivities": [s.value for s in Sensitivity],
        "hourly": forms.implied_hourly_of({**forms.DEFAULTS, **values}),
    }


@router.get("/projects/new", response_model=None)
def new_project_form(request: Request, ctx: Ctx, db: DB) -> Response:
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        member_rules.require_can_create_projects(member)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    return render(
        request, "project_new.html", member=member, csrf_token=csrf, **_form_context({}, {})
    )


@router.post("/projects/new", response_model=None)
def create_project(request: Request, ctx: Ctx, db: DB, form: PostedForm) -> Response:
    """``action=preview`` shows the instructions and the implied hourly rate; ``create``
    creates the project and goes on to the item upload."""
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        member_rules.require_can_create_projects(member)
    except DatacoopError as exc:
        return error_page(request, who, exc)
    values = {k: v for k, v in form.items() if k in forms.DEFAULTS}
    if "allow_tie" not in form:  # an unticked checkbox sends nothing
        values["allow_tie"] = ""

    def again(status: int, errors: dict[str, list[str]], preview: bool = False) -> Response:
        return render(
            request,
            "project_new.html",
            status,
            member=member,
            csrf_token=csrf,
            preview=preview,
            **_form_context(values, errors),
        )

    if not _csrf_ok(form.get("csrf_token", ""), csrf):
        return again(403, {"form": [CSRF_EXPIRED]})
    spec, early = forms.spec_from_form(values)
    if form.get("action") == "preview":
        return again(200, forms.errors_by_field(early), preview=True)
    try:
        if early:  # still check every other field, so all errors show at once
            rules.validate_spec(spec)
            raise ValidationFailed("some numbers are not whole numbers", details=[])
        project = projects.create_project(db, ctx.clock, member, spec)
    except ValidationFailed as exc:
        unreadable = {d["field"] for d in early}
        later = [d for d in exc.details or [] if d["field"] not in unreadable]
        return again(422, forms.errors_by_field(early + later))
    return RedirectResponse(f"/projects/{project.id}/items", status_code=303)


def _managed(
    request: Request, ctx: Ctx, db: Session, project_id: int
) -> tuple[Member, str, Project] | Response:
    """The page session and a project the member manages, or the page to return instead."""
    who = page_member(request, ctx, db)
    if who is None:
        return to_login(request)
    member, csrf = who
    try:
        return member, csrf, projects.get_managed_project(db, member, project_id)
    except DatacoopError as exc:
        return error_page(request, who, exc)


def _imports(db: Session, project: Project) -> list[Any]:
    return projects.list_imports(db, project)


@router.get("/projects/{project_id}/items", response_model=None)
def upload_form(project_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found
    return render(
        request,
        "project_items.html",
        member=member,
        csrf_token=csrf,
        project=project,
        imports=_imports(db, project),
        formats=importing.FORMATS,
        failure=None,
    )


@router.post("/projects/{project_id}/items", response_model=None)
def upload_items(
    project_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    file: UploadFile = File(),
    csrf_token: str = Form("", max_length=200),
    format: str = Form("", max_length=20),
) -> Response:
    """All or nothing: a bad row re-renders the form with its line and reason; no item kept."""
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found

    def again(status: int, failure: dict[str, Any]) -> Response:
        return render(
            request,
            "project_items.html",
            status,
            member=member,
            csrf_token=csrf,
            project=project,
            imports=_imports(db, project),
            formats=importing.FORMATS,
            failure=failure,
        )

    if not _csrf_ok(csrf_token, csrf):
        return again(403, {"message": CSRF_EXPIRED})
    try:
        head = file.file.read(512)
        file.file.seek(0)
        fmt = format or importing.detect_format(file.filename, file.content_type, head)
        record = projects.import_items(
            db, ctx.clock, member, project, file.file, fmt=fmt, filename=file.filename
        )
    except ImportFailed as exc:
        db.rollback()  # nothing of a failed import is kept
        return again(422, {"line": exc.line, "reason": exc.reason, "filename": file.filename})
    except (ValidationFailed, UnsupportedMediaType) as exc:
        db.rollback()
        return again(422, {"message": exc.message, "filename": file.filename})
    return RedirectResponse(
        f"/projects/{project.id}/progress?imported={record.item_count}", status_code=303
    )


@router.get("/projects/{project_id}/progress", response_model=None)
def progress_page(
    project_id: int, request: Request, ctx: Ctx, db: DB, imported: int | None = Query(None)
) -> Response:
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found
    stats = work.progress(db, ctx.clock, project)
    histogram = report.answers_histogram(db, project)
    return render(
        request,
        "progress.html",
        member=member,
        csrf_token=csrf,
        project=project,
        stats=stats,
        histogram=histogram,
        histogram_top=max((n for _, n in histogram), default=0),
        agreement=report.agreement(db, project, stats["answers"]),
        imported=imported,
        hourly=rules.implied_hourly(project.pay_per_item, project.estimated_seconds),
        is_steward=member.role is Role.steward,
    )


@router.get("/projects/{project_id}/export", response_model=None)
def export_download(
    project_id: int,
    request: Request,
    ctx: Ctx,
    db: DB,
    format: str = Query("jsonl", pattern="^(jsonl|csv)$"),
) -> Response:
    """The dataset export as a file download, for the browser session (same bytes as the
    API's ``GET /api/v1/projects/{id}/export``)."""
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    project_key = found[2].id

    def body() -> Iterator[str]:
        # The request's session closes before streaming starts; the export reads on its own.
        with ctx.sessions() as session:
            yield from export.export_lines(session, session.get(Project, project_key), format)  # type: ignore[arg-type]

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="project-{project_key}.{format}"'}
    return StreamingResponse(body(), media_type=media, headers=headers)


@router.get("/projects/{project_id}/cost", response_model=None)
def cost_page(project_id: int, request: Request, ctx: Ctx, db: DB) -> Response:
    """The cost statement from the pay ledger; the estimate alone when pay is not set up."""
    found = _managed(request, ctx, db, project_id)
    if isinstance(found, Response):
        return found
    member, csrf, project = found
    from datacoop.pay import pages as pay_pages

    return pay_pages.cost_page(request, ctx, db, (member, csrf), project)
