"""JSON API for projects, their instructions, item import and export."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from datacoop.errors import NotFound, PayloadTooLarge, ValidationFailed
from datacoop.projects import importing, rules, services
from datacoop.projects.models import Project
from datacoop.projects.schemas import (
    SPEC_EXAMPLE,
    ImportOut,
    InstructionOut,
    ItemOut,
    ItemPage,
    ProjectOut,
    ProjectPage,
    ProjectPatch,
)
from datacoop.quality import services as quality
from datacoop.web.deps import DB, Ctx, CurrentMember
from datacoop.work import export

router = APIRouter(tags=["projects"])


def project_out(db: Any, p: Project) -> ProjectOut:
    return ProjectOut(
        id=p.id,
        title=p.title,
        task_type=p.task_type,
        config=p.config,
        overlap=p.overlap,
        lease_seconds=p.lease_seconds,
        pay_per_item=p.pay_per_item,
        estimated_seconds=p.estimated_seconds,
        implied_hourly=rules.implied_hourly(p.pay_per_item, p.estimated_seconds),
        currency=p.currency,
        sensitivity=p.sensitivity.value,
        dynamic_overlap=p.dynamic_overlap,
        instructions=services.current_instructions(db, p).text,
        instructions_version=p.instructions_version,
        created_at=p.created_at,
    )


@router.post("/projects", status_code=201, response_model=ProjectOut)
def create_project(
    member: CurrentMember,
    ctx: Ctx,
    db: DB,
    spec: dict[str, Any] = Body(openapi_examples={"single_choice": {"value": SPEC_EXAMPLE}}),
) -> ProjectOut:
    """Create a project from a spec (requesters and stewards). Task-type fields such as
    ``labels`` sit at the top level; see docs/projects.md."""
    return project_out(db, services.create_project(db, ctx.clock, member, spec))


@router.get("/projects", response_model=ProjectPage)
def list_projects(
    member: CurrentMember,
    db: DB,
    mine: bool = False,
    after: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> ProjectPage:
    """Open projects to work on; ``mine=true`` lists the projects you own."""
    rows = services.list_projects(db, member, mine=mine, after=after, limit=limit)
    return ProjectPage(
        data=[project_out(db, p) for p in rows],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: int, member: CurrentMember, db: DB) -> ProjectOut:
    return project_out(db, services.get_project(db, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def update_project(
    project_id: int, body: ProjectPatch, member: CurrentMember, ctx: Ctx, db: DB
) -> ProjectOut:
    """Change the title or instructions; each instructions change is kept as a new version."""
    project = services.get_managed_project(db, member, project_id)
    services.update_project(
        db, ctx.clock, member, project, title=body.title, instructions=body.instructions
    )
    return project_out(db, project)


@router.get("/projects/{project_id}/instructions", response_model=list[InstructionOut])
def instruction_history(project_id: int, member: CurrentMember, db: DB) -> list[InstructionOut]:
    project = services.get_project(db, project_id)
    return [
        InstructionOut(version=v.version, text=v.text, created_at=v.created_at)
        for v in services.instruction_history(db, project)
    ]


async def _spool_body(request: Request, limit: int) -> tuple[Any, str | None, str | None]:
    """The upload as a file object (spooled to disk past 8 MB), its filename and type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationFailed.field("file", "send the items as a form field named 'file'")
        size = upload.size or 0
        if size > limit:
            raise PayloadTooLarge(f"the file is over the {limit} byte limit")
        return upload.file, upload.filename, upload.content_type
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - caller closes
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            spool.close()
            raise PayloadTooLarge(f"the file is over the {limit} byte limit")
        spool.write(chunk)
    spool.seek(0)
    return spool, request.query_params.get("filename"), content_type or None


@router.post(
    "/projects/{project_id}/items",
    status_code=201,
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def import_items(
    project_id: int,
    request: Request,
    member: CurrentMember,
    ctx: Ctx,
    db: DB,
    format: str | None = Query(None, description="csv, jsonl or labelstudio; guessed if absent"),
) -> ImportOut:
    """Import items from CSV, JSONL or Label Studio JSON. All or nothing: the first bad row
    fails the whole import with its line number, and nothing is kept."""
    project = await run_in_threadpool(services.get_managed_project, db, member, project_id)
    stream, filename, content_type = await _spool_body(request, ctx.settings.max_import_bytes)
    try:
        head = stream.read(512)
        stream.seek(0)
        fmt = format or importing.detect_format(filename, content_type, head)
        record = await run_in_threadpool(
            services.import_items,
            db,
            ctx.clock,
            member,
            project,
            stream,
            fmt=fmt,
            filename=filename,
        )
    finally:
        stream.close()
    return ImportOut(
        id=record.id,
        format=record.format,
        filename=record.filename,
        item_count=record.item_count,
        sha256=record.sha256,
        created_at=record.created_at,
    )


@router.get("/projects/{project_id}/items", response_model=ItemPage)
def list_items(
    project_id: int,
    member: CurrentMember,
    db: DB,
    after: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> ItemPage:
    """The project's items, gold answers included (requester and stewards only)."""
    project = services.get_managed_project(db, member, project_id)
    rows = services.list_items(db, project, after=after, limit=limit)
    return ItemPage(
        data=[
            ItemOut(
                id=i.id,
                external_id=i.external_id,
                data=i.data,
                is_gold=i.is_gold,
                gold=i.gold,
                answer_count=i.answer_count,
            )
            for i in rows
        ],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/projects/{project_id}/export")
def export_project(
    project_id: int,
    member: CurrentMember,
    ctx: Ctx,
    db: DB,
    format: str = Query("jsonl", pattern="^(jsonl|csv)$"),
    aggregation: int | None = Query(
        None, ge=1, description="Aggregation run whose labels to include (default: newest)."
    ),
) -> StreamingResponse:
    """Download every item with its answers (workers as per-project contributor ids)."""
    project = services.get_managed_project(db, member, project_id)
    project_key = project.id
    if aggregation is not None:  # check before streaming starts: errors need a status line
        run, run_project = quality.get_run(db, member, aggregation)
        if run_project.id != project.id:
            raise NotFound(f"no aggregation run {aggregation} in this project")

    def body() -> Iterator[str]:
        # The request's session closes before streaming starts; the export reads on its own.
        with ctx.sessions() as session:
            fresh = session.get(Project, project_key)
            assert fresh is not None  # checked above; projects are never deleted
            yield from export.export_lines(session, fresh, format, aggregation=aggregation)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="project-{project_key}.{format}"'}
    return StreamingResponse(body(), media_type=media, headers=headers)
